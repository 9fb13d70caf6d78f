"""``neuronet.onnx.export``: trace a model, map every traced call to ONNX nodes, check, save.

Steps:
1. Put the model in eval mode (dropout off, BatchNorm on its running statistics) and run it
   twice with the autograd graph recording (``trace.py``): on the example input, and on a
   second input made of the same rows in another order, with one row more when the batch is
   dynamic. The two traces must make the same calls; comparing them tells which sizes follow
   the batch (those become symbolic) and which constants were computed from the input outside
   the graph (an error: they would be frozen).
2. Walk the first trace from the outputs back to the inputs and keep the calls the outputs
   depend on. Parameters and buffers become initializers named by their ``state_dict`` keys.
3. Emit each call's ONNX nodes with its mapper (``registry.py``); a call without one is an
   error naming the op and the module it ran in.
4. ``onnx.checker.check_model(full_check=True)``, then write the file atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neuronet.autograd.grad_mode import enable_grad
from neuronet.autograd.tensor import Tensor
from neuronet.onnx import registry
from neuronet.onnx.graph import ExportError, Graph, np_dtype_to_onnx
from neuronet.onnx.trace import ModuleCall, Tracer

MIN_OPSET = 17  # LayerNormalization
MAX_OPSET = 21


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "neuronet.onnx.export needs the onnx package; install the extra: "
            "pip install 'neuronet[onnx]'"
        ) from None
    return onnx


def _as_inputs(example_input) -> tuple:
    items = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    out = []
    for i, x in enumerate(items):
        if isinstance(x, np.ndarray):
            x = Tensor(x)
        if not isinstance(x, Tensor):
            raise TypeError(
                f"neuronet.onnx.export: example input {i} must be a Tensor or NumPy array, got "
                f"{type(x).__name__}"
            )
        out.append(x)
    if not out:
        raise ValueError("neuronet.onnx.export: give at least one example input")
    return tuple(out)


def _batch_dims(batch_dim, inputs) -> list:
    dims = list(batch_dim) if isinstance(batch_dim, (tuple, list)) else [batch_dim] * len(inputs)
    if len(dims) != len(inputs):
        raise ValueError(
            f"neuronet.onnx.export: batch_dim has {len(dims)} entries for {len(inputs)} inputs"
        )
    sizes = set()
    for i, (d, x) in enumerate(zip(dims, inputs)):
        if d is None:
            continue
        if not -x.ndim <= d < x.ndim:
            raise ValueError(
                f"neuronet.onnx.export: batch_dim {d} is out of range for input {i} of shape "
                f"{x.shape}; give None for an input without a batch dim"
            )
        sizes.add(x.shape[d])
    if len(sizes) > 1:
        raise ValueError(
            f"neuronet.onnx.export: the inputs have different batch sizes {sorted(sizes)} along "
            f"batch_dim {batch_dim}"
        )
    return [None if d is None else d % x.ndim for d, x in zip(dims, inputs)]


def _second_inputs(inputs, dims, dynamic: bool) -> tuple:
    """The same rows in another order (rolled by one), plus row 0 again when dynamic."""
    out = []
    for x, d in zip(inputs, dims):
        if d is None:
            out.append(Tensor(x.array.copy()))
            continue
        n = x.shape[d]
        rows = list(np.roll(np.arange(n), -1)) + ([0] if dynamic else [])
        out.append(Tensor(np.ascontiguousarray(np.take(x.array, rows, axis=d))))
    return tuple(out)


def _run(model, inputs):
    traced = tuple(Tensor(x.array.copy(), requires_grad=x.dtype.kind == "f") for x in inputs)
    with Tracer(model, whole=tuple(registry.MODULES)) as tape, enable_grad():
        out = model(*traced)
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    flat = []
    for o in outputs:
        if isinstance(o, Tensor):
            flat.append(o)
        elif isinstance(o, (tuple, list)) and all(isinstance(t, Tensor) for t in o):
            flat.extend(o)
        elif o is not None:
            raise ExportError(
                f"neuronet.onnx.export: the model returned a {type(o).__name__}; export needs "
                "tensors (or tuples of tensors)"
            )
    return tape, traced, flat


def _pair(tape_a, tape_b) -> None:
    """Attach each call of the first trace to the same call of the second."""
    if len(tape_a.calls) != len(tape_b.calls):
        raise ExportError(
            f"the model makes {len(tape_a.calls)} op calls for one input and "
            f"{len(tape_b.calls)} for another of a different batch size or content: its "
            "forward depends on the data, which an ONNX graph cannot follow (export with "
            "dynamic_batch=False, or make the control flow fixed)"
        )
    for a, b in zip(tape_a.calls, tape_b.calls):
        if a.fn is not b.fn:
            raise ExportError(
                f"the model calls {a.where()} for one input and {b.where()} for another: the "
                "forward depends on the data or the batch size; export with "
                "dynamic_batch=False or make the control flow fixed"
            )
        a.twin = b


def _edges(call) -> list:
    """The array-valued arguments of a call (where graph edges can come from)."""
    found = []
    for a in list(call.args) + list(call.kwargs.values()):
        if isinstance(a, (Tensor, np.ndarray)):
            found.append(a)
        elif isinstance(a, (tuple, list)):
            found.extend(x for x in a if isinstance(x, (Tensor, np.ndarray)))
    return found


def _live_and_needed(tape, roots: set, outputs) -> list:
    """Calls whose results depend on a graph input or parameter and feed an output."""
    live = set(roots)
    for call in tape.calls:
        if any(id(a) in live for a in _edges(call)):
            live.update(id(o) for o in call.outputs if o is not None)
    needed = set()
    stack = [tape.producer[id(o)][0] for o in outputs if id(o) in tape.producer]
    while stack:
        call = stack.pop()
        if call.index in needed or not any(id(o) in live for o in call.outputs if o is not None):
            continue
        needed.add(call.index)
        for a in _edges(call):
            if id(a) in live and id(a) in tape.producer:
                stack.append(tape.producer[id(a)][0])
    return live, [c for c in tape.calls if c.index in needed]


def _params(model) -> dict:
    names = {}
    for name, t in model.state_dict(keep_vars=True).items():
        names.setdefault(id(t), name)
        names.setdefault(id(t.array), name)
    return names


def _value_info(name, tensor, twin, g: Graph):
    from onnx import helper

    dims = g.dims(tensor.shape, None if twin is None else twin.shape, where=f"value {name!r}")
    shape = [d if isinstance(d, int) else ("N" if d[1] == 1 else f"N*{d[1]}") for d in dims]
    return helper.make_tensor_value_info(name, np_dtype_to_onnx(tensor.dtype), shape)


def _names(given, count: int, default: str, what: str) -> list:
    if given is None:
        return [default if count == 1 else f"{default}_{i}" for i in range(count)]
    given = [given] if isinstance(given, str) else list(given)
    if len(given) != count or len(set(given)) != count:
        raise ValueError(
            f"neuronet.onnx.export: {what} must be {count} distinct names, got {given}"
        )
    return given


def export(
    model,
    example_input,
    path,
    opset: int = 17,
    dynamic_batch: bool = True,
    input_names=None,
    output_names=None,
    batch_dim=0,
):
    """Export ``model`` to an ONNX file at ``path``, traced on ``example_input``.

    Args:
        model: a ``neuronet.nn.Module``; it is run in eval mode (its mode is restored after).
        example_input: a Tensor or array, or a tuple of them for a model with several inputs.
            Integer inputs (token ids) and bool inputs (masks) are supported.
        path: the ``.onnx`` file to write.
        opset: the ONNX opset, 17 to 21.
        dynamic_batch: make the batch dim of the inputs and outputs symbolic ("N").
        input_names, output_names: value names in the graph (default "input", "output", with
            _0, _1, ... when there are several).
        batch_dim: the batch dim of every input (default 0), or one entry per input (None for
            an input without one); e.g. 1 for a sequence-first recurrent or Transformer model.

    Returns:
        The ``onnx.ModelProto`` that was written (``onnx.checker`` has passed on it).

    Raises:
        ExportError: the model uses an op or layer with no ONNX mapping (the message names it
            and the module it ran in), or a value computed outside the autograd graph.
    """
    onnx = _require_onnx()
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(
            f"neuronet.onnx.export: opset must be an int from {MIN_OPSET} to {MAX_OPSET}, got "
            f"{opset!r}"
        )
    registry.load_all()
    inputs = _as_inputs(example_input)
    dims = _batch_dims(batch_dim, inputs)
    in_names = _names(input_names, len(inputs), "input", "input_names")
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        tape_a, traced_a, outs_a = _run(model, inputs)
        tape_b, traced_b, outs_b = _run(model, _second_inputs(inputs, dims, dynamic_batch))
    finally:
        for module, training in modes:  # each module's own mode, as it was
            object.__setattr__(module, "training", training)
    _pair(tape_a, tape_b)
    out_names = _names(output_names, len(outs_a), "output", "output_names")
    batched = [i for i, d in enumerate(dims) if d is not None]
    batch = None
    source = None
    if dynamic_batch and batched:
        first = batched[0]
        batch = (traced_a[first].shape[dims[first]], traced_b[first].shape[dims[first]])
        source = (in_names[first], dims[first])
    g = Graph(opset, _params(model), batch, source)
    roots = {id(x) for x in traced_a} | set(g.params)
    live, calls = _live_and_needed(tape_a, roots, outs_a)
    g.live = live
    for x, name in zip(traced_a, in_names):
        g.bind(x, name)
    for call in calls:
        _emit(g, call)
    graph_outputs = []
    for t, tb, name in zip(outs_a, outs_b, out_names):
        g.call = None
        g.nodes.append(onnx.helper.make_node("Identity", [g.value(t, tb)], [name], name=name))
        graph_outputs.append(_value_info(name, t, tb if batch else None, g))
    graph_inputs = [
        _value_info(name, x, xb if batch else None, g)
        for x, xb, name in zip(traced_a, traced_b, in_names)
    ]
    model_proto = _build(onnx, g, graph_inputs, graph_outputs, type(model).__name__)
    _save(onnx, model_proto, path)
    return model_proto


def _emit(g: Graph, call) -> None:
    g.call = call
    if isinstance(call, ModuleCall):
        mapper = registry.MODULES[call.fn]
    else:
        mapper = registry.mapper_for(call.fn)
        if mapper is None:
            fn = call.fn
            where = f" in module '{call.module}'" if call.module else ""
            raise ExportError(
                f"neuronet.onnx.export: no ONNX mapping for op {fn.__module__}.{fn.__qualname__}"
                f"{where}; it cannot be exported (see docs/export.md for the ops and layers "
                "that can)"
            )
        if call.fn not in registry.FUNCTIONS:  # a fast path (ops/fast/): export its reference
            call.fn = next(base for base in call.fn.__mro__ if base in registry.FUNCTIONS)
    names = mapper(g, call)
    for tensor, name in zip(call.outputs, names):
        if tensor is not None and name is not None:
            g.bind(tensor, name)


def _build(onnx, g: Graph, inputs, outputs, model_name: str):
    from onnx import helper, numpy_helper

    used = {name for node in g.nodes for name in node.input}
    initializers = [
        numpy_helper.from_array(a, name) for name, a in g.initializers.items() if name in used
    ]
    graph = helper.make_graph(g.nodes, model_name, inputs, outputs, initializer=initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", g.opset)],
        producer_name="neuronet",
        producer_version=_version(),
    )
    model.ir_version = 9 if g.opset <= 20 else 10
    onnx.checker.check_model(model, full_check=True)
    return model


def _version() -> str:
    from neuronet import __version__

    return __version__


def _save(onnx, model_proto, path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(model_proto.SerializeToString())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
