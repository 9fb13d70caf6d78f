"""ONNX mappings of shape ops, indexing, padding and embedding.

Target shapes that follow the batch size (a reshape to (N, -1), an expand to (N, L, E)) are
built at run time from the batch size (``Graph.shape``); everything else is a constant.
"""

from __future__ import annotations

import numpy as np

from neuronet.onnx.graph import ExportError
from neuronet.onnx.registry import maps
from neuronet.ops import embedding as E
from neuronet.ops import indexing as I
from neuronet.ops import joining as J
from neuronet.ops import padding as P
from neuronet.ops import rearranging as RA
from neuronet.ops import shape as S

INT_MAX = np.iinfo(np.int64).max
INT_MIN = np.iinfo(np.int64).min


def _same_param(call, name):
    """The argument ``name``, which must not change with the batch size or the data."""
    value = call.param(name)
    if call.twin is not None and call.twin.param(name) != value:
        raise ExportError(
            f"{call.where()}: its {name} ({value} and {call.twin.param(name)}) changes with the "
            "batch size or the data; export with dynamic_batch=False"
        )
    return value


@maps(S.Reshape)
def _reshape(g, call):
    return [g.node("Reshape", [g.arg(call, 0), g.out_shape(call, reshape=True)])]


@maps(S.Expand)
def _expand(g, call):
    return [g.node("Expand", [g.arg(call, 0), g.out_shape(call)])]


@maps(S.Permute)
def _permute(g, call):
    return [g.node("Transpose", [g.arg(call, 0)], perm=[int(p) for p in call.param("perm")])]


@maps(J.Cat)
def _cat(g, call):
    xs = [g.arg(call, i) for i in range(len(call.args))]
    return [g.node("Concat", xs, axis=int(call.param("dim", 0)))]


@maps(J.Stack)
def _stack(g, call):
    dim = int(call.param("dim", 0))
    xs = [g.unsqueeze(g.arg(call, i), [dim]) for i in range(len(call.args))]
    return [g.node("Concat", xs, axis=dim)]


@maps(J.Split)
def _split(g, call):
    sections = [int(s) for s in _same_param(call, "sections")]
    return g.split(g.arg(call, 0), sections, int(call.param("dim", 0)))


@maps(J.Unbind)
def _unbind(g, call):
    dim = int(call.param("dim", 0))
    n = len(call.outputs)
    if call.twin is not None and len(call.twin.outputs) != n:
        raise ExportError(f"{call.where()}: unbinds a dim that follows the batch size")
    return [g.squeeze(part, [dim]) for part in g.split(g.arg(call, 0), [1] * n, dim)]


@maps(RA.Flip)
def _flip(g, call):
    dims = [int(d) for d in call.param("dims")]
    n = len(dims)
    return [g.slice(g.arg(call, 0), [-1] * n, [INT_MIN] * n, dims, [-1] * n)]


@maps(RA.Repeat)
def _repeat(g, call):
    reps = [int(r) for r in _same_param(call, "reps")]
    x = g.arg(call, 0)
    extra = len(reps) - call.args[0].ndim
    if extra > 0:
        x = g.unsqueeze(x, list(range(extra)))
    return [g.node("Tile", [x, g.ints(reps)])]


@maps(RA.Tri)
def _tri(g, call):
    k = g.const(np.asarray(int(call.param("diagonal", 0)), dtype=np.int64))
    return [g.node("Trilu", [g.arg(call, 0), k], upper=int(bool(call.param("upper", False))))]


# ---- indexing ----------------------------------------------------------------------------------
def _index_parts(index, ndim: int) -> list:
    parts = list(index) if isinstance(index, tuple) else [index]
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        parts[at : at + 1] = [slice(None)] * (ndim - used)
    return parts + [slice(None)] * (ndim - sum(1 for p in parts if p is not None))


def _check_same_index(call, parts) -> None:
    if call.twin is None:
        return
    other = _index_parts(call.twin.param("index"), call.twin.args[0].ndim)
    same = len(other) == len(parts) and all(
        (np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b)
        for a, b in zip(parts, other)
    )
    if not same:
        raise ExportError(
            f"{call.where()}: the index changes with the batch size or the data; export with "
            "dynamic_batch=False or index with fixed positions"
        )


