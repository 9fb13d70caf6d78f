"""ONNX mappings of element-wise ops, activations, softmax, reductions and matrix products.

Each mapper reads the call's arguments as the op's ``forward`` received them and returns one
value name per output. Formulas that ONNX has no single op for are written out with the same
math as the neuronet op (e.g. ``softplus`` with its threshold, exact GELU through Erf).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.onnx.graph import ExportError
from neuronet.onnx.registry import maps
from neuronet.ops import activation as A
from neuronet.ops import arithmetic as R
from neuronet.ops import cumulative as Cum
from neuronet.ops import dropout as D
from neuronet.ops import matmul as M
from neuronet.ops import reduction as Red
from neuronet.ops import shape as S
from neuronet.ops import softmax as Sm
from neuronet.ops import statistics as St
from neuronet.ops import unary as U


def _dtype(call):
    return call.outputs[0].dtype


# ---- arithmetic ------------------------------------------------------------------------------
_BINARY = {R.Add: "Add", R.Sub: "Sub", R.Mul: "Mul", R.Div: "Div", R.Pow: "Pow"}


@maps(*_BINARY, U.Maximum, U.Minimum)
def _binary(g, call):
    op = {U.Maximum: "Max", U.Minimum: "Min"}.get(call.fn) or _BINARY[call.fn]
    return [g.node(op, [g.arg(call, 0), g.arg(call, 1)])]


_UNARY = {
    R.Neg: "Neg",
    U.Exp: "Exp",
    U.Log: "Log",
    U.Sqrt: "Sqrt",
    U.Sin: "Sin",
    U.Cos: "Cos",
    U.Erf: "Erf",
    U.Abs: "Abs",
    A.ReLU: "Relu",
    A.Sigmoid: "Sigmoid",
    A.Tanh: "Tanh",
    S.Clone: "Identity",
}


@maps(*_UNARY)
def _unary(g, call):
    return [g.node(_UNARY[call.fn], [g.arg(call, 0)])]


@maps(U.Log1p)
def _log1p(g, call):
    x = g.arg(call, 0)
    return [g.node("Log", [g.node("Add", [x, g.scalar(1, _dtype(call))])])]


@maps(U.Rsqrt)
def _rsqrt(g, call):
    return [g.node("Reciprocal", [g.node("Sqrt", [g.arg(call, 0)])])]


@maps(U.Square)
def _square(g, call):
    x = g.arg(call, 0)
    return [g.node("Mul", [x, x])]


@maps(U.Clamp, A.Hardtanh)
def _clip(g, call):
    x = g.arg(call, 0)
    if call.fn is A.Hardtanh:
        lo = call.param("min_val", -1.0)
        hi = call.param("max_val", 1.0)
    else:
        lo = call.param("lo")
        hi = call.param("hi")
    dtype = _dtype(call)
    bounds = ["" if lo is None else g.scalar(lo, dtype), "" if hi is None else g.scalar(hi, dtype)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return [g.node("Clip", [x, *bounds])]


@maps(U.ClampTensor)
def _clamp_tensor(g, call):
    y = g.arg(call, 0)
    if call.args[1] is not None:
        y = g.node("Max", [y, g.arg(call, 1)])
    if call.args[2] is not None:
        y = g.node("Min", [y, g.arg(call, 2)])
    return [y]


@maps(S.Cast)
def _cast(g, call):
    from neuronet.onnx.graph import np_dtype_to_onnx

    return [g.node("Cast", [g.arg(call, 0)], to=np_dtype_to_onnx(call.outputs[0].dtype))]


# ---- activations -----------------------------------------------------------------------------
@maps(A.LeakyReLU)
def _leaky_relu(g, call):
    slope = float(call.param("negative_slope", 0.01))
    return [g.node("LeakyRelu", [g.arg(call, 0)], alpha=slope)]


@maps(A.ELU)
def _elu(g, call):
    return [g.node("Elu", [g.arg(call, 0)], alpha=float(call.param("alpha", 1.0)))]


@maps(A.SiLU)
def _silu(g, call):
    x = g.arg(call, 0)
    return [g.node("Mul", [x, g.node("Sigmoid", [x])])]


@maps(A.Softplus)
def _softplus(g, call):
    """y = softplus(beta x) / beta where beta x <= threshold, else x (as the op)."""
    x = g.arg(call, 0)
    dtype = _dtype(call)
    beta = float(call.param("beta", 1.0))
    threshold = float(call.param("threshold", 20.0))
    z = x if beta == 1 else g.node("Mul", [x, g.scalar(beta, dtype)])
    soft = g.node("Softplus", [z])
    if beta != 1:
        soft = g.node("Div", [soft, g.scalar(beta, dtype)])
    above = g.node("Greater", [z, g.scalar(threshold, dtype)])
    return [g.node("Where", [above, x, soft])]


@maps(A.GELU)
def _gelu(g, call):
    """x * (1 + erf(x / sqrt 2)) / 2 (exact GELU; opset 20's Gelu op is the same)."""
    x = g.arg(call, 0)
    dtype = _dtype(call)
    if g.opset >= 20:
        return [g.node("Gelu", [x])]
    erf = g.node("Erf", [g.node("Mul", [x, g.scalar(math.sqrt(0.5), dtype)])])
    cdf = g.node("Mul", [g.node("Add", [erf, g.scalar(1, dtype)]), g.scalar(0.5, dtype)])
    return [g.node("Mul", [x, cdf])]


@maps(A.GELUTanh)
def _gelu_tanh(g, call):
    """x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3)))."""
    x = g.arg(call, 0)
    dtype = _dtype(call)
    if g.opset >= 20:
        return [g.node("Gelu", [x], approximate="tanh")]
    cube = g.node("Mul", [g.node("Mul", [x, x]), x])
    inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715, dtype)])])
    t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dtype)])])
    half = g.node("Mul", [x, g.scalar(0.5, dtype)])
    return [g.node("Mul", [half, g.node("Add", [t, g.scalar(1, dtype)])])]


