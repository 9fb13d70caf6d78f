"""Comparing a neuronet layer with its PyTorch twin: same weights, same input, same everything.

``assert_module_parity(ours, theirs, inputs)`` copies ``theirs.state_dict()`` into ``ours``
(which proves the parameter and buffer names and shapes match), then in each mode (train, eval)
runs the same inputs through both and compares the outputs, the input gradients and every
parameter gradient by name for one random cotangent, and the buffers after the forward.
``assert_state_dict_loads_into_torch`` checks the other direction.
"""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.parity import assert_close, to_nt, to_torch


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def assert_module_parity(
    ours,
    theirs,
    inputs,
    rtol=1e-4,
    atol=1e-5,
    modes=("train", "eval"),
    seed=0,
    load=True,
    double=False,
):
    """Outputs, input grads, parameter grads (by name) and buffers equal torch's.

    Args:
        inputs: NumPy arrays (float ones get requires_grad) or plain values, passed in order.
        double: run both modules in float64 (for tight tolerances); inputs should be float64.
    """
    import torch

    if double:
        theirs.double()
        ours.double()
    if load:
        result = ours.load_state_dict(theirs.state_dict())
        assert not result.missing_keys and not result.unexpected_keys
    rng = np.random.default_rng(seed)
    for mode in modes:
        ours.train(mode == "train")
        theirs.train(mode == "train")
        ours.zero_grad()
        theirs.zero_grad()
        ours_in = [to_nt(a, requires_grad=True) for a in inputs]
        theirs_in = [to_torch(a, requires_grad=True) for a in inputs]
        ours_out = _flat(ours(*ours_in))
        theirs_out = _flat(theirs(*theirs_in))
        assert len(ours_out) == len(theirs_out)
        for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
            assert_close(o, t, rtol, atol, f"{mode}: output {k}")
            assert str(o.dtype) == str(t.dtype).replace("torch.", ""), f"{mode}: dtype {o.dtype}"
        pairs = [(o, t) for o, t in zip(ours_out, theirs_out) if t.requires_grad]
        if pairs:
            cot = [rng.standard_normal(o.shape).astype(o.dtype) for o, _ in pairs]
            nt.autograd.run_backward([o for o, _ in pairs], [nt.Tensor(c) for c in cot])
            torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(c) for c in cot])
            for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
                if isinstance(o, nt.Tensor) and o.requires_grad and t.grad is not None:
                    assert o.grad is not None, f"{mode}: input {i} got no gradient"
                    assert_close(o.grad, t.grad, rtol, atol, f"{mode}: grad of input {i}")
            theirs_params = dict(theirs.named_parameters())
            for name, p in ours.named_parameters():
                q = theirs_params[name]
                if q.grad is None:
                    assert p.grad is None, f"{mode}: {name} has a grad, torch's has none"
                    continue
                assert p.grad is not None, f"{mode}: parameter {name} got no gradient"
                assert_close(p.grad, q.grad, rtol, atol, f"{mode}: grad of {name}")
        theirs_buffers = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            assert_close(b, theirs_buffers[name], rtol, atol, f"{mode}: buffer {name}")


def assert_state_dict_loads_into_torch(ours, theirs, inputs, rtol=1e-5, atol=1e-6):
    """``ours.state_dict()`` loads strictly into ``theirs`` and both then give the same output."""
    import torch

    theirs.load_state_dict(
        {k: torch.from_numpy(v.array.copy()) for k, v in ours.state_dict().items()}
    )
    ours.eval()
    theirs.eval()
    with torch.no_grad(), nt.no_grad():
        ours_out = _flat(ours(*[to_nt(a) for a in inputs]))
        theirs_out = _flat(theirs(*[to_torch(a) for a in inputs]))
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert_close(o, t, rtol, atol, f"output {k} after loading neuronet's state_dict")
