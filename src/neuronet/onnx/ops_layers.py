"""ONNX mappings of convolution, pooling and normalization.

The ops run 1-d work through their 2-d code with H = 1 (a lifted ``Geometry``/``Windows``);
ONNX gets a real 1-d node with the W entries. Unbatched inputs (C, H, W) get a batch dim of one
around the node. BatchNorm in eval mode is a BatchNormalization node whose mean and variance
inputs are the module's ``running_mean`` and ``running_var`` initializers.
"""

from __future__ import annotations

import numpy as np

from neuronet.onnx.graph import ExportError
from neuronet.onnx.registry import maps
from neuronet.ops import adaptive_pooling as AP
from neuronet.ops import batch_norm as B
from neuronet.ops import conv as C
from neuronet.ops import normalization as N
from neuronet.ops import pooling as P
from neuronet.ops._windows import averaging_matrix, bins


def _batched(g, x: str, unbatched: bool):
    return g.unsqueeze(x, [0]) if unbatched else x


def _unbatched(g, y: str, unbatched: bool):
    return g.squeeze(y, [0]) if unbatched else y


# ---- convolution -------------------------------------------------------------------------------
@maps(C.Convolution)
def _conv(g, call):
    weight = call.param("weight")
    spatial = weight.ndim - 2
    unbatched = call.args[0].ndim == weight.ndim - 1
    top, bottom, left, right = call.param("pads")
    stride = list(call.param("stride"))[-spatial:]
    dilation = list(call.param("dilation"))[-spatial:]
    pads = [left, right] if spatial == 1 else [top, left, bottom, right]
    inputs = [_batched(g, g.arg(call, 0), unbatched), g.arg(call, "weight")]
    if call.param("bias") is not None:
        inputs.append(g.arg(call, "bias"))
    y = g.node(
        "Conv",
        inputs,
        kernel_shape=list(weight.shape[2:]),
        strides=[int(s) for s in stride],
        dilations=[int(d) for d in dilation],
        pads=[int(p) for p in pads],
        group=int(call.param("groups")),
    )
    return [_unbatched(g, y, unbatched)]


@maps(C.TransposedConvolution)
def _conv_transpose(g, call):
    weight = call.param("weight")
    spatial = weight.ndim - 2
    x_shape = call.args[0].shape
    unbatched = len(x_shape) == weight.ndim - 1
    top, bottom, left, right = call.param("pads")
    begin = [left] if spatial == 1 else [top, left]
    end = [right] if spatial == 1 else [bottom, right]
    stride = list(call.param("stride"))[-spatial:]
    dilation = list(call.param("dilation"))[-spatial:]
    out = list(call.param("out_hw"))[-spatial:]
    kernel = list(weight.shape[2:])
    sizes = list(x_shape[-spatial:])
    extra = [
        o - (s * (n - 1) + d * (k - 1) + 1 - b - e)
        for o, s, n, d, k, b, e in zip(out, stride, sizes, dilation, kernel, begin, end)
    ]
    inputs = [_batched(g, g.arg(call, 0), unbatched), g.arg(call, "weight")]
    if call.param("bias") is not None:
        inputs.append(g.arg(call, "bias"))
    y = g.node(
        "ConvTranspose",
        inputs,
        kernel_shape=kernel,
        strides=[int(s) for s in stride],
        dilations=[int(d) for d in dilation],
        pads=[int(p) for p in begin + end],
        output_padding=[int(p) for p in extra],
        group=int(call.param("groups")),
    )
    return [_unbatched(g, y, unbatched)]


# ---- pooling -----------------------------------------------------------------------------------
def _window_attrs(w, spatial: int) -> dict:
    """kernel, strides and explicit pads (the end pads include ceil_mode's extra cells)."""
    if spatial == 1:
        return {"kernel_shape": [w.kW], "strides": [w.sw], "pads": [w.pw, w.Wp - w.W - w.pw]}
    return {
        "kernel_shape": [w.kH, w.kW],
        "strides": [w.sh, w.sw],
        "pads": [w.ph, w.pw, w.Hp - w.H - w.ph, w.Wp - w.W - w.pw],
    }


