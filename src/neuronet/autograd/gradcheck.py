"""gradcheck: compare an op's backward with central finite differences, in float64.

For outputs y = f(x_1, ..., x_n) and a random cotangent v (not all ones, which would hide a
transposed Jacobian), the scalar s(x) = <v, f(x)> has the exact gradient ds/dx_i = J_i^T v, which
backward computes. Finite differences estimate it element by element:

    ds/dx_i[j] ~= (s(x + eps e_j) - s(x - eps e_j)) / (2 eps)

and the two must agree: |numerical - analytical| <= atol + rtol * |numerical| for every element.
``fast=True`` checks one random direction u per input instead: <ds/dx, u> against
(s(x + eps u) - s(x - eps u)) / (2 eps) (Chainer's directional check), for large inputs.

The defaults are PyTorch's (eps=1e-6, atol=1e-5, rtol=1e-3), designed for float64 inputs.
Backward is also checked to be linear in the cotangent (2v must give twice the gradient).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import enable_grad
from neuronet.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytical and numerical gradients disagree."""


def _outputs(fn, inputs) -> list:
    out = fn(*inputs)
    if isinstance(out, Tensor):
        return [out]
    return [o for o in out if isinstance(o, Tensor)]


def _scalar(fn, inputs, cotangents) -> float:
    outs = _outputs(fn, inputs)
    return float(sum(np.sum(o.array * v) for o, v in zip(outs, cotangents)))


def _analytical(fn, inputs, cotangents) -> list:
    from neuronet.autograd.engine import run_backward

    with enable_grad():
        outs = _outputs(fn, inputs)
        pairs = [(o, v) for o, v in zip(outs, cotangents) if o.requires_grad]
        if not pairs:
            raise GradcheckError("gradcheck: no output of fn requires grad; nothing to check")
        roots = [o for o, _ in pairs]
        grads = [Tensor(v.astype(o.dtype)) for o, v in pairs]
        wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
        got = run_backward(roots, grads, inputs=wanted, accumulate=False)
    result = []
    it = iter(got)
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad:
            g = next(it)
            result.append(np.zeros_like(t.array) if g is None else g)
        else:
            result.append(None)
    return result


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast=False, seed=0) -> bool:
    """Check ``fn``'s backward against central differences. Returns True or raises.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple of tensors; those with ``requires_grad`` are checked. They
            should be float64 (float32 finite differences are too coarse to check anything).
        eps, atol, rtol: the finite-difference step and the tolerances.
        fast: check one random direction per input instead of every element.
        seed: seeds the random cotangent and directions.

    Raises:
        GradcheckError: naming the input, the worst element and both values.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise GradcheckError(
                f"gradcheck: input {i} has dtype {t.dtype}; finite differences need float64 "
                "inputs (use .double())"
            )
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    cotangents = [rng.standard_normal(o.shape) for o in outs]
    analytical = _analytical(fn, inputs, cotangents)

    doubled = _analytical(fn, inputs, [2.0 * v for v in cotangents])
    for i, (a, b) in enumerate(zip(analytical, doubled)):
        if a is not None and not np.allclose(2.0 * a, b, rtol=1e-7, atol=1e-10):
            raise GradcheckError(
                f"gradcheck: backward is not linear in the output gradient for input {i}: "
                "doubling grad_out did not double the input gradient"
            )

    for i, t in enumerate(inputs):
        if analytical[i] is None:
            continue
        x = t.array
        if fast:
            u = rng.standard_normal(x.shape)
            saved = x.copy()
            x += eps * u
            plus = _scalar(fn, inputs, cotangents)
            x[...] = saved - eps * u
            minus = _scalar(fn, inputs, cotangents)
            x[...] = saved
            numerical = (plus - minus) / (2 * eps)
            exact = float(np.sum(analytical[i] * u))
            if abs(numerical - exact) > atol + rtol * abs(numerical):
                raise GradcheckError(
                    f"gradcheck failed for input {i} (shape {x.shape}) along a random direction: "
                    f"numerical {numerical:.8g}, analytical {exact:.8g}"
                )
            continue
        numerical = np.zeros_like(x)
        flat = x.reshape(-1)  # a view: perturbing it perturbs the input
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = _scalar(fn, inputs, cotangents)
            flat[j] = old - eps
            minus = _scalar(fn, inputs, cotangents)
            flat[j] = old
            numerical.reshape(-1)[j] = (plus - minus) / (2 * eps)
        err = np.abs(numerical - analytical[i])
        bound = atol + rtol * np.abs(numerical)
        if np.any(err > bound):
            worst = np.unravel_index(np.argmax(err - bound), x.shape)
            where = tuple(int(w) for w in worst)
            raise GradcheckError(
                f"gradcheck failed for input {i} (shape {x.shape}) at index {where}: "
                f"numerical {numerical[worst]:.8g}, analytical {analytical[i][worst]:.8g} "
                f"(|difference| {err[worst]:.3g} > tolerance {bound[worst]:.3g})"
            )
    return True
