"""How many records a worker's next batch may take.

A batch carries a fixed cost (a flush or a transaction commit waits a broker round trip, a few tens of ms)
and a cost per record that differs a thousandfold between domains (an encrypted id: microseconds; a memo
through the NER model: milliseconds). One record count cannot suit both: 5,000 channel events are a
tenth of a second of work, while 5,000 memos held a transaction (and every record's latency) open for
half a minute. `BatchSizer` aims each batch at `target_seconds` of work at the recent cost per
record (a moving average over batches), between `floor` and `ceiling` records. Under light load batches
stay small anyway (the worker takes what has arrived), so this only shapes a backlog.
"""

from __future__ import annotations

from dataclasses import dataclass

SMOOTHING = 0.3
"""Weight of the latest batch in the moving average of seconds per record."""


@dataclass
class BatchSizer:
    ceiling: int
    target_seconds: float = 0.5
    floor: int = 50
    per_record: float | None = None
    """Seconds per record of recent batches (None until a batch was measured)."""

    def next_size(self) -> int:
        if self.per_record is None or self.target_seconds <= 0:
            return self.ceiling if self.target_seconds <= 0 else min(self.ceiling, 1000)
        fits = int(self.target_seconds / max(self.per_record, 1e-9))
        return max(min(self.floor, self.ceiling), min(self.ceiling, fits))

    def observe(self, records: int, seconds: float) -> None:
        """One batch of `records` took `seconds`, from consumed to committed."""
        if records <= 0 or seconds <= 0:
            return
        cost = seconds / records
        self.per_record = cost if self.per_record is None else SMOOTHING * cost + (1 - SMOOTHING) * self.per_record
