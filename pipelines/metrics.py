"""Prometheus metrics of a worker, served as text exposition (format 0.0.4) on 127.0.0.1.

Labels are only domain, topic, partition, purpose and DLQ error class: names, never values or keys.

    deid_pipeline_records_in_total{domain}                       raw records consumed and committed
    deid_pipeline_records_out_total{domain,topic}                records written per output topic
    deid_pipeline_dlq_total{domain,error_class}                  records sent to the DLQ
    deid_pipeline_purpose_skipped_total{domain,purpose}          rows a purpose's consent level left out
    deid_pipeline_uncovered_fields{domain}                       field paths seen that no rule covers
    deid_pipeline_policy_version{domain}                         the policy version running
    deid_pipeline_consumer_lag{domain,partition}                 high watermark - next offset, per partition
    deid_pipeline_batch_seconds{domain} (histogram)              time per committed batch
    deid_pipeline_risk_min_k{domain}                             smallest equivalence class in the risk window
    deid_pipeline_risk_below_target_ratio{domain}                share of window records in classes below target k
    deid_pipeline_risk_prosecutor{domain}                        max re-identification probability (1 / min k)
    deid_pipeline_risk_window_records{domain}                    records in the risk window
    deid_pipeline_risk_classes{domain,size}                      equivalence classes per size bucket (1, 2, 3-4, …)
    deid_pipeline_k_suppressed_total{domain,topic}               quasi-identifiers nulled (k_anonymity: suppress)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deid.errors import ConfigError
from pipelines.risk import RiskReport

BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    items = labels + extra
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in items) + "}" if items else ""


class _Family:
    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name, self.kind, self.help = name, kind, help_text
        self.values: dict[Labels, float] = {}

    def lines(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class _Histogram(_Family):
    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        super().__init__(name, "histogram", help_text)
        self.buckets = buckets
        self.series: dict[Labels, list[float]] = {}  # bucket counts..., sum, count

    def observe(self, labels: Labels, value: float) -> None:
        series = self.series.setdefault(labels, [0.0] * (len(self.buckets) + 2))
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                series[index] += 1
        series[-2] += value
        series[-1] += 1

    def lines(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, series in sorted(self.series.items()):
            for bound, count in zip(self.buckets, series, strict=False):
                yield f"{self.name}_bucket{_labels(labels, (('le', _number(bound)),))} {_number(count)}"
            yield f"{self.name}_bucket{_labels(labels, (('le', '+Inf'),))} {_number(series[-1])}"
            yield f"{self.name}_sum{_labels(labels)} {_number(series[-2])}"
            yield f"{self.name}_count{_labels(labels)} {_number(series[-1])}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class PipelineMetrics:
    """The counters of one worker. Updated once per batch from the worker thread; rendered under a lock."""

    def __init__(self, domain: str) -> None:
        self.domain = (("domain", domain),)
        self._lock = threading.Lock()
        self.records_in = _Family("deid_pipeline_records_in_total", "counter", "Raw records consumed and committed")
        self.records_out = _Family("deid_pipeline_records_out_total", "counter", "Records written per output topic")
        self.dlq = _Family("deid_pipeline_dlq_total", "counter", "Records sent to the dead-letter queue by error class")
        self.skipped = _Family(
            "deid_pipeline_purpose_skipped_total", "counter", "Rows left out of a purpose stream by their consent level"
        )
        self.uncovered = _Family("deid_pipeline_uncovered_fields", "gauge", "Field paths seen that no rule covers")
        self.policy_version = _Family("deid_pipeline_policy_version", "gauge", "Version of the policy running")
        self.lag = _Family("deid_pipeline_consumer_lag", "gauge", "Records behind the high watermark per partition")
        self.batch_seconds = _Histogram("deid_pipeline_batch_seconds", "Seconds per committed batch", BATCH_BUCKETS)
        self.risk_min_k = _Family("deid_pipeline_risk_min_k", "gauge", "Smallest equivalence class in the risk window")
        self.risk_below = _Family(
            "deid_pipeline_risk_below_target_ratio", "gauge", "Share of window records in classes below the target k"
        )
        self.risk_prosecutor = _Family(
            "deid_pipeline_risk_prosecutor", "gauge", "Highest re-identification probability in the window (1/min k)"
        )
        self.risk_records = _Family("deid_pipeline_risk_window_records", "gauge", "Records in the risk window")
        self.risk_classes = _Family("deid_pipeline_risk_classes", "gauge", "Equivalence classes per size bucket")
        self.k_suppressed = _Family(
            "deid_pipeline_k_suppressed_total", "counter", "Records whose quasi-identifiers were nulled"
        )
        self.records_in.values[self.domain] = 0
        self.uncovered.values[self.domain] = 0

    def batch_committed(
        self,
        records_in: int,
        out_by_topic: dict[str, int],
        dlq_by_class: dict[str, int],
        skipped_by_purpose: dict[str, int],
        seconds: float,
    ) -> None:
        with self._lock:
            _add(self.records_in, self.domain, records_in)
            for topic, count in out_by_topic.items():
                _add(self.records_out, (*self.domain, ("topic", topic)), count)
            for error_class, count in dlq_by_class.items():
                _add(self.dlq, (*self.domain, ("error_class", error_class)), count)
            for purpose, count in skipped_by_purpose.items():
                _add(self.skipped, (*self.domain, ("purpose", purpose)), count)
            self.batch_seconds.observe(self.domain, seconds)

    def set_state(self, uncovered: int | None = None, policy_version: int | None = None) -> None:
        with self._lock:
            if uncovered is not None:
                self.uncovered.values[self.domain] = uncovered
            if policy_version is not None:
                self.policy_version.values[self.domain] = policy_version

    def set_risk(self, report: RiskReport) -> None:
        with self._lock:
            self.risk_min_k.values[self.domain] = report.min_k
            self.risk_below.values[self.domain] = report.share_below_target
            self.risk_prosecutor.values[self.domain] = report.prosecutor_risk
            self.risk_records.values[self.domain] = report.records
            for size, count in report.histogram.items():
                self.risk_classes.values[(*self.domain, ("size", size))] = count

    def set_k_suppressed(self, by_topic: dict[str, int]) -> None:
        with self._lock:
            for topic, count in by_topic.items():
                self.k_suppressed.values[(*self.domain, ("topic", topic))] = count

    def set_lag(self, lag_by_partition: dict[int, int]) -> None:
        with self._lock:
            for partition, lag in lag_by_partition.items():
                self.lag.values[(*self.domain, ("partition", str(partition)))] = lag

    def forget_partitions(self, partitions: Iterable[int]) -> None:
        with self._lock:
            for partition in partitions:
                self.lag.values.pop((*self.domain, ("partition", str(partition))), None)

    def render(self) -> str:
        families = (
            self.records_in,
            self.records_out,
            self.dlq,
            self.skipped,
            self.uncovered,
            self.policy_version,
            self.lag,
            self.batch_seconds,
            self.risk_min_k,
            self.risk_below,
            self.risk_prosecutor,
            self.risk_records,
            self.risk_classes,
            self.k_suppressed,
        )
        with self._lock:
            return "\n".join(line for family in families for line in family.lines()) + "\n"


def _add(family: _Family, labels: Labels, amount: float) -> None:
    family.values[labels] = family.values.get(labels, 0) + amount


class MetricsServer:
    """`GET /metrics` (and `/`) on 127.0.0.1:port in a daemon thread."""

    def __init__(self, metrics: PipelineMetrics, port: int, host: str = "127.0.0.1") -> None:
        try:
            self._server = ThreadingHTTPServer((host, port), _handler(metrics))
        except OSError as exc:
            raise ConfigError(f"--metrics-port: cannot serve metrics on {host}:{port} ({exc.strerror})") from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"metrics-{port}", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()  # waits for serve_forever to return: only when it runs
        self._server.server_close()


def _handler(metrics: PipelineMetrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in {"/", "/metrics"}:
                self.send_error(404, "only /metrics is served here")
                return
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would flood the worker's log

    return Handler
