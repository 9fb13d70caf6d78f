"""Every op in the registry equals PyTorch on every implementation path: float64 tightly
(semantics), float32 realistically."""

from __future__ import annotations

import numpy as np
import pytest

from support.op_specs import OPS
from support.parity import assert_op_parity

WITH_TORCH = [s for s in OPS if s.torch_fn is not None]


@pytest.mark.parametrize("spec", WITH_TORCH, ids=lambda s: s.name)
def test_parity_float64(spec, path, torch):
    assert_op_parity(spec, np.float64, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("spec", WITH_TORCH, ids=lambda s: s.name)
def test_parity_float32(spec, path, torch):
    assert_op_parity(
        spec,
        np.float32,
        rtol=spec.rtol32,
        atol=spec.atol32,
        grad_rtol=spec.grad_rtol32 or max(spec.rtol32, 1e-5),
        grad_atol=spec.grad_atol32 or max(spec.atol32, 1e-6),
    )
