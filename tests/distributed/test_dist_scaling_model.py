"""The scaling model of benchmarks/distributed.py (docs/distributed.md): the ring all-reduce
formula and the predicted efficiency. Arithmetic only; no timing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.distributed import (  # noqa: E402
    efficiency,
    half_efficiency_machines,
    ring_seconds,
)


def test_ring_allreduce_cost():
    # 2 ranks: each sends and receives half the data twice -> bytes / bandwidth, plus 2 hops
    assert ring_seconds(2, 1e9, 1e9, 0.0) == pytest.approx(1.0)
    assert ring_seconds(2, 0.0, 1e9, 1e-6) == pytest.approx(2e-6)
    # the bandwidth term tends to 2 * bytes / bandwidth; the latency term grows with p
    assert ring_seconds(1000, 1e9, 1e9, 0.0) == pytest.approx(2 * 999 / 1000)
    assert ring_seconds(64, 0.0, 1e9, 1e-6) == pytest.approx(2 * 63 * 1e-6)


def test_efficiency_and_where_it_halves():
    step, grad, bandwidth, latency = 0.01, 1e7, 1e9, 1e-5
    values = [efficiency(step, 0.0, p, grad, bandwidth, latency) for p in (2, 4, 8, 64)]
    assert values == sorted(values, reverse=True) and values[0] < 1
    assert efficiency(step, 1.0, 64, grad, bandwidth, latency) == 1.0  # all hidden
    p = half_efficiency_machines(step, 0.0, grad, bandwidth, latency)
    assert efficiency(step, 0.0, p, grad, bandwidth, latency) < 0.5
    assert efficiency(step, 0.0, p - 1, grad, bandwidth, latency) >= 0.5
