"""Random sampling from given distributions, as PyTorch's: ``multinomial``, ``bernoulli``,
``normal`` and ``poisson``, and the in-place ``Tensor.uniform_`` / ``Tensor.normal_`` (bound
as Tensor methods in ``ops/tensor_methods.py``, with ``Tensor.multinomial``).

Draws come from a neuronet ``Generator`` (``generator=``, or the default one that
``manual_seed`` seeds): the same seed gives the same numbers within neuronet, not PyTorch's.
As in PyTorch, a draw from parameters that require a gradient (``normal``'s mean and std,
``bernoulli``'s and ``poisson``'s probabilities and rates) is in the graph with gradient 0: the
draw is not differentiated. For a sample that gradients flow through, write it with the
reparameterisation ``mean + std * randn(...)``. ``multinomial``'s indices record no graph.

Example:
    >>> import neuronet as nt
    >>> g = nt.Generator().manual_seed(0)
    >>> nt.multinomial(nt.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g).tolist()
    [1, 1]
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.random import resolve


class _Draws(Function):
    """Draws already made from the parameters ``params``, as a graph node whose gradient with
    respect to every parameter is 0 (PyTorch's derivative for normal, bernoulli, poisson)."""

    @staticmethod
    def forward(ctx, values, *params):
        ctx.shapes = [np.shape(p) for p in params]
        return values

    @staticmethod
    def backward(ctx, grad_out):
        return (None, *(np.zeros(shape, grad_out.dtype) for shape in ctx.shapes))


def _array(name: str, what: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    raise TypeError(f"{name}: {what} must be a Tensor, got {type(value).__name__}")


def _float_dtype(array: np.ndarray):
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Category indices drawn with probabilities proportional to the rows of ``input``.

    Args:
        input: (C,) or (N, C) non-negative weights (they need not sum to 1).
        num_samples: draws per row; without replacement at most the row's non-zero weights.
        replacement: draw with replacement (default False: each index at most once per row).
        generator: the ``Generator`` to draw from (default: the global one).

    Returns:
        int64 indices, (num_samples,) or (N, num_samples).
    """
    weights = _array("multinomial", "input", input)
    if weights.ndim not in (1, 2) or weights.shape[-1] == 0:
        raise ValueError(
            f"multinomial: input must be (C,) or (N, C) weights with C >= 1, got shape "
            f"{weights.shape}"
        )
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples < 1:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    rows = np.asarray(weights, dtype=np.float64).reshape(-1, weights.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: the weights must be finite and non-negative")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        row = int(np.argmax(totals <= 0))
        raise ValueError(f"multinomial: row {row} of the weights sums to 0; nothing to draw")
    nonzero = (rows > 0).sum(axis=1)
    if not replacement and (nonzero < num_samples).any():
        row = int(np.argmax(nonzero < num_samples))
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from row {row}, "
            f"which has {int(nonzero[row])} non-zero weights; lower num_samples or pass "
            "replacement=True"
        )
    rng = resolve(generator).rng
    probs = rows / totals[:, None]
    if replacement:  # inverse CDF: one uniform per draw
        cdf = np.cumsum(probs, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        out = np.stack([rng.choice(p.size, num_samples, replace=False, p=p) for p in probs])
    out = out.astype(np.int64)
    return Tensor(out[0] if weights.ndim == 1 else out)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 draws, 1 with probability ``input`` (element-wise), or ``p`` for every element.

    The result has ``input``'s shape and dtype (float32 for an integer input).
    """
    probs = _array("bernoulli", "input", input)
    dtype = _float_dtype(probs)
    if p is not None:
        probs = np.full(probs.shape, p, dtype=np.float64)
    if not np.isfinite(probs).all() or (probs < 0).any() or (probs > 1).any():
        raise ValueError("bernoulli: the probabilities must lie in [0, 1]")
    draws = resolve(generator).rng.random(probs.shape) < probs
    return _Draws.apply(draws.astype(dtype), input)


def normal(
    mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, layout=None
) -> Tensor:
    """Normal draws with the given mean and standard deviation, as ``torch.normal``:

    - ``normal(mean_tensor, std_tensor)``, or a tensor and a number: one draw per element of
      their broadcast shape;
    - ``normal(mean, std, size)`` with two numbers: ``size`` draws (float32, or ``dtype``).
    """
    tensors = [t.array for t in (mean, std) if isinstance(t, Tensor)]
    from neuronet.creation import _made

    _made(np.empty(0), False, device, layout)  # device (the CPU only) and layout, as creation's
    for name, value in (("mean", mean), ("std", std)):
        if not isinstance(value, (Tensor, int, float, np.integer, np.floating)) or isinstance(
            value, bool
        ):
            raise TypeError(f"normal: {name} must be a Tensor or a number, got {value!r}")
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError("normal: std must be non-negative")
    if tensors:
        if size is not None:
            raise ValueError("normal: give size only when mean and std are both numbers")
        shape = np.broadcast_shapes(*(np.shape(v) for v in (m, s)))
        out_dtype = next((a.dtype for a in tensors if a.dtype.kind == "f"), np.dtype(np.float32))
    else:
        if size is None:
            raise ValueError("normal: with a number for mean and for std, give size=(...)")
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        out_dtype = backend.as_dtype(dtype) or np.dtype(np.float32)
    z = resolve(generator).rng.standard_normal(shape)
    return _Draws.apply((z * s + m).astype(out_dtype), mean, std)


def poisson(input, generator=None) -> Tensor:
    """Poisson draws with rates ``input`` (non-negative), same shape and dtype."""
    rates = _array("poisson", "input", input)
    if not np.isfinite(rates).all() or (rates < 0).any():
        raise ValueError("poisson: the rates must be finite and non-negative")
    draws = resolve(generator).rng.poisson(rates)
    return _Draws.apply(draws.astype(_float_dtype(rates)), input)


def uniform_(tensor, from_: float = 0.0, to: float = 1.0, *, generator=None):
    """``tensor.uniform_(from_, to)``: fill with draws uniform on [from_, to), in place (the
    leaf and version rules of every in-place op apply: use it under ``no_grad()``)."""
    from neuronet.autograd.inplace import put

    if not from_ <= to:
        raise ValueError(f"uniform_: expected from <= to, got from={from_} and to={to}")
    draws = resolve(generator).uniform(tensor.shape, from_, to, dtype=_draw_dtype(tensor))
    return put(tensor, ..., draws, "uniform_")


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """``tensor.normal_(mean, std)``: fill with normal draws, in place (as ``uniform_``)."""
    from neuronet.autograd.inplace import put

    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    draws = resolve(generator).normal(tensor.shape, mean, std, dtype=_draw_dtype(tensor))
    return put(tensor, ..., draws, "normal_")


def _draw_dtype(tensor):
    """Draw in the tensor's float dtype (no float64 copy for a float32 tensor)."""
    return tensor.array.dtype if tensor.array.dtype.kind == "f" else np.float64


__all__ = ["bernoulli", "multinomial", "normal", "poisson"]
