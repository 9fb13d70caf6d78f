"""Comparing neuronet with PyTorch: conversions and the op-parity helper.

``assert_op_parity(spec, dtype)`` builds the same inputs for both frameworks, compares the
forward (shape, dtype, values) and then every input gradient for one random cotangent.
"""

from __future__ import annotations

import numpy as np

import neuronet as nt


def to_torch(value, requires_grad=False):
    import torch

    if isinstance(value, nt.Tensor):
        value = value.array
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(np.array(value))
        if requires_grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    return value


def to_nt(value, requires_grad=False):
    if isinstance(value, np.ndarray):
        return nt.Tensor(np.array(value), requires_grad=requires_grad and value.dtype.kind == "f")
    return value


def as_numpy(value) -> np.ndarray:
    if isinstance(value, nt.Tensor):
        return value.array
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(ours, theirs, rtol, atol, what=""):
    a = as_numpy(ours)
    b = as_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _flatten(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_op_parity(spec, dtype, rtol, atol, grad_rtol=None, grad_atol=None, seed=0):
    """Forward values and gradients (for one random cotangent) equal to torch's."""
    import torch

    grad_rtol = rtol if grad_rtol is None else grad_rtol
    grad_atol = atol if grad_atol is None else grad_atol
    rng = np.random.default_rng(seed)
    raw = spec.make_inputs(rng, dtype)
    ours_in = [
        to_nt(a, requires_grad=spec.differentiable and i in spec.grad_inputs(raw))
        for i, a in enumerate(raw)
    ]
    theirs_in = [
        to_torch(a, requires_grad=spec.differentiable and i in spec.grad_inputs(raw))
        for i, a in enumerate(raw)
    ]
    ours_out = _flatten(spec.fn(*ours_in))
    theirs_out = _flatten(spec.torch_fn(*theirs_in))
    assert len(ours_out) == len(theirs_out), f"{spec.name}: number of outputs differs"
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert_close(o, t, rtol, atol, f"{spec.name} output {k}")
        if o.dtype.kind == "f":
            assert str(o.dtype) == str(t.dtype).replace("torch.", ""), (
                f"{spec.name} output {k}: dtype {o.dtype} != torch {t.dtype}"
            )
    if not spec.differentiable:
        return
    pairs = [(o, t) for o, t in zip(ours_out, theirs_out) if o.requires_grad]
    cot = [rng.standard_normal(o.shape).astype(o.dtype) for o, _ in pairs]
    nt.autograd.run_backward([o for o, _ in pairs], [nt.Tensor(c) for c in cot])
    torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(c) for c in cot])
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if isinstance(o, nt.Tensor) and o.requires_grad:
            assert o.grad is not None, f"{spec.name}: input {i} got no gradient"
            theirs = t.grad if t.grad is not None else torch.zeros_like(t)
            assert_close(o.grad, theirs, grad_rtol, grad_atol, f"{spec.name} grad of input {i}")