@maps(I.GetItem)
def _getitem(g, call):
    """x[index]: one Slice for the ints and slices, a Gather for one integer array, then
    Squeeze the int-indexed dims and Unsqueeze the None ones."""
    x_shape = call.args[0].shape
    parts = _index_parts(call.param("index"), len(x_shape))
    _check_same_index(call, parts)
    starts, ends, axes, steps = [], [], [], []
    squeeze_in = []
    array_at = None
    axis = 0
    for p in parts:
        if p is None:
            continue
        if isinstance(p, (bool, np.bool_)) or (isinstance(p, np.ndarray) and p.dtype == bool):
            raise ExportError(
                f"{call.where()}: boolean-mask indexing gives a data-dependent shape, which "
                "ONNX export does not support; use where(...) or masked_fill(...)"
            )
        if isinstance(p, np.ndarray):
            if array_at is not None:
                raise ExportError(
                    f"{call.where()}: indexing with more than one integer array has no ONNX "
                    "mapping; index one dim at a time"
                )
            array_at = (axis, p)
        elif isinstance(p, (int, np.integer)):
            i = int(p)
            starts.append(i)
            ends.append(INT_MAX if i == -1 else i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze_in.append(axis)
        elif isinstance(p, slice):
            step = 1 if p.step is None else int(p.step)
            if (p.start, p.stop, step) != (None, None, 1):
                default_start, default_stop = (0, INT_MAX) if step > 0 else (-1, INT_MIN)
                starts.append(default_start if p.start is None else int(p.start))
                ends.append(default_stop if p.stop is None else int(p.stop))
                axes.append(axis)
                steps.append(step)
        axis += 1
    y = g.arg(call, 0)
    if axes:
        y = g.slice(y, starts, ends, axes, steps)
    tags = [("in", k) for k in range(len(x_shape))]
    if array_at is not None:
        at, idx = array_at
        y = g.node("Gather", [y, g.const(idx.astype(np.int64))], axis=at)
        tags[at : at + 1] = [("adv", j) for j in range(idx.ndim)]
    if squeeze_in:
        y = g.squeeze(y, [tags.index(("in", k)) for k in squeeze_in])
    final = []
    axis = 0
    for p in parts:
        if p is None:
            final.append(("new",))
            continue
        if isinstance(p, np.ndarray):
            final += [("adv", j) for j in range(p.ndim)]
        elif isinstance(p, slice):
            final.append(("in", axis))
        axis += 1
    new = [i for i, t in enumerate(final) if t == ("new",)]
    if new:
        y = g.unsqueeze(y, new)
    return [y]


@maps(I.Gather)
def _gather(g, call):
    dim = int(call.param("dim", 0))
    x_shape = call.args[0].shape
    index = call.args[1]
    x = g.arg(call, 0)
    trim = [d for d, (n, m) in enumerate(zip(index.shape, x_shape)) if d != dim and n < m]
    if trim:
        x = g.slice(x, [0] * len(trim), [index.shape[d] for d in trim], trim)
    return [g.node("GatherElements", [x, _int64(g, call, 1)], axis=dim)]


def _int64(g, call, i):
    name = g.arg(call, i)
    value = call.args[i]
    dtype = value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype
    if dtype != np.int64:
        name = g.node("Cast", [name], to=7)  # INT64
    return name


@maps(I.IndexSelect)
def _index_select(g, call):
    dim = int(call.param("dim", 0))
    return [g.node("Gather", [g.arg(call, 0), _int64(g, call, 1)], axis=dim)]


@maps(I.MaskedFill)
def _masked_fill(g, call):
    mask = g.arg(call, 1)
    return [g.node("Where", [mask, g.arg(call, 2), g.arg(call, 0)])]


@maps(I.Where)
def _where(g, call):
    return [g.node("Where", [g.arg(call, 0), g.arg(call, 1), g.arg(call, 2)])]


@maps(E.Embedding)
def _embedding(g, call):
    return [g.node("Gather", [g.arg(call, "weight"), _int64(g, call, 0)], axis=0)]


# ---- padding -----------------------------------------------------------------------------------
def _pads(pairs) -> list:
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


@maps(P.ConstantPad)
def _constant_pad(g, call):
    pairs = _same_param(call, "pairs")
    value = g.scalar(call.param("value", 0), call.outputs[0].dtype)
    return [g.node("Pad", [g.arg(call, 0), g.ints(_pads(pairs)), value], mode="constant")]


@maps(P.EdgePad)
def _edge_pad(g, call):
    pairs = _same_param(call, "pairs")
    mode = call.param("mode", "reflect")
    x = g.arg(call, 0)
    if mode != "circular":
        onnx_mode = {"reflect": "reflect", "replicate": "edge"}[mode]
        return [g.node("Pad", [x, g.ints(_pads(pairs))], mode=onnx_mode)]
    if g.opset >= 19:
        return [g.node("Pad", [x, g.ints(_pads(pairs))], mode="wrap")]
    for d, (lo, hi) in enumerate(pairs):  # circular: [x[-lo:], x, x[:hi]] along each dim
        pieces = []
        if lo:
            pieces.append(g.slice(x, [-int(lo)], [INT_MAX], [d]))
        pieces.append(x)
        if hi:
            pieces.append(g.slice(x, [0], [int(hi)], [d]))
        if len(pieces) > 1:
            x = g.node("Concat", pieces, axis=d)
    return [x]
