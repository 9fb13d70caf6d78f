"""The block path of causal attention (ops/fast/attention_blocks.py): same outputs and gradients as
PyTorch's SDPA, with one chunk of heads or many and a last block shorter than the others, and
only where it applies."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import backend
from neuronet.ops.fast import attention_blocks as AB
from support.paths import unavailable

if unavailable("numba"):
    pytest.skip(unavailable("numba"), allow_module_level=True)


def _run(framework, q, k, v, g, grads=(True, True, True)):
    if framework == "torch":
        import torch

        ts = [torch.tensor(a, requires_grad=r) for a, r in zip((q, k, v), grads)]
        out = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
        out.backward(torch.from_numpy(g))
        return [out.detach().numpy()] + [t.grad.numpy() for t in ts if t.requires_grad]
    ts = [nt.tensor(a, requires_grad=r) for a, r in zip((q, k, v), grads)]
    out = F.scaled_dot_product_attention(*ts, is_causal=True)
    out.backward(nt.tensor(g))
    return [out.array] + [t.grad.array for t in ts if t.requires_grad]


@pytest.mark.parametrize("chunk_bytes", [AB.CHUNK_BYTES, 1])
@pytest.mark.parametrize("shape", [(2, 3, 150, 8), (128, 16)])
def test_blocked_causal_attention_matches_torch(shape, chunk_bytes, monkeypatch, torch):
    monkeypatch.setattr(AB, "CHUNK_BYTES", chunk_bytes)  # 1: one head per chunk
    rng = np.random.default_rng(0)
    q, k, v, g = (rng.standard_normal(shape) for _ in range(4))
    assert AB.applies(nt.tensor(q), nt.tensor(k), nt.tensor(v), None, True, 0.0, False)
    assert AB._query_blocks(shape[-2])[-1][1] == shape[-2]
    for name, a, b in zip(
        ("out", "dq", "dk", "dv"), _run("nt", q, k, v, g), _run("torch", q, k, v, g)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


def test_blocked_causal_attention_float32_and_partial_grads(torch):
    rng = np.random.default_rng(1)
    q, k, v, g = (rng.standard_normal((2, 4, 192, 32)).astype(np.float32) for _ in range(4))
    for grads in [(True, True, True), (False, True, True), (True, False, False)]:
        ours = _run("nt", q, k, v, g, grads)
        theirs = _run("torch", q, k, v, g, grads)
        assert all(a.dtype == np.float32 for a in ours)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_blocked_path_equals_one_matrix_path():
    """The same call through the block path and (numba off) the plain NumPy path."""
    rng = np.random.default_rng(2)
    q, k, v, g = (rng.standard_normal((3, 130, 8)) for _ in range(4))
    blocked = _run("nt", q, k, v, g)
    with backend.fast.using(numba=False):
        plain = _run("nt", q, k, v, g)
    for a, b in zip(blocked, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(
    "shapes, mask, causal, dropout, weights",
    [
        (((2, 200, 8),) * 3, None, False, 0.0, False),  # not causal
        (((2, 200, 8),) * 3, "bool", True, 0.0, False),  # a mask
        (((2, 200, 8),) * 3, None, True, 0.1, False),  # dropout
        (((2, 200, 8),) * 3, None, True, 0.0, True),  # weights returned
        (((2, 100, 8),) * 3, None, True, 0.0, False),  # shorter than two blocks
        (((2, 200, 8), (2, 190, 8), (2, 190, 8)), None, True, 0.0, False),  # L != S
        (((2, 200, 8), (1, 200, 8), (1, 200, 8)), None, True, 0.0, False),  # broadcast batch
    ],
)
def test_block_path_only_where_it_applies(shapes, mask, causal, dropout, weights):
    q, k, v = (nt.zeros(s) for s in shapes)
    m = nt.ones((shapes[0][-2], shapes[1][-2]), dtype="bool") if mask else None
    assert not AB.applies(q, k, v, m, causal, dropout, weights)
