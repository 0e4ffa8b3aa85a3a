"""Prometheus metrics in the text exposition format (0.0.4), written by hand: no dependency.

A `Registry` lives on each app (`app.state.metrics`); the request middleware feeds its counter and
histogram, and `/metrics` adds gauges read from the store at scrape time (outbox, anchoring lag,
jobs, node health).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["CONTENT_TYPE", "LATENCY_BUCKETS", "Gauge", "Registry", "render_gauges"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass(frozen=True)
class Gauge:
    """One gauge family computed at scrape time: name, help and (labels, value) samples."""

    name: str
    help: str
    samples: Sequence[tuple[Mapping[str, str], float]]


class Registry:
    """The request counter and latency histogram of one app (thread-safe)."""

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self._lock = threading.Lock()
        self._buckets = tuple(sorted(buckets))
        self._requests: dict[Labels, int] = {}
        self._hist: dict[Labels, list[float]] = {}  # bucket counts..., then sum, then count

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        key: Labels = (("method", method), ("route", route), ("status", str(status)))
        hkey: Labels = (("method", method), ("route", route))
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            row = self._hist.setdefault(hkey, [0.0] * (len(self._buckets) + 2))
            for i, bound in enumerate(self._buckets):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def render(self, gauges: Iterable[Gauge] = ()) -> str:
        """The whole exposition: requests, latency, then the gauges given."""
        lines = [
            "# HELP tdex_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE tdex_http_requests_total counter",
        ]
        with self._lock:
            requests = sorted(self._requests.items())
            hist = sorted((k, list(v)) for k, v in self._hist.items())
        lines += [f"tdex_http_requests_total{_labels(k)} {n}" for k, n in requests]
        lines += [
            "# HELP tdex_http_request_duration_seconds HTTP request latency, by method and route template.",
            "# TYPE tdex_http_request_duration_seconds histogram",
        ]
        for key, row in hist:
            for i, bound in enumerate(self._buckets):
                lines.append(
                    f"tdex_http_request_duration_seconds_bucket{_labels((*key, ('le', _number(bound))))} "
                    f"{int(row[i])}"
                )
            lines.append(
                f"tdex_http_request_duration_seconds_bucket{_labels((*key, ('le', '+Inf')))} {int(row[-1])}"
            )
            lines.append(f"tdex_http_request_duration_seconds_sum{_labels(key)} {_number(row[-2])}")
            lines.append(f"tdex_http_request_duration_seconds_count{_labels(key)} {int(row[-1])}")
        lines += render_gauges(gauges)
        return "\n".join(lines) + "\n"


def render_gauges(gauges: Iterable[Gauge]) -> list[str]:
    """Exposition lines of gauge families (a family without samples still says what it is)."""
    lines: list[str] = []
    for gauge in gauges:
        lines.append(f"# HELP {gauge.name} {gauge.help}")
        lines.append(f"# TYPE {gauge.name} gauge")
        for labels, value in gauge.samples:
            lines.append(f"{gauge.name}{_labels(tuple(sorted(labels.items())))} {_number(value)}")
    return lines
