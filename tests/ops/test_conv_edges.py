"""conv ops: the im2col lowering itself (the reference's and the chunked fast path's), and every
argument error of the functional API."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.autograd import engine
from neuronet.ops import _im2col as R
from neuronet.ops.fast import conv as chunked
from neuronet.ops.fast import im2col as I
from support.op_specs import OPS
from support.parity import to_nt
from support.paths import PATHS, on_path, unavailable

# Taken from the registry, not by importing support.specs.conv directly: that import would run
# the registry's collection while the spec module is still half-initialised.
CONV_AND_POOLING = [s for s in OPS if "conv" in s.name or "pool" in s.name]

F = nt.functional

GEOMETRIES = [
    # in_hw, kernel, stride, dilation, pads (top, bottom, left, right)
    ((5, 6), (3, 3), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((20, 21), (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),  # wrap-around rows
    ((9, 40), (3, 2), (1, 1), (2, 3), (1, 2, 0, 1)),  # wrap-around rows, dilated, asymmetric
    ((9, 8), (3, 2), (2, 3), (1, 1), (1, 0, 2, 1)),
    ((11, 10), (2, 3), (3, 1), (2, 2), (0, 1, 1, 0)),
]


@pytest.mark.parametrize("args", GEOMETRIES)
def test_reference_col2im_is_the_adjoint_of_im2col(rng, args):
    """<im2col(x), c> == <x, col2im(c)> for the readable versions (ops/_im2col.py)."""
    geo = R.Geometry(*args)
    x = rng.standard_normal((3, 2) + args[0])
    cols = R.im2col(x, geo)
    cot = rng.standard_normal(cols.shape)
    back = R.col2im(cot, 3, geo)
    np.testing.assert_allclose(np.sum(cols * cot), np.sum(x * back), rtol=1e-12)


@pytest.mark.parametrize("args", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(rng, args):
    """<im2col(x), c> == <x, col2im(c)>: the backward of the lowering is exact."""
    geo = I.Geometry(*args)
    n, c = 3, 2
    x = rng.standard_normal((n, c) + args[0])
    planes = I.pad_planes(x, geo)
    cols = I.im2col(planes, geo, np.empty((c * geo.K, n * geo.L)))
    # wrap-around columns are never read back: zero them in the cotangent, as to_rows does
    cot = rng.standard_normal(cols.shape).reshape(c * geo.K, n, geo.OH, geo.Wq)
    cot[..., geo.OW :] = 0
    cot = cot.reshape(cols.shape)
    back = np.empty_like(x)
    I.unpad_into(I.col2im(cot, geo, np.empty((n, c, geo.P))), geo, back)
    np.testing.assert_allclose(np.sum(cols * cot), np.sum(x * back), rtol=1e-12)


def test_im2col_columns_are_receptive_fields(rng):
    geo = I.Geometry((6, 7), (2, 3), (2, 1), (1, 2), (1, 0, 2, 2))
    x = rng.standard_normal((2, 3, 6, 7))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 0), (2, 2)))
    cols = I.im2col(I.pad_planes(x, geo), geo, np.empty((3 * 6, 2 * geo.L)))
    cols = cols.reshape(3, 2, 3, 2, geo.OH, geo.Wq)
    n, oh, ow = 1, 2, 3
    patch = padded[n, :, oh * 2 : oh * 2 + 2, ow : ow + 5 : 2]
    np.testing.assert_array_equal(cols[:, :, :, n, oh, ow], patch)


def test_chunks_cover_the_batch_evenly():
    geo = I.Geometry((28, 28), (3, 3), (1, 1), (1, 1), (0, 0, 0, 0))
    parts = geo.chunks(61, 32, 4)
    sizes = [p.stop - p.start for p in parts]
    assert parts[0].start == 0 and parts[-1].stop == 61 and sum(sizes) == 61
    assert max(sizes) - min(sizes) <= 1 and sizes[0] == max(sizes)
    assert 32 * 9 * geo.L * 4 * max(sizes) <= 2 * I.CHUNK_BYTES
    assert geo.chunks(1, 512, 8) == [slice(0, 1)]  # one huge image is still one chunk


@pytest.mark.parametrize("chunk_bytes", [I.CHUNK_BYTES, 4096])
@pytest.mark.parametrize("groups", [1, 2])
def test_strided_conv_keeps_its_columns_and_gets_torchs_gradients(
    chunk_bytes, groups, monkeypatch, torch
):
    """A 3x3 stride-2 convolution keeps forward's im2col columns (2.25x the input) for dL/dW
    instead of rebuilding them; in one chunk or many, the gradients are torch's."""
    monkeypatch.setattr(I, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 11, 12))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    geo = I.Geometry((11, 12), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1))
    assert chunked._keeps_columns(geo, x)
    assert not chunked._keeps_columns(I.Geometry((11, 12), (3, 3), (1, 1), (2, 2), (2,) * 4), x)
    g = rng.standard_normal((5, 6, 6, 6))
    xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
    F.conv2d(xt, wt, stride=2, padding=1, groups=groups).backward(nt.tensor(g))
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, stride=2, padding=1, groups=groups).backward(
        torch.from_numpy(g)
    )
    np.testing.assert_allclose(wt.grad.array, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(xt.grad.array, tx.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("spec", CONV_AND_POOLING, ids=lambda s: s.name)
def test_float32_stays_float32(spec, monkeypatch):
    """Forward outputs and every raw gradient a backward returns keep float32 (no float64 creep)."""
    original = engine._call_backward
    seen = []

    def checked(ctx, grads):
        result = original(ctx, grads)
        for t, g in zip(ctx.inputs, result):
            if t is not None and g is not None:
                assert g.dtype == t.dtype, f"{ctx.fn.__name__}.backward gave {g.dtype}"
                seen.append(ctx.fn.__name__)
        return result

    monkeypatch.setattr(engine, "_call_backward", checked)
    raw = spec.make_inputs(np.random.default_rng(0), np.float32)
    inputs = [to_nt(a, requires_grad=True) for a in raw]
    out = spec.fn(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    assert out.dtype == np.float32, f"{spec.name} forward gave {out.dtype}"
    out.backward(nt.Tensor(np.ones(out.shape, dtype=np.float32)))
    assert seen, f"{spec.name}: no backward ran"


# ---- argument errors ---------------------------------------------------------------------------


def _x(shape=(2, 4, 6, 6), dtype="float32"):
    return nt.zeros(shape, dtype=dtype)


def _w(shape=(8, 4, 3, 3), dtype="float32"):
    return nt.zeros(shape, dtype=dtype)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: F.conv2d(_x((2, 3)), _w()), ValueError, r"conv2d: expected a 3-d \(unbatched\)"),
        (lambda: F.conv2d(_x(), _w((8, 4, 3))), ValueError, r"conv2d: expected a 4-d weight"),
        (
            lambda: F.conv2d(_x(), _w((8, 3, 3, 3))),
            ValueError,
            r"conv2d: input has 4 channels but weight of shape \(8, 3, 3, 3\) with groups=1 "
            r"expects 3",
        ),
        (
            lambda: F.conv2d(_x(), _w((9, 2, 3, 3)), groups=2),
            ValueError,
            r"cannot be split into groups=2",
        ),
        (lambda: F.conv2d(_x(), _w(), groups=0), ValueError, r"groups must be a positive int"),
        (
            lambda: F.conv2d(_x(), _w(), bias=nt.zeros((3,))),
            ValueError,
            r"conv2d: bias must have shape \(8,\)",
        ),
        (lambda: F.conv2d(_x(), _w(), stride=0), ValueError, r"conv2d: stride must be positive"),
        (lambda: F.conv2d(_x(), _w(), dilation=(1, 0)), ValueError, r"dilation must be positive"),
        (lambda: F.conv2d(_x(), _w(), padding=-1), ValueError, r"padding must be non-negative"),
        (
            lambda: F.conv2d(_x(), _w(), padding="full"),
            ValueError,
            r"invalid padding string 'full'",
        ),
        (
            lambda: F.conv2d(_x(), _w(), stride=2, padding="same"),
            ValueError,
            r"padding='same' is not supported for strided convolutions",
        ),
        (
            lambda: F.conv2d(_x((2, 4, 2, 2)), _w()),
            ValueError,
            r"padded input size per channel \(2, 2\) is smaller than the dilated kernel \(3, 3\)",
        ),
        (
            lambda: F.conv2d(_x(dtype="float64"), _w()),
            TypeError,
            r"conv2d: input is float64 but weight is float32",
        ),
        (lambda: F.conv2d(_x(dtype="int64"), _w()), TypeError, r"input must be floating point"),
        (lambda: F.conv2d(np.zeros((2, 4, 6, 6)), _w()), TypeError, r"must be neuronet Tensors"),
        (
            lambda: F.conv2d(_x(), _w(), stride=(1, 2, 3)),
            TypeError,
            r"stride must be an int or a tuple of 2 ints",
        ),
        (
            lambda: F.conv1d(_x(), _w((8, 4, 3))),
            ValueError,
            r"conv1d: expected a 2-d \(unbatched\)",
        ),
        (
            lambda: F.conv_transpose2d(_x(), _w((4, 2, 3, 3)), stride=2, output_padding=2),
            ValueError,
            r"output_padding must be smaller than either stride or dilation",
        ),
        (
            lambda: F.conv_transpose2d(_x(), _w((4, 2, 3, 3)), padding="same"),
            ValueError,
            r"conv_transpose2d: padding must be an int or a tuple",
        ),
        (
            lambda: F.conv_transpose2d(_x(), _w((3, 2, 3, 3))),
            ValueError,
            r"input has 4 channels but weight of shape \(3, 2, 3, 3\) with groups=1 expects 3 "
            r"\(weight.shape\[0\]\)",
        ),
        (
            lambda: F.conv_transpose2d(_x((1, 4, 1, 1)), _w((4, 2, 1, 1)), padding=1),
            ValueError,
            r"the output size \(-1, -1\) is not positive",
        ),
    ],
)
def test_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_padding_same_keeps_size_for_even_kernels(rng):
    x = nt.Tensor(rng.standard_normal((1, 2, 7, 8)).astype(np.float32))
    for kernel in ((2, 2), (4, 3), (1, 6)):
        for dilation in (1, 2):
            y = F.conv2d(x, nt.zeros((3, 2) + kernel), padding="same", dilation=dilation)
            assert y.shape == (1, 3, 7, 8)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "cin, kernel, kw",
    [
        (3, 3, {"padding": 1}),  # Winograd on the numba path
        (1, 5, {"padding": 2}),  # direct loops on the numba path
        (4, 3, {"stride": 2, "padding": 1}),  # im2col
        (4, 3, {"groups": 2, "padding": 1}),
    ],
)
def test_an_empty_batch_gives_empty_outputs_and_zero_gradients(path, cin, kernel, kw, torch):
    """A batch of no images (the last, empty shard of a split, say) runs as in PyTorch: an empty
    output, zero weight and bias gradients, an empty input gradient; on every path."""
    reason = unavailable(path)
    if reason:
        pytest.skip(reason)
    x = np.zeros((0, cin, 8, 8), np.float32)
    w = np.ones((4, cin // kw.get("groups", 1), kernel, kernel), np.float32)
    with on_path(path):
        xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
        bt = nt.tensor(np.ones(4, np.float32), requires_grad=True)
        y = F.conv2d(xt, wt, bt, **kw)
        y.sum().backward()
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw)
    assert y.shape == tuple(theirs.shape)
    assert xt.grad.shape == x.shape
    np.testing.assert_array_equal(wt.grad.numpy(), np.zeros_like(w))
    np.testing.assert_array_equal(bt.grad.numpy(), np.zeros(4, np.float32))


@pytest.mark.parametrize("path", PATHS)
def test_an_empty_batch_through_a_transposed_convolution(path, torch):
    reason = unavailable(path)
    if reason:
        pytest.skip(reason)
    x = np.zeros((0, 4, 5, 5), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    with on_path(path):
        xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
        y = F.conv_transpose2d(xt, wt, stride=2, padding=1)
        y.sum().backward()
    theirs = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1
    )
    assert y.shape == tuple(theirs.shape) and xt.grad.shape == x.shape
    np.testing.assert_array_equal(wt.grad.numpy(), np.zeros_like(w))