@maps(P.MaxPool)
def _max_pool(g, call):
    if call.param("return_indices"):
        raise ExportError(
            f"{call.where()}: max pooling with return_indices=True has no ONNX mapping "
            "(ONNX numbers the indices over the whole tensor, PyTorch per plane)"
        )
    w = call.param("windows")
    spatial = call.param("spatial")
    unbatched = call.args[0].ndim == spatial + 1
    attrs = _window_attrs(w, spatial)
    dil = [w.dh, w.dw][-spatial:]
    y = g.node("MaxPool", [_batched(g, g.arg(call, 0), unbatched)], dilations=dil, **attrs)
    return [_unbatched(g, y, unbatched)]


@maps(P.AvgPool)
def _avg_pool(g, call):
    """Zero padding, an average over the full window, then a rescale to the op's divisor."""
    w = call.param("windows")
    spatial = call.param("spatial")
    unbatched = call.args[0].ndim == spatial + 1
    x = _batched(g, g.arg(call, 0), unbatched)
    attrs = _window_attrs(w, spatial)
    pads = attrs.pop("pads")
    if any(pads):
        x = g.node("Pad", [x, g.ints([0, 0] + pads[:spatial] + [0, 0] + pads[spatial:])])
    y = g.node("AveragePool", [x], **attrs)
    divisor = np.asarray(call.param("divisor"), dtype=call.outputs[0].dtype)
    window = w.kH * w.kW
    if not np.all(divisor == window):
        scale = (window / divisor).astype(divisor.dtype)
        if spatial == 1 and scale.ndim == 2:
            scale = scale.reshape(-1)
        y = g.node("Mul", [y, g.const(scale)])
    return [_unbatched(g, y, unbatched)]


@maps(AP.AdaptiveAvgPool)
def _adaptive_avg_pool(g, call):
    """y = A_h x A_w^T with the op's averaging matrices (GlobalAveragePool for one bin)."""
    spatial = call.param("spatial")
    out_hw = list(call.param("out_hw"))
    x_shape = call.args[0].shape
    unbatched = len(x_shape) == spatial + 1
    x = _batched(g, g.arg(call, 0), unbatched)
    dtype = call.outputs[0].dtype
    sizes = list(x_shape[-spatial:])
    outs = out_hw[-spatial:]
    if all(o == 1 for o in outs):
        return [_unbatched(g, g.node("GlobalAveragePool", [x]), unbatched)]
    y = x
    last = averaging_matrix(sizes[-1], outs[-1], dtype)
    if outs[-1] != sizes[-1]:
        y = g.node("MatMul", [y, g.const(np.ascontiguousarray(last.T))])
    if spatial == 2 and outs[0] != sizes[0]:
        y = g.node("MatMul", [g.const(averaging_matrix(sizes[0], outs[0], dtype)), y])
    return [_unbatched(g, y, unbatched)]


@maps(AP.AdaptiveMaxPool)
def _adaptive_max_pool(g, call):
    """The maximum over each adaptive bin, one axis at a time (a max over a box is separable)."""
    if call.param("return_indices"):
        raise ExportError(f"{call.where()}: return_indices=True has no ONNX mapping")
    spatial = call.param("spatial")
    x_shape = call.args[0].shape
    unbatched = len(x_shape) == spatial + 1
    y = _batched(g, g.arg(call, 0), unbatched)
    outs = list(call.param("out_hw"))[-spatial:]
    for k, (size, out) in enumerate(zip(x_shape[-spatial:], outs)):
        axis = 2 + k
        start, end = bins(size, out)
        parts = [
            g.reduce("ReduceMax", g.slice(y, [int(a)], [int(b)], [axis]), [axis], True)
            for a, b in zip(start, end)
        ]
        y = parts[0] if len(parts) == 1 else g.node("Concat", parts, axis=axis)
    return [_unbatched(g, y, unbatched)]


# ---- normalization -----------------------------------------------------------------------------
def _affine(g, call, name: str, fill: float, shape) -> str:
    if call.param(name) is not None:
        return g.arg(call, name)
    return g.const(np.full(shape, fill, dtype=call.outputs[0].dtype))


