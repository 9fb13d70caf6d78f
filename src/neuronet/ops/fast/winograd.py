"""3x3 stride-1 convolutions by Winograd's minimal filtering, F(4x4, 3x3).

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016). Each 4x4 block of
outputs of a 3x3 correlation is computed from the 6x6 input tile d under it with 36 multiplies
instead of 144:

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          (⊙: element-wise, over the 6x6 "Winograd domain")

    G  = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6],
          [1/24, -1/12, 1/6], [0, 0, 1]]
    Bᵀ = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
          [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
    Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]

(the interpolation points 0, ±1, ±2 and infinity). Summed over input channels, the element-wise
products become 36 independent matrix products,

    M[k] = U[k] · V[k]     U[k]: (O, C) kernel transforms,  V[k]: (C, tiles) input transforms

so a convolution costs 36 GEMMs with 4x fewer multiply-adds than the direct (im2col) one, plus
the two transforms (numba kernels in ``winograd_kernels.py``). F(4x4, 3x3) rather than the
smaller F(2x2, 3x3): its transforms write 2.25 values per output pixel instead of 4, and its
GEMMs do 4x rather than 2.25x fewer multiply-adds. Rounding: the transforms scale by up to 8
and 1/24, so float32 results agree with the direct sum to about 1e-5 of the output's largest
magnitude; float64 to ~1e-14.

The gradients run the forward's steps backwards (``gradients``): dM = A dY Aᵀ per tile (the
adjoint of the output transform), then 36 GEMMs each for dL/dU = dM · Vᵀ (reusing the input
transforms V that the forward kept) and for dL/dV = Uᵀ · dM, then B dL/dV Bᵀ added where each
tile was read (the adjoint of the input transform). For the input gradient there is a second
way, the one this module took first: dL/dx is the correlation of dL/dy, zero padded by 2 - pad
on each side, with the kernel rotated by 180 degrees and its in/out channels swapped
(``rotated``), by the forward's routine; the zero padding is never materialised, the input
transform reads the unpadded array at an offset. Each wins on some layers (``adjoint_pays``).

``WinogradConvolution`` is ``conv.Convolution`` with these routines; ``ops/conv.py`` takes it
when numba is on and ``applies``: 3x3 kernels, stride 1, dilation 1, one group, at least
``MIN_CHANNELS`` channels in and out, and the same padding 0, 1 or 2 on every side (the
ResNet/VGG layer 'same', and small 'valid' ones). Measured speeds are in docs/performance.md.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.ops._util import shaped
from neuronet.ops.conv import Convolution, from4d, to4d
from neuronet.ops.fast import blas_batch
from neuronet.ops.fast.conv import bias_grad

MIN_CHANNELS = 3  # with fewer input channels im2col is faster (docs/performance.md)
CHUNK_BYTES = 1 << 21  # one chunk's V (36, C, columns) and M (36, O, columns): cache-sized
ALPHA = 6  # the tile side: 4 outputs + 3 - 1
MIN_COLUMNS = 256  # ... but at least this many tiles: narrower GEMMs run slowly


def applies(kernel, channels: int, dtype, stride, pads, dilation, groups) -> bool:
    """Whether a 2-d convolution with these settings can take the Winograd path (``channels``:
    the smaller of its input and output channel counts)."""
    return (
        tuple(kernel) == (3, 3)
        and tuple(stride) == (1, 1)
        and tuple(dilation) == (1, 1)
        and groups == 1
        and len(set(pads)) == 1
        and pads[0] <= 2
        and channels >= MIN_CHANNELS
        and dtype in (np.float32, np.float64)
    )


_G = (
    (1 / 4, 0.0, 0.0),
    (-1 / 6, -1 / 6, -1 / 6),
    (-1 / 6, 1 / 6, -1 / 6),
    (1 / 24, 1 / 12, 1 / 6),
    (1 / 24, -1 / 12, 1 / 6),
    (0.0, 0.0, 1.0),
)


_KRON_G = {}  # dtype -> G ⊗ G, built once (np.kron costs ~20 us a call)


def _kron_g(dtype) -> np.ndarray:
    """G ⊗ G (36, 9): vec(G g Gᵀ) = (G ⊗ G) vec(g) for a 3x3 g, both row-major."""
    dtype = np.dtype(dtype)
    if dtype not in _KRON_G:
        G = np.asarray(_G, dtype=dtype)
        _KRON_G[dtype] = np.kron(G, G)
        _KRON_G[dtype].flags.writeable = False
    return _KRON_G[dtype]


def transform_kernel(w: np.ndarray) -> np.ndarray:
    """U = G g Gᵀ for every (o, c) kernel g = w[o, c] (3x3): (36, O, C), row-major 6x6 index.
    One GEMM: (G ⊗ G) (36, 9) times the kernels as columns (9, O*C)."""
    o, c = w.shape[:2]
    return (_kron_g(w.dtype) @ w.reshape(o * c, 9).T).reshape(ALPHA * ALPHA, o, c)


def rotated(w: np.ndarray) -> np.ndarray:
    """The kernel of the input-gradient correlation: w'[c, o, i, j] = w[o, c, 2-i, 2-j]."""
    return np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def _tiling(out_hw: tuple) -> tuple:
    """(TH, TW): the 4x4 output tiles down and across (the last ones may stick out)."""
    return (out_hw[0] + 3) // 4, (out_hw[1] + 3) // 4


