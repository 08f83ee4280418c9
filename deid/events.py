"""What identifies one raw event across topics: the event id header.

Every event `deid produce` writes carries a stable id in the Kafka header `event_id` (UTF-8 bytes).
Pipelines copy it to the anonymised record, so loss and duplication can be counted downstream.
Generated events: `gen:<domain>:<seed>:<sequence>` (the same seed gives the same ids);
replayed file lines: `file:<first 16 hex digits of the file's SHA-256>:<line number>`.
"""

from __future__ import annotations

from collections.abc import Sequence

EVENT_ID_HEADER = "event_id"


def event_id_of(headers: Sequence[tuple[str, bytes | None]] | None) -> str | None:
    """The event id in a message's headers (as `Message.headers()` returns them), or None."""
    for name, value in headers or ():
        if name == EVENT_ID_HEADER and value is not None:
            return value.decode("utf-8", errors="replace")
    return None
