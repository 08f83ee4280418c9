"""Memo generation depends on the seed only, never on PYTHONHASHSEED (issue 24 item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIGEST = (
    "import hashlib, json\n"
    "from producers.memo import labelled_memos\n"
    "memos = labelled_memos(2000, 7)\n"
    "print(hashlib.sha256(json.dumps(memos).encode()).hexdigest(), len(memos))\n"
)


def _digest(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", DIGEST], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_memos_are_byte_identical_across_hash_seeds() -> None:
    first, second = _digest("1"), _digest("4242")
    assert first.endswith(" 2000")
    assert first == second