def _images_per_chunk(n: int, c: int, o: int, tiles: int, itemsize: int) -> int:
    """Images per chunk: V and M (36 x (c + o) x columns) near CHUNK_BYTES, and at least
    MIN_COLUMNS tiles wide (narrower GEMMs run markedly slower); and where OpenBLAS's batched
    GEMM can take the batch's products (``blas_batch``: more than its minimum of multiply-adds
    each), wide enough for it (the cnn's 32 -> 64 layer: 29 images a chunk -> 56, forward +
    backward 12.8 -> 11.5 ms)."""
    nb = CHUNK_BYTES // (ALPHA * ALPHA * (c + o) * tiles * itemsize)
    columns = MIN_COLUMNS
    batched = blas_batch.MIN_MULTIPLY_ADDS // (c * o) + 1  # columns the batched GEMM needs
    if itemsize == 4 and batched <= n * tiles and blas_batch.available():
        columns = max(columns, batched)
    return max(1, min(n, max(nb, -(-columns // tiles))))


def correlate(x, U, out_hw, bias=None, keep_input=False, offset=(0, 0)):
    """y (n, O, OH, OW) = the 3x3 correlation of x (n, C, H, W; any strides), zero padded by
    ``offset`` = (top, left) and with zeros past its bottom and right edges, with the kernel
    whose transform is U (36, O, C), plus ``bias`` (O,) if given.

    The batch runs in chunks whose V and M fit in the cache (``CHUNK_BYTES``). With
    ``keep_input`` the input transforms of the whole batch, V (36, C, n*TH*TW), are kept and
    returned too, as ``(y, V)``: the weight gradient needs them (2.25 values per input pixel)."""
    from neuronet.ops.fast import winograd_kernels as k

    x = np.ascontiguousarray(x)  # the kernel picks rows of x or of zeros: one array type
    n, C = x.shape[:2]
    O = U.shape[1]
    TH, TW = _tiling(out_hw)
    tiles = TH * TW
    dtype = x.dtype
    nb = _images_per_chunk(n, C, O, tiles, dtype.itemsize)
    V = np.empty((ALPHA * ALPHA, C, (n if keep_input else nb) * tiles), dtype)
    M = np.empty((ALPHA * ALPHA, O, nb * tiles), dtype)
    y = np.empty((n, O) + tuple(out_hw), dtype)
    has_bias = bias is not None
    bias = bias if has_bias else np.zeros(1, dtype)
    for start in range(0, n, nb):
        stop = min(n, start + nb)
        cols = (stop - start) * tiles
        col0 = start * tiles if keep_input else 0
        k.input_tiles(x[start:stop], offset[0], offset[1], TH, TW, V, col0)
        V_part = V[:, :, col0 : col0 + cols]
        blas_batch.matmul(U, V_part, M[:, :, :cols])
        k.output_tiles(M, TH, TW, bias, has_bias, y[start:stop])
    return (y, V) if keep_input else y


def adjoint_pays(x_shape, y_shape) -> bool:
    """Whether the input gradient takes the adjoint transforms (``gradients``) rather than the
    correlation of dL/dy (``correlate``): where x's tiling has more tiles than y's, as on
    'valid' layers. Their transforms cost about the same per channel and tile, measured: C
    (+ O for dM, shared with the weight gradient) on y's tiling against C + O on x's. The cnn's
    32 -> 64 layer on 13 x 13 (16 tiles an image against 9), both gradients: 7.5-7.8 -> 4.2-4.3
    ms. On 'same' layers the adjoint is faster too, but by less (resnet's 128 -> 128 on 8 x 8:
    5.4-5.5 -> 4.3-4.8 ms, its step 151-159 -> 145-151 ms), and there it would be one more
    kernel to compile on a first run (1.5-2.2 s) for models whose other kernels take 8-10 s,
    against the 10 s a first run may add: not taken."""
    th_x, tw_x = _tiling((x_shape[2], x_shape[3]))
    th_y, tw_y = _tiling((y_shape[2], y_shape[3]))
    return th_y * tw_y < th_x * tw_x


def gradients(grad_y, U, V, x_shape, pad, input_grad=True):
    """(dL/dx, dL/dw) of y = correlate(x, U, offset=(pad, pad)) from dL/dy (n, O, OH, OW), with
    x of shape ``x_shape`` (n, C, H, W). dL/dw needs the input transforms V (36, C, n*TH*TW)
    that ``correlate(..., keep_input=True)`` returned; it is None when V is. dL/dx is None
    unless ``input_grad``.

    Both come from dM = A dY Aᵀ per tile (``output_tiles_adjoint``), the adjoint of the output
    transform. Y = Aᵀ (U ⊙ V) A is linear in U and in V, so per tile
        dL/dU = dM ⊙ V, summed over tiles: dL/dU[k] = dM[k] · V[k]ᵀ, then dL/dg = Gᵀ dL/dU G;
        dL/dV = U ⊙ dM: dL/dV[k] = U[k]ᵀ · dM[k], then dL/dd = B dL/dV Bᵀ added where each
        tile d was read (``input_tiles_adjoint``).
    Both are 36 GEMMs per chunk, on the forward's tiles. (The input gradient as the correlation
    of dL/dy padded by 2 - pad with the rotated kernel, as before, transformed dL/dy's O
    channels on a tiling that padding made larger: the cnn's 32 -> 64 layer on 13 x 13 took
    5.0 ms for it, against 2.0 ms this way.)"""
    from neuronet.ops.fast import winograd_kernels as k

    n, O = grad_y.shape[:2]
    C = U.shape[2]
    TH, TW = _tiling(grad_y.shape[2:])
    tiles = TH * TW
    dtype = U.dtype
    nb = _images_per_chunk(n, C, O, tiles, dtype.itemsize)
    dM = np.empty((ALPHA * ALPHA, O, nb * tiles), dtype)
    if V is not None:
        dU = np.zeros((ALPHA * ALPHA, O, C), dtype)
        part = np.empty((ALPHA * ALPHA, O, C), dtype)
    if input_grad:
        dV = np.empty((ALPHA * ALPHA, C, nb * tiles), dtype)
        grad_x = np.empty(x_shape, dtype)  # every element written
    for start in range(0, n, nb):
        stop = min(n, start + nb)
        cols = (stop - start) * tiles
        k.output_tiles_adjoint(grad_y[start:stop], TH, TW, dM)
        if V is not None:
            V_part = V[:, :, start * tiles : stop * tiles]
            dU += blas_batch.matmul(dM[:, :, :cols], V_part.transpose(0, 2, 1), part)
        if input_grad:
            blas_batch.matmul(U.transpose(0, 2, 1), dM[:, :, :cols], dV[:, :, :cols])
            k.input_tiles_adjoint(dV, pad, pad, TH, TW, grad_x[start:stop])
    grad_w = None
    if V is not None:
        # vec(Gᵀ dU G) = (G ⊗ G)ᵀ vec(dU)
        grad_w = _kron_g(dtype).T @ dU.reshape(ALPHA * ALPHA, O * C)
        grad_w = np.ascontiguousarray(grad_w.T).reshape(O, C, 3, 3)
    return (grad_x if input_grad else None), grad_w


class WinogradConvolution(Convolution):
    """``Convolution`` (same formulas and arguments) by Winograd's F(4x4, 3x3), for the 3x3
    stride-1 convolutions of ``applies``:

        y     = correlate(x, G w Gᵀ) + b                  (36 GEMMs, module docstring)
        dL/dx = B ((G w Gᵀ) ⊙ (A dY Aᵀ)) Bᵀ, tile by tile (``gradients``), or
              = correlate(dL/dy padded by 2 - pad, rotated(w))   (``adjoint_pays``)
        dL/dw = Gᵀ (sum over tiles of (A dY Aᵀ) ⊙ V) G    (``gradients``)
        dL/db = sum over n, oh, ow of dL/dy

    Saves: the input transforms V (only when the weight needs a gradient), the weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        x4, w4 = to4d(x, weight)
        pad = pads[0]  # the same on all four sides
        out_hw = (x4.shape[2] + 2 * pad - 2, x4.shape[3] + 2 * pad - 2)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        y = correlate(x4, transform_kernel(w4), out_hw, bias, keep_input=keep, offset=(pad, pad))
        V = None
        if keep:  # the weight gradient reuses the input transforms
            y, V = y
        ctx.save_for_backward(V, w4)
        ctx.pad = pad
        ctx.shapes = (x.shape, x4.shape, weight.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        V, w4 = ctx.saved
        in_shape, x_shape, w_shape = ctx.shapes
        n, o = x_shape[0], w4.shape[0]
        grad_y = grad_out.reshape((n, o) + tuple(s + 2 * ctx.pad - 2 for s in x_shape[2:]))
        grad_x = grad_w = grad_b = None
        need_x, need_w = ctx.needs_input_grad[:2]
        adjoint = need_x and adjoint_pays(x_shape, grad_y.shape)
        if need_x and not adjoint:
            rim = 2 - ctx.pad
            U = transform_kernel(rotated(w4))
            grad_x = shaped(correlate(grad_y, U, x_shape[2:], offset=(rim, rim)), in_shape)
        if adjoint or need_w:
            dx, dw = gradients(grad_y, transform_kernel(w4), V, x_shape, ctx.pad, adjoint)
            grad_x = shaped(dx, in_shape) if adjoint else grad_x
            grad_w = None if dw is None else dw.reshape(w_shape)
        if ctx.needs_input_grad[2]:
            grad_b = bias_grad(grad_y)
        return grad_x, grad_w, grad_b
