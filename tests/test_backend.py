"""neuronet.backend: the one implementation switch (fast paths, numba, threads) and its effect on
which Function an op runs; the environment variables; nothing heavy at import."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import neuronet as nt
from neuronet import backend
from support.paths import skip_without_numba


def _conv_fn():
    x = nt.randn(2, 4, 6, 6, requires_grad=True)
    w = nt.randn(5, 4, 3, 3, requires_grad=True)
    return nt.functional.conv2d(x, w, padding=1)._ctx.fn.__name__


def test_the_switch_picks_the_implementation_at_the_public_function():
    with backend.fast.using(enabled=False):
        assert not backend.fast.numba
        assert _conv_fn() == "Convolution"  # the reference
    with backend.fast.using(enabled=True, numba=False):
        assert _conv_fn() == "ChunkedConvolution"  # the NumPy fast path


def test_numba_path_takes_winograd_for_3x3_stride_1():
    skip_without_numba()
    with backend.fast.using(enabled=True, numba=True):
        assert backend.fast.numba
        assert _conv_fn() == "WinogradConvolution"


def test_using_restores_the_settings_even_on_error():
    before = (backend.fast.enabled, backend.fast._numba_wanted)
    with pytest.raises(RuntimeError):
        with backend.fast.using(enabled=not before[0], numba=not before[1]):
            assert backend.fast.enabled is not before[0]
            raise RuntimeError("inside")
    assert (backend.fast.enabled, backend.fast._numba_wanted) == before
    with backend.fast.using(numba=False):
        with backend.fast.using(enabled=False):
            assert not backend.fast.numba
        assert backend.fast.enabled == before[0] and not backend.fast._numba_wanted
    assert (backend.fast.enabled, backend.fast._numba_wanted) == before


def test_threads_sets_the_blas_pool():
    pytest.importorskip("threadpoolctl", reason="threadpoolctl not installed")
    previous = backend.fast.threads
    try:
        backend.fast.threads = 1
        assert backend.fast.threads == 1
    finally:
        if previous:
            backend.fast.threads = previous
    with pytest.raises(ValueError, match="positive int"):
        backend.fast.threads = 0


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"NEURONET_FAST": "0"}, "False False Convolution"),
        ({"NEURONET_NUMBA": "0"}, "True False ChunkedConvolution"),
    ],
)
def test_environment_variables(env, expected):
    """NEURONET_FAST=0 runs the references, NEURONET_NUMBA=0 the NumPy fast paths; importing
    neuronet never imports numba."""
    code = (
        "import sys, neuronet as nt; from neuronet import backend; "
        "assert 'numba' not in sys.modules, 'import neuronet imported numba'; "
        "x = nt.randn(1, 4, 5, 5, requires_grad=True); w = nt.randn(3, 4, 3, 3); "
        "y = nt.functional.conv2d(x, w, padding=1); "
        "print(backend.fast.enabled, backend.fast.numba, y._ctx.fn.__name__)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEURONET_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_reference_and_fast_paths_give_the_same_training_step():
    """A small CNN + LSTM step, float64: the same loss and gradients on every path."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 8, 8))
    results = []
    for settings in ({"enabled": False}, {"enabled": True, "numba": False}, {"numba": True}):
        if settings.get("numba") and not backend.fast.numba:
            continue
        with backend.fast.using(**settings):
            nt.manual_seed(0)
            conv = nt.nn.Conv2d(4, 6, 3, padding=1, dtype="float64")
            lstm = nt.nn.LSTM(6 * 8, 5, batch_first=True, dtype="float64")
            h = nt.functional.relu(conv(nt.tensor(x)))
            out, _ = lstm(h.permute(0, 2, 1, 3).reshape(3, 8, 48))
            loss = out.square().sum()
            loss.backward()
            grads = [p.grad.array for p in (*conv.parameters(), *lstm.parameters())]
            results.append((loss.item(), grads))
    assert len(results) >= 2
    for loss, grads in results[1:]:
        assert loss == pytest.approx(results[0][0], rel=1e-12)
        for a, b in zip(grads, results[0][1]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
