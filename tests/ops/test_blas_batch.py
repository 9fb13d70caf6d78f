"""OpenBLAS's batched GEMM (ops/fast/blas_batch.py): where it runs, its products equal
``np.matmul``'s bit for bit, in every operand layout it accepts; everything else (small
products, float64, other layouts, another OpenBLAS, the switch off) goes to ``np.matmul`` and
never reaches the batched call, whose small-product path crashes in OpenBLAS 0.3.31."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet.ops.fast import blas_batch
from support.paths import unavailable

needs_batch = pytest.mark.skipif(
    not blas_batch.available(), reason="NumPy's OpenBLAS is not the checked 0.3.31 build"
)


@pytest.fixture
def calls(monkeypatch):
    """Count the calls that reach OpenBLAS's batched GEMM."""
    seen = []
    fn = blas_batch._STATE["fn"]
    if fn is not None:

        def spy(*args):
            seen.append(args[3:6])  # m, n, k
            return fn(*args)

        monkeypatch.setitem(blas_batch._STATE, "fn", spy)
    return seen


def _operands(rng, b, m, k, n, a_t=False, b_t=False, pad=0):
    """a (b, m, k) and b (b, k, n) in float32, transposed views or with padded rows if asked."""
    a = rng.standard_normal((b, k, m + pad) if a_t else (b, m, k + pad)).astype(np.float32)
    w = rng.standard_normal((b, n, k + pad) if b_t else (b, k, n + pad)).astype(np.float32)
    a = a[:, :, :m].transpose(0, 2, 1) if a_t else a[:, :, :k]
    w = w[:, :, :k].transpose(0, 2, 1) if b_t else w[:, :, :n]
    return a, w


@needs_batch
@pytest.mark.parametrize("a_t, b_t", [(False, False), (False, True), (True, False), (True, True)])
@pytest.mark.parametrize("shape", [(36, 64, 32, 576), (36, 128, 128, 128), (5, 101, 100, 100)])
@pytest.mark.parametrize("pad", [0, 7])
def test_equals_numpy_bit_for_bit(shape, a_t, b_t, pad, calls):
    b, m, k, n = shape
    a, w = _operands(np.random.default_rng(0), b, m, k, n, a_t, b_t, pad)
    out = np.full((b, m, n + pad), np.nan, np.float32)[:, :, :n]
    result = blas_batch.matmul(a, w, out)
    assert result is out and calls == [(m, n, k)]
    np.testing.assert_array_equal(out, np.matmul(a, w))


@pytest.mark.parametrize(
    "shape", [(36, 100, 100, 100), (36, 64, 32, 261), (3, 2, 2, 2), (4, 1, 2000, 2000)]
)
def test_small_products_never_reach_it(shape, calls):
    """At most 100**3 multiply-adds a product (or a dimension under 2): np.matmul."""
    b, m, k, n = shape
    a, w = _operands(np.random.default_rng(1), b, m, k, n)
    out = np.empty((b, m, n), np.float32)
    np.testing.assert_array_equal(blas_batch.matmul(a, w, out), np.matmul(a, w))
    assert calls == []


def _unaligned(x: np.ndarray) -> np.ndarray:
    raw = np.zeros(x.nbytes + 1, np.uint8)
    view = np.frombuffer(raw.data, dtype=np.float32, count=x.size, offset=1).reshape(x.shape)
    assert not view.flags.aligned
    view[...] = x
    return view


def test_other_dtypes_and_layouts_take_numpy(calls):
    rng = np.random.default_rng(2)
    a, w = _operands(rng, 4, 128, 128, 128)
    for x, y in [
        (a.astype(np.float64), w.astype(np.float64)),  # float64
        (a[:, :, ::-1], w[:, ::-1, :]),  # negative strides
        (np.repeat(a, 2, axis=2)[:, :, ::2], w),  # no unit stride along rows or columns
        (_unaligned(a), w),  # float32 not on a 4-byte boundary
    ]:
        out = np.empty((4, 128, 128), x.dtype)
        np.testing.assert_array_equal(blas_batch.matmul(x, y, out), np.matmul(x, y))
    out_t = np.empty((4, 128, 128), np.float32).transpose(0, 2, 1)  # a transposed output
    np.testing.assert_array_equal(blas_batch.matmul(a, w, out_t), np.matmul(a, w))
    assert calls == []


def test_switch_and_unchecked_openblas_turn_it_off(monkeypatch):
    monkeypatch.setenv("NEURONET_BLAS_BATCH", "0")
    assert blas_batch._load() is None
    monkeypatch.delenv("NEURONET_BLAS_BATCH")
    monkeypatch.setattr(blas_batch, "_config", lambda lib: b"OpenBLAS 0.3.32 USE64BITINT")
    assert blas_batch._load() is None
    monkeypatch.setattr(blas_batch, "_config", lambda lib: b"OpenBLAS 0.3.31 DYNAMIC_ARCH")
    assert blas_batch._load() is None  # 32-bit integers: not the checked build
    monkeypatch.setattr(blas_batch, "_openblas_path", lambda: None)
    assert blas_batch._load() is None


@needs_batch
@pytest.mark.skipif(bool(unavailable("numba")), reason="the Winograd path needs numba")
def test_winograd_convolution_is_the_same_with_it(monkeypatch, calls):
    """The Winograd layers' products go through it; forward and both gradients are the same
    bit for bit as with np.matmul."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 64, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    g = rng.standard_normal((16, 64, 16, 16)).astype(np.float32)

    def run():
        xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        y.backward(nt.tensor(g))
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()

    batched = run()
    assert len(calls) >= 3  # forward, dL/dx, dL/dw
    monkeypatch.setitem(blas_batch._STATE, "fn", None)
    plain = run()
    for name, p, q in zip(("y", "dx", "dw"), batched, plain):
        np.testing.assert_array_equal(p, q, err_msg=name)


def test_it_picks_numpys_own_openblas(monkeypatch):
    import os

    site = os.path.dirname(os.path.dirname(np.__file__))
    ours = os.path.join(site, "numpy.libs", "libscipy_openblas64_-abc.so")
    scipys = os.path.join(site, "scipy.libs", "libscipy_openblas-def.so")
    monkeypatch.setattr(blas_batch, "_mapped", lambda: {scipys, ours, "/usr/lib/libc.so.6"})
    assert blas_batch._openblas_path() == ours
    monkeypatch.setattr(blas_batch, "_mapped", lambda: {"/opt/conda/lib/libopenblas.so.0"})
    assert blas_batch._openblas_path() == "/opt/conda/lib/libopenblas.so.0"
    monkeypatch.setattr(blas_batch, "_mapped", lambda: {"/a/libopenblas.so", "/b/libopenblas.so"})
    assert blas_batch._openblas_path() is None  # two candidates, neither NumPy's: do not guess
    monkeypatch.setattr(blas_batch, "_mapped", set)
    assert blas_batch._openblas_path() is None