@maps(Sm.Softmax, Sm.LogSoftmax)
def _softmax(g, call):
    op = "Softmax" if call.fn is Sm.Softmax else "LogSoftmax"
    return [g.node(op, [g.arg(call, 0)], axis=int(call.param("dim")))]


@maps(D.Dropout, D.AlphaDropout)
def _dropout(g, call):
    raise ExportError(
        f"{call.where()} runs in training mode (a random mask); export uses eval mode, so this "
        "dropout was called with training=True explicitly: call it with training=self.training "
        "or use nn.Dropout"
    )


# ---- reductions ------------------------------------------------------------------------------
def _axes(call):
    dims = call.param("dims")
    return None if dims is None else list(dims)


@maps(Red.Sum, Red.Mean, Red.Prod, Red.LogSumExp)
def _reduce(g, call):
    op = {
        Red.Sum: "ReduceSum",
        Red.Mean: "ReduceMean",
        Red.Prod: "ReduceProd",
        Red.LogSumExp: "ReduceLogSumExp",
    }[call.fn]
    axes = _axes(call)
    if axes is None:
        axes = list(range(call.args[0].ndim))
    return [g.reduce(op, g.arg(call, 0), axes, call.param("keepdim", False))]


@maps(Red.Amax)
def _amax(g, call):
    op = "ReduceMax" if call.param("largest", True) else "ReduceMin"
    axes = _axes(call)
    if axes is None:
        axes = list(range(call.args[0].ndim))
    return [g.reduce(op, g.arg(call, 0), axes, call.param("keepdim", False))]


@maps(St.Var, St.Std)
def _var(g, call):
    """sum((x - mean)**2) / (n - correction), and its square root for std."""
    x = g.arg(call, 0)
    dtype = _dtype(call)
    shape = call.args[0].shape
    axes = _axes(call)
    if axes is None:
        axes = list(range(len(shape)))
    n = int(np.prod([shape[a] for a in axes]))
    dof = max(n - call.param("correction", 1), 0)
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, True)])
    squares = g.reduce("ReduceSum", g.node("Mul", [centered, centered]), axes, False)
    if call.param("keepdim", False):
        squares = g.unsqueeze(squares, axes)
    var = g.node("Div", [squares, g.scalar(dof if dof else 0.0, dtype)])
    return [g.node("Sqrt", [var]) if call.fn is St.Std else var]


@maps(Red.MaxDim)
def _max_dim(g, call):
    x = g.arg(call, 0)
    dim = int(call.param("dim", 0))
    keep = int(bool(call.param("keepdim", False)))
    largest = call.param("largest", True)
    values = g.reduce("ReduceMax" if largest else "ReduceMin", x, [dim], keep)
    arg = "ArgMax" if largest else "ArgMin"
    indices = g.node(arg, [x], axis=dim, keepdims=keep, select_last_index=0)
    return [values, indices]


@maps(Cum.CumSum)
def _cumsum(g, call):
    dim = g.const(np.asarray(call.param("dim", 0), dtype=np.int64))
    return [g.node("CumSum", [g.arg(call, 0), dim])]


@maps(Red.Norm)
def _norm(g, call):
    p = call.param("p", 2.0)
    axes = _axes(call)
    if axes is None:
        axes = list(range(call.args[0].ndim))
    keep = call.param("keepdim", False)
    x = g.arg(call, 0)
    if p == 2:
        return [g.reduce("ReduceL2", x, axes, keep)]
    if p == 1:
        return [g.reduce("ReduceL1", x, axes, keep)]
    if p == math.inf:
        return [g.reduce("ReduceMax", g.node("Abs", [x]), axes, keep)]
    raise ExportError(f"{call.where()}: norm with p={p} has no ONNX mapping (p = 1, 2, inf do)")


# ---- matrix products -------------------------------------------------------------------------
@maps(M.MatMul)
def _matmul(g, call):
    return [g.node("MatMul", [g.arg(call, 0), g.arg(call, 1)])]


@maps(M.Outer)
def _outer(g, call):
    a = g.unsqueeze(g.arg(call, 0), [1])
    b = g.unsqueeze(g.arg(call, 1), [0])
    return [g.node("Mul", [a, b])]


@maps(M.Linear)
def _linear(g, call):
    """x @ W^T + b: Gemm for 2-D inputs, MatMul with the transposed weight otherwise."""
    x = g.arg(call, 0)
    w = g.arg(call, 1)
    b = None if call.param("bias") is None else g.arg(call, "bias")
    if call.args[0].ndim == 2:
        return [g.node("Gemm", [x, w] + ([b] if b else []), transB=1)]
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return [g.node("Add", [y, b]) if b else y]
