"""The ONNX graph under construction: value names, nodes, initializers and shape helpers.

Every tensor of the trace gets one ONNX value name: graph inputs the names the user gave,
parameters and buffers their ``state_dict`` names (as initializers), op outputs fresh names,
and constants (masks, scalars, index arrays) ``const_<n>`` initializers.

A constant is checked against the second trace (see ``export.py``): one that differs is computed
from the input outside the autograd graph, and exporting it as a constant would give a
silently wrong model, so it is an error naming the op that received it. A constant whose shape
follows the batch size is allowed when it is filled with one value (then it is built at run
time from the batch size).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor


class ExportError(RuntimeError):
    """A model that cannot be exported faithfully: the message names the op or module."""


def np_dtype_to_onnx(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class Graph:
    """Nodes and initializers of one export; helpers the op mappings build nodes with.

    Args:
        opset: the target ONNX opset (17..21).
        params: id(tensor or array) -> state_dict name, for the model's parameters and buffers.
        batch: (batch size of the first trace, of the second), or None (fixed batch).
        batch_source: (graph input name, dim) the batch size is read from at run time.
    """

    def __init__(self, opset: int, params: dict, batch, batch_source):
        self.opset = opset
        self.params = params
        self.batch = batch
        self.batch_source = batch_source
        self.nodes = []
        self.initializers = {}  # name -> ndarray
        self.names = {}  # id(tensor) -> value name
        self.live = set()  # ids of tensors that depend on a graph input or a parameter
        self._counter = 0
        self._consts = {}  # (dtype, shape, bytes) -> name, for small repeated constants
        self._batch_value = None
        self.call = None  # the call being mapped (for error messages and node names)

    # ---- names ------------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def bind(self, tensor, name: str) -> None:
        self.names[id(tensor)] = name

    def node(self, op: str, inputs, outputs=1, **attrs):
        """Add an ONNX node; return its output name (or the list of names if outputs > 1)."""
        from onnx import helper

        names = [self.fresh(op.lower()) for _ in range(outputs)]
        where = self.call.module if self.call is not None and self.call.module else "model"
        self.nodes.append(
            helper.make_node(op, list(inputs), names, name=f"{where}/{op}_{self._counter}", **attrs)
        )
        return names[0] if outputs == 1 else names

    # ---- constants --------------------------------------------------------------------------
    def const(self, array, hint: str = "const") -> str:
        """An initializer holding ``array`` (small ones are shared)."""
        array = np.asarray(array)
        key = None
        if array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers[name] = np.ascontiguousarray(array)
        if key is not None:
            self._consts[key] = name
        return name

    def scalar(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype))

    def ints(self, values) -> str:
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1))

    # ---- resolving call arguments -----------------------------------------------------------
    def value(self, tensor, twin=None) -> str:
        """The value name of ``tensor`` (a Tensor or ndarray argument of the current call)."""
        if id(tensor) in self.names:
            return self.names[id(tensor)]
        key = id(tensor)
        if isinstance(tensor, Tensor) and key not in self.params:
            key = id(tensor.array)
        if key in self.params:
            name = self.params[key]
            array = tensor.array if isinstance(tensor, Tensor) else tensor
            self.initializers.setdefault(name, np.ascontiguousarray(array))
            self.names[id(tensor)] = name
            return name
        if id(tensor) in self.live:
            raise ExportError(f"internal: {self.call.where()} uses a value that was not exported")
        return self._constant(tensor, twin)

    def _constant(self, tensor, twin) -> str:
        array = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
        other = None
        if twin is not None:
            other = twin.array if isinstance(twin, Tensor) else np.asarray(twin)
        if other is None or (other.shape == array.shape and _same(array, other)):
            return self.const(array)
        where = self.call.where() if self.call is not None else "the model"
        if other.shape != array.shape and array.size and _uniform(array) and _uniform(other):
            if other.flat[0] == array.flat[0] or (
                np.isnan(array.flat[0]) and np.isnan(other.flat[0])
            ):
                fill = self.const(array.reshape(-1)[:1].reshape(()))
                shape = self.shape(array.shape, other.shape, where=f"a constant of {where}")
                return self.node("Expand", [fill, shape])
        raise ExportError(
            f"{where} receives a tensor (shape {array.shape}, dtype {array.dtype}) that was "
            "computed from the input outside the autograd graph (e.g. with .array, .numpy(), a "
            "comparison or a new Tensor(...)); ONNX export would freeze it as a constant and "
            "give wrong results for other inputs. Compute it with neuronet ops on tensors, or "
            "pass it to the model as an input"
        )

    def arg(self, call, i) -> str:
        """The value name of positional argument ``i`` (an int) or keyword ``i`` (a str)."""
        twin = call.twin
        if isinstance(i, str):
            a = call.param(i)
            b = twin.param(i) if twin is not None else None
        else:
            a = call.args[i]
            b = twin.args[i] if twin is not None else None
        if a is None:
            raise ExportError(f"internal: argument {i} of {call.where()} is None")
        return self.value(a, b)

    # ---- shapes that may follow the batch size ----------------------------------------------
    def batch_size(self) -> str:
        """A 1-D int64 value holding the batch size, read from the graph input at run time."""
        if self._batch_value is None:
            name, dim = self.batch_source
            shape = self.node("Shape", [name])
            self._batch_value = self.node(
                "Slice", [shape, self.ints([dim]), self.ints([dim + 1]), self.ints([0])]
            )
        return self._batch_value

    def dims(self, shape_a, shape_b, where: str = "") -> list:
        """Per dim, an int (fixed) or k meaning k * batch size; error if neither fits."""
        if shape_b is None or self.batch is None:
            return [int(s) for s in shape_a]
        if len(shape_a) != len(shape_b):
            raise ExportError(
                f"{where or self.call.where()}: the number of dims changes with the batch size "
                f"({shape_a} and {shape_b}); export with dynamic_batch=False"
            )
        ba, bb = self.batch
        out = []
        for a, b in zip(shape_a, shape_b):
            if a == b:
                out.append(int(a))
                continue
            k, rest = divmod(b - a, bb - ba)
            if rest or k * ba != a:
                raise ExportError(
                    f"{where or self.call.where()}: a size changes with the batch size in a way "
                    f"the exporter cannot express ({shape_a} at batch {ba}, {shape_b} at batch "
                    f"{bb}); export with dynamic_batch=False"
                )
            out.append(("batch", int(k)))
        return out

    def shape(self, shape_a, shape_b=None, where: str = "", reshape: bool = False) -> str:
        """An int64 shape value: a constant, or built from the batch size at run time.

        With ``reshape`` one batch-dependent dim becomes -1 (Reshape infers it)."""
        dims = self.dims(shape_a, shape_b, where)
        dynamic = [i for i, d in enumerate(dims) if not isinstance(d, int)]
        if not dynamic:
            return self.ints(dims)
        if reshape and len(dynamic) == 1:
            return self.ints([-1 if not isinstance(d, int) else d for d in dims])
        parts = []
        for d in dims:
            if isinstance(d, int):
                parts.append(self.ints([d]))
            elif d[1] == 1:
                parts.append(self.batch_size())
            else:
                parts.append(self.node("Mul", [self.batch_size(), self.ints([d[1]])]))
        return self.node("Concat", parts, axis=0)

    def out_shape(self, call, i: int = 0, reshape: bool = False) -> str:
        """The shape of output ``i`` of ``call`` as a value (see ``shape``)."""
        twin = call.twin.outputs[i].shape if call.twin is not None else None
        return self.shape(call.outputs[i].shape, twin, reshape=reshape)

    # ---- helpers whose ONNX form depends on the opset ---------------------------------------
    def reduce(self, op: str, x: str, axes, keepdims: bool) -> str:
        """ReduceSum/Mean/Max/... over ``axes`` (a list of ints; None = all)."""
        axes_in_input = op == "ReduceSum" or self.opset >= 18
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op, [x], keepdims=keep)
        if axes_in_input:
            return self.node(op, [x, self.ints(list(axes))], keepdims=keep)
        return self.node(op, [x], axes=[int(a) for a in axes], keepdims=keep)

    def unsqueeze(self, x: str, axes) -> str:
        return self.node("Unsqueeze", [x, self.ints(list(axes))])

    def squeeze(self, x: str, axes) -> str:
        return self.node("Squeeze", [x, self.ints(list(axes))])

    def split(self, x: str, sizes, axis: int) -> list:
        if len(sizes) == 1:
            return [self.node("Identity", [x])]
        return self.node("Split", [x, self.ints(sizes)], outputs=len(sizes), axis=int(axis))

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None:
            inputs.append(self.ints(steps))
        return self.node("Slice", inputs)


def _uniform(a: np.ndarray) -> bool:
    first = a.reshape(-1)[:1]
    return bool(np.all((a == first) | (np.isnan(a) & np.isnan(first))))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))
