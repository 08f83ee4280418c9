"""Process targets for keystore concurrency tests: a small module, so spawned children start fast."""

from __future__ import annotations

from typing import Any

from deid.settings import Settings
from pipelines.keys import open_keystore


def create_subject_keys(
    settings: dict[str, Any], scope: str, subjects: list[str], bulk: bool, barrier: Any, results: Any
) -> None:
    """Open the keystore, wait for the others, then create the same subjects' keys (in bulk or one by one)."""
    keystore = open_keystore(Settings(**settings))
    barrier.wait()  # every process asks for the same new subjects at the same moment
    keys = keystore.subject_keys(scope, subjects) if bulk else {s: keystore.subject_key(scope, s) for s in subjects}
    results.put({s: k.key_id for s, k in keys.items()})
    keystore.close()
