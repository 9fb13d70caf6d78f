"""``summary(model, input_size)``: a Keras/torchinfo-style table of a model's layers.

It runs one dummy forward pass (under ``no_grad``, in eval mode, each module's training flag
restored afterwards) with forward hooks on every module, and reports for each call: the layer's
path and type, its output shape and its own parameter count; then the totals (shared parameters
counted once), and the memory of the parameters and of the activations.

Example:
    >>> import neuronet as nt
    >>> from neuronet import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> s = nt.summary(net, (1, 4), verbose=False)
    >>> s.total_params, s.trainable_params
    (58, 58)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.backend import DEFAULT_DTYPE, as_dtype

_MB = 1024.0**2
_WIDTH = 88


@dataclass
class LayerRow:
    """One module call: its path, type, depth in the tree, output shape and own parameters."""

    path: str
    type_name: str
    depth: int
    output_shape: object = None
    params: int = 0
    output_bytes: int = 0
    is_leaf: bool = True


@dataclass
class ModelSummary:
    """The result of ``summary``: ``str(s)`` is the table; the numbers are attributes."""

    model_name: str
    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_bytes: int = 0
    params_bytes: int = 0
    buffers_bytes: int = 0
    activations_bytes: int = 0

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def params_mb(self) -> float:
        return self.params_bytes / _MB

    @property
    def activations_mb(self) -> float:
        return self.activations_bytes / _MB

    @property
    def input_mb(self) -> float:
        return self.input_bytes / _MB

    @property
    def total_mb(self) -> float:
        return (
            self.input_bytes + self.params_bytes + self.buffers_bytes + self.activations_bytes
        ) / _MB

    def __str__(self) -> str:
        heavy = "=" * _WIDTH
        light = "-" * _WIDTH
        lines = [heavy, f"{'Layer (type)':<46}{'Output Shape':<28}{'Param #':>14}", heavy]
        for row in self.rows:
            name = row.path or self.model_name
            label = ("  " * row.depth) + (f"{name} ({row.type_name})" if row.path else name)
            params = f"{row.params:,}" if row.params else "--"
            lines.append(f"{label:<46}{_format_shape(row.output_shape):<28}{params:>14}")
        lines += [
            heavy,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            light,
            f"Input size (MB): {self.input_mb:.2f}",
            f"Forward activations (MB): {self.activations_mb:.2f}",
            f"Params size (MB): {self.params_mb:.2f}",
            f"Buffers size (MB): {self.buffers_bytes / _MB:.2f}",
            f"Estimated total size (MB): {self.total_mb:.2f}",
            heavy,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _format_shape(shape) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "(" + ", ".join(str(d) for d in shape) + ")" if len(shape) != 1 else f"({shape[0]},)"


def _shapes_and_bytes(output):
    """The output's shape(s) (nested lists for tuples) and the bytes its tensors hold."""
    if isinstance(output, Tensor):
        return tuple(output.shape), output.array.nbytes
    if isinstance(output, (tuple, list)):
        shapes = []
        total = 0
        for item in output:
            shape, nbytes = _shapes_and_bytes(item)
            if shape is not None:
                shapes.append(shape)
                total += nbytes
        return (shapes or None), total
    if isinstance(output, dict):
        return _shapes_and_bytes(list(output.values()))
    return None, 0


def _dummy_inputs(input_size, batch_size, dtype) -> list:
    sizes = input_size
    if (
        isinstance(sizes, (tuple, list))
        and sizes
        and all(isinstance(s, (int, np.integer)) for s in sizes)
    ):
        sizes = [tuple(sizes)]
    elif isinstance(sizes, (tuple, list)) and all(isinstance(s, (tuple, list)) for s in sizes):
        sizes = [tuple(s) for s in sizes]
    else:
        raise TypeError(
            f"summary: input_size must be a shape such as (32, 784) or a list of shapes, got "
            f"{input_size!r}"
        )
    if batch_size is not None:
        sizes = [(batch_size,) + s for s in sizes]
    dtypes = dtype if isinstance(dtype, (list, tuple)) else [dtype] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: {len(sizes)} input shapes but {len(dtypes)} dtypes")
    rng = np.random.default_rng(0)
    inputs = []
    for shape, dt in zip(sizes, dtypes):
        dt = as_dtype(dt) or DEFAULT_DTYPE
        if dt.kind == "f":
            inputs.append(Tensor(rng.standard_normal(shape).astype(dt)))
        else:
            inputs.append(Tensor(np.zeros(shape, dtype=dt)))  # valid indices for embeddings
    return inputs


def summary(
    model,
    input_size=None,
    batch_size: int | None = None,
    dtype=None,
    input_data=None,
    verbose: bool = True,
) -> ModelSummary:
    """Run a dummy forward pass through ``model`` and tabulate its layers.

    Args:
        model: any Module.
        input_size: the input shape *including* the batch dimension, e.g. (32, 1, 28, 28)
            (torchinfo's convention), or a list of shapes for a model with several inputs.
        batch_size: if given, ``input_size`` excludes the batch dimension and this is prepended
            (torchsummary's convention).
        dtype: dtype of the dummy input(s) (float32 default; integer inputs are all zeros, so
            valid embedding indices), one per input when a list.
        input_data: real input tensor(s) to use instead of ``input_size``.
        verbose: print the table (default True).

    Returns:
        A ``ModelSummary``: ``str()`` is the table; ``.total_params``, ``.trainable_params``,
        ``.params_mb``, ``.activations_mb`` and ``.rows`` hold the numbers.
    """
    if input_data is not None:
        inputs = list(input_data) if isinstance(input_data, (tuple, list)) else [input_data]
    elif input_size is not None:
        inputs = _dummy_inputs(input_size, batch_size, dtype)
    else:
        raise TypeError("summary: give input_size (e.g. (32, 784)) or input_data")
    result = ModelSummary(type(model).__name__)
    rows = result.rows
    hooks = []
    modes = [(m, m.training) for m in model.modules()]
    for path, module in model.named_modules():
        depth = path.count(".") + 1 if path else 0
        is_leaf = not any(True for _ in module.children())
        own = sum(p.numel() for p in module.parameters(recurse=False))

        def pre_hook(mod, args, path=path, depth=depth, is_leaf=is_leaf, own=own):
            rows.append(LayerRow(path, type(mod).__name__, depth, None, own, 0, is_leaf))
            mod._summary_rows.append(rows[-1])

        def post_hook(mod, args, output):
            row = mod._summary_rows.pop()
            row.output_shape, row.output_bytes = _shapes_and_bytes(output)

        object.__setattr__(module, "_summary_rows", [])
        hooks.append(module.register_forward_pre_hook(pre_hook))
        hooks.append(module.register_forward_hook(post_hook))
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for handle in hooks:
            handle.remove()
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
            module.__dict__.pop("_summary_rows", None)
    params = list(model.parameters())
    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    result.params_bytes = sum(p.array.nbytes for p in params)
    result.buffers_bytes = sum(b.array.nbytes for b in model.buffers())
    result.input_bytes = sum(t.array.nbytes for t in inputs if isinstance(t, Tensor))
    result.activations_bytes = sum(r.output_bytes for r in rows if r.is_leaf)
    if verbose:
        print(result)
    return result


__all__ = ["summary", "ModelSummary"]
