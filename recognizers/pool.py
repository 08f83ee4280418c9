"""`analyze_values` on more than one core: helper processes take a share of every batch.

Python runs a worker's recognizers on one core at a time, and the NER model and the recognizers together
cost a few milliseconds per memo. With `text_processes` = N a worker starts N-1 helper processes (fresh
interpreters running `python -m recognizers.pool`, never forks of the worker, which holds Kafka client
threads, and never a re-run of the worker's main module), each with its own analyzer built from the same
settings, sent pickled over its standard input like every request after it. A batch is split: each
helper gets a share sized by how fast it analysed so far, the worker analyses the rest itself meanwhile,
then collects the helpers' findings (entity, span, score, recognizer).

Fail closed: until a helper has loaded its model, and after one fails (it died, it raised, it did not
answer within `timeout`), its share is analysed by the worker itself, so every text is always analysed
once. A failed helper is not used again (one warning, without any text). Texts travel to the helpers over
a local pipe of the same worker on the raw side; nothing is logged.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from presidio_analyzer import RecognizerResult

from deid.settings import Settings

logger = logging.getLogger("deid.recognizers")

Finding = tuple[str, int, int, float, str]
"""(entity type, start, end, score, recognizer name): what a helper sends back per finding."""
AnalyzeValues = Callable[..., list[list[RecognizerResult]]]
_NAME = RecognizerResult.RECOGNIZER_NAME_KEY
MIN_SHARE = 8
"""A helper gets no share of a batch smaller than this many texts per process (not worth the round trip)."""


def _serve() -> None:
    """A helper process: read the settings, build the analyzer, say ready, answer batches until stdin closes."""
    requests = Connection(os.dup(0), writable=False)
    conn = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # anything printed goes to stderr, never into the answers
    # start-up: the helper loads spaCy and Presidio itself, once.
    from recognizers.analyzer import build_analyzer
    from recognizers.batch import analyze_values

    try:
        analyzer = build_analyzer(requests.recv())
        analyzer.analyze("warm up", language="en")
        conn.send(("ready", None))
    except Exception as exc:  # reported to the worker by type only
        conn.send(("failed", type(exc).__name__))
        return
    while True:
        try:
            texts, options = requests.recv()
        except (EOFError, OSError):
            return
        try:
            began = time.perf_counter()
            results = analyze_values(analyzer, texts, **options)
            findings = [[_finding(r) for r in found] for found in results]
            conn.send(("ok", (findings, time.perf_counter() - began)))
        except Exception as exc:  # the worker analyses this share itself
            conn.send(("failed", type(exc).__name__))


def _finding(result: RecognizerResult) -> Finding:
    name = str((result.recognition_metadata or {}).get(_NAME, ""))
    return (result.entity_type, result.start, result.end, float(result.score), name)


def _result(finding: Finding) -> RecognizerResult:
    entity, start, end, score, name = finding
    return RecognizerResult(entity, start, end, score, recognition_metadata={_NAME: name})


class _Helper:
    def __init__(self, settings: Settings, index: int) -> None:
        self.name = f"text helper {index}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "recognizers.pool"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.conn = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.ready = False
        self.failed = False
        self.rate = 0.0  # texts per second, once measured

    def usable(self) -> bool:
        if self.failed:
            return False
        if not self.ready and self.conn.poll():
            kind, detail = self._receive()
            self.ready = kind == "ready"
            if not self.ready:
                self._fail(f"could not start ({detail})")
        return self.ready

    def _receive(self) -> tuple[str, Any]:
        try:
            return self.conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            return "failed", "the process ended"

    def _fail(self, why: str) -> None:
        self.failed = True
        logger.warning("anonymize_text %s %s: the worker analyses its share itself", self.name, why)
        self.close()

    def send(self, message: Any) -> bool:
        try:
            self.requests.send(message)
            return True
        except (OSError, ValueError):
            self._fail("is unreachable")
            return False

    def wait_ready(self, timeout: float) -> None:
        if not self.failed and not self.ready and not self.conn.poll(timeout):
            self._fail(f"did not load within {timeout:.0f}s")
        self.usable()

    def collect(self, timeout: float) -> list[list[RecognizerResult]] | None:
        if not self.conn.poll(timeout):
            self._fail(f"did not answer within {timeout:.0f}s")
            return None
        kind, payload = self._receive()
        if kind != "ok":
            self._fail(f"failed ({payload})")
            return None
        findings, seconds = payload
        self.rate = _rate(self.rate, len(findings), seconds)
        return [[_result(f) for f in found] for found in findings]

    def close(self) -> None:
        for conn in (self.requests, self.conn):
            if not conn.closed:
                conn.close()  # the helper reads end of input and exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class AnalysisPool:
    """`analyze_values` with the work of a batch shared between the calling process and N-1 helpers."""

    def __init__(
        self, settings: Settings, processes: int, analyze_values: AnalyzeValues, timeout: float = 300.0
    ) -> None:
        self._settings = settings
        self._local = analyze_values
        self._timeout = timeout
        self._helpers = [_Helper(settings, i + 1) for i in range(max(0, processes - 1))]
        for helper in self._helpers:
            helper.send(settings)
        self.local_rate = 0.0
        self.shared = 0  # texts analysed by helpers

    def __call__(self, analyzer: Any, values: Sequence[str], **options: Any) -> list[list[RecognizerResult]]:
        texts = [str(value) for value in values]
        helpers = [helper for helper in self._helpers if helper.usable()]
        if not helpers or len(texts) < MIN_SHARE * (len(helpers) + 1):
            return self._local(analyzer, texts, **options)
        shares = self._shares(len(texts), helpers)
        sent: list[tuple[_Helper, int, int]] = []
        start = 0
        for helper, size in zip(helpers, shares, strict=True):
            if helper.send((texts[start : start + size], options)):
                sent.append((helper, start, start + size))
            start += size
        local_start = start
        began = time.perf_counter()
        out: list[list[RecognizerResult] | None] = [None] * len(texts)
        out[local_start:] = self._local(analyzer, texts[local_start:], **options)
        self.local_rate = _rate(self.local_rate, len(texts) - local_start, time.perf_counter() - began)
        for helper, low, high in sent:
            got = helper.collect(self._timeout)
            if got is not None and len(got) == high - low:
                out[low:high] = got
                self.shared += high - low
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:  # a helper's share it did not deliver: analysed here (never passed through)
            for i, found in zip(missing, self._local(analyzer, [texts[i] for i in missing], **options), strict=True):
                out[i] = found
        return [found if found is not None else [] for found in out]

    def _shares(self, count: int, helpers: list[_Helper]) -> list[int]:
        """Each helper's share, in proportion to measured speeds (equal until measured); the rest is local."""
        rates = [helper.rate for helper in helpers] + [self.local_rate]
        if not all(rates):
            rates = [1.0] * len(rates)
        total = sum(rates)
        return [int(count * rate / total) for rate in rates[:-1]]

    def wait_ready(self, timeout: float = 120.0) -> int:
        """Wait for the helpers to load their models (the worker loads its own meanwhile); how many are ready."""
        deadline = time.monotonic() + timeout
        for helper in self._helpers:
            helper.wait_ready(max(0.0, deadline - time.monotonic()))
        return sum(helper.ready for helper in self._helpers)

    def close(self) -> None:
        for helper in self._helpers:
            helper.close()


def _rate(previous: float, count: int, seconds: float) -> float:
    current = count / seconds if seconds > 0 else 0.0
    return current if not previous else 0.5 * previous + 0.5 * current


if __name__ == "__main__":
    _serve()