@maps(B.FixedBatchNorm)
def _batch_norm_eval(g, call):
    c = call.args[0].shape[1]
    x = g.arg(call, 0)
    return [
        g.node(
            "BatchNormalization",
            [
                x,
                _affine(g, call, "weight", 1.0, (c,)),
                _affine(g, call, "bias", 0.0, (c,)),
                g.arg(call, "running_mean"),
                g.arg(call, "running_var"),
            ],
            epsilon=float(call.param("eps", 1e-5)),
        )
    ]


def _standardize(g, x: str, axes, eps: float, dtype) -> str:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance, two passes as the ops)."""
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    var = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), axes, True)
    std = g.node("Sqrt", [g.node("Add", [var, g.scalar(eps, dtype)])])
    return g.node("Div", [centered, std])


def _per_channel(g, name: str, ndim: int) -> str:
    """A (C,) parameter shaped (C, 1, ...) to broadcast against (N, C, *)."""
    return g.unsqueeze(name, list(range(1, ndim - 1))) if ndim > 2 else name


@maps(B.BatchNorm)
def _batch_norm_batch_stats(g, call):
    """Batch statistics (track_running_stats=False in eval mode): normalise over (N, *)."""
    if call.param("running_mean") is not None:
        raise ExportError(
            f"{call.where()}: BatchNorm in training mode (updating its running statistics) "
            "cannot be exported; export in eval mode"
        )
    ndim = call.args[0].ndim
    dtype = call.outputs[0].dtype
    axes = [0] + list(range(2, ndim))
    y = _standardize(g, g.arg(call, 0), axes, float(call.param("eps", 1e-5)), dtype)
    if call.param("weight") is not None:
        y = g.node("Mul", [y, _per_channel(g, g.arg(call, "weight"), ndim)])
    if call.param("bias") is not None:
        y = g.node("Add", [y, _per_channel(g, g.arg(call, "bias"), ndim)])
    return [y]


@maps(N.LayerNorm)
def _layer_norm(g, call):
    shape = tuple(call.param("normalized_shape"))
    inputs = [g.arg(call, 0), _affine(g, call, "weight", 1.0, shape)]
    if call.param("bias") is not None:
        inputs.append(g.arg(call, "bias"))
    eps = float(call.param("eps", 1e-5))
    return [g.node("LayerNormalization", inputs, axis=-len(shape), epsilon=eps)]


@maps(N.RMSNorm)
def _rms_norm(g, call):
    """x / sqrt(mean(x**2) + eps) * weight over the trailing normalized_shape dims."""
    shape = tuple(call.param("normalized_shape"))
    x = g.arg(call, 0)
    dtype = call.outputs[0].dtype
    ndim = call.args[0].ndim
    axes = list(range(ndim - len(shape), ndim))
    ms = g.reduce("ReduceMean", g.node("Mul", [x, x]), axes, True)
    rms = g.node("Sqrt", [g.node("Add", [ms, g.scalar(float(call.param("eps", 1e-6)), dtype)])])
    y = g.node("Div", [x, rms])
    if call.param("weight") is not None:
        y = g.node("Mul", [y, g.arg(call, "weight")])
    return [y]


@maps(N.GroupNorm)
def _group_norm(g, call):
    """x (N, C, *) as (N, G, -1), standardised per group, back to x's shape, then the affine."""
    x = g.arg(call, 0)
    ndim = call.args[0].ndim
    dtype = call.outputs[0].dtype
    groups = int(call.param("num_groups", 1))
    grouped = g.node("Reshape", [x, g.ints([0, groups, -1])])
    y = _standardize(g, grouped, [2], float(call.param("eps", 1e-5)), dtype)
    y = g.node("Reshape", [y, g.node("Shape", [x])])
    if call.param("weight") is not None:
        y = g.node("Mul", [y, _per_channel(g, g.arg(call, "weight"), ndim)])
    if call.param("bias") is not None:
        y = g.node("Add", [y, _per_channel(g, g.arg(call, "bias"), ndim)])
    return [y]
