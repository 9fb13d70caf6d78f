"""PyTorch's own sample inputs (``op_db``) through every op neuronet shares with PyTorch.

For each shared OpInfo and dtype (float64 and float32; int64 for integer-only ops), up to
``opdb.MAX_SAMPLES`` samples (spread evenly over op_db's list, always the same ones) run through
both frameworks: outputs (shape, dtype, values) and the gradients of every tensor input for one
random cotangent must match; random ops are compared by distribution. A sample that differs must
be listed in ``support/opdb_deviations.py`` with its reason. See ``support/opdb.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

TORCH_REASON = "torch not installed; install the `torch` extra (torch==2.13.0) to run parity tests"

pytest.importorskip("torch", reason=TORCH_REASON)
pytest.importorskip("expecttest", reason="op_db needs the expecttest package (the torch extra)")

import neuronet as nt  # noqa: E402
from support import opdb  # noqa: E402
from support.opdb_deviations import DEVIATIONS, absent_names  # noqa: E402

pytestmark = pytest.mark.parity

OP_DB = opdb.load_op_db()
SHARED = opdb.shared_ops(OP_DB)
CASES = [(info, fn, dtype) for info, fn in SHARED for dtype in opdb.sample_dtypes(info)]


def _deviation(info, sample, dtype):
    for d in DEVIATIONS:
        if d.op == opdb.opinfo_id(info) and dtype in d.dtypes and d.match(sample):
            return d
    return None


@pytest.mark.parametrize(
    "info, fn, dtype", CASES, ids=[f"{opdb.opinfo_id(i)}-{d}" for i, _, d in CASES]
)
def test_opdb_samples_match_torch(info, fn, dtype):
    unexplained = []
    stale = []
    for i, sample in enumerate(opdb.samples(info, dtype)):
        deviation = _deviation(info, sample, dtype)
        random = opdb.is_random(info, sample)
        runner = opdb.run_random_sample if random else opdb.run_sample
        kwargs = {}
        if deviation is not None and deviation.kind == "precision" and not random:
            kwargs["reference"] = "float64"
        try:
            runner(info, fn, sample, dtype, seed=i, **kwargs)
        except opdb.Unsupported:
            continue  # a dtype or argument neuronet does not represent (counted as n/a)
        except Exception as err:  # noqa: BLE001 - every difference is reported with its message
            if deviation is not None and deviation.kind in ("deliberate", "pending"):
                continue
            msg = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            unexplained.append(f"sample {i} ({opdb.describe(sample)}): {msg}")
        else:
            if deviation is not None and deviation.kind == "deliberate":
                stale.append(f"sample {i} ({opdb.describe(sample)})")
    assert not unexplained, (
        f"{opdb.opinfo_id(info)} [{dtype}] differs from torch on {len(unexplained)} samples "
        "(fix neuronet, or list the sample with its reason in support/opdb_deviations.py):\n"
        + "\n".join(unexplained)
    )
    assert not stale, (
        f"{opdb.opinfo_id(info)} [{dtype}]: these samples now match torch; delete their "
        "'deliberate' entry in support/opdb_deviations.py:\n" + "\n".join(stale)
    )


def test_every_op_db_name_is_shared_or_absent_with_a_reason():
    shared = {info.name for info, _ in SHARED}
    absent = absent_names()
    unaccounted = sorted({info.name for info in OP_DB} - shared - set(absent))
    assert not unaccounted, (
        "op_db names neither shared with neuronet nor listed (with a reason) in "
        f"support/opdb_deviations.py ABSENT: {unaccounted}"
    )
    now_shared = sorted(shared & set(absent))
    assert not now_shared, f"remove these shared ops from ABSENT: {now_shared}"


def test_deviations_name_shared_ops_and_known_kinds():
    ids = {opdb.opinfo_id(info) for info, _ in SHARED}
    for d in DEVIATIONS:
        assert d.op in ids, f"deviation for {d.op}, which neuronet does not share"
        assert d.kind in ("deliberate", "precision", "pending") and d.reason


def _opinfo(name):
    return next(info for info in OP_DB if opdb.opinfo_id(info) == name)


def test_the_harness_catches_a_wrong_value_and_a_wrong_gradient():
    info = _opinfo("mul")
    sample = opdb.samples(info, "float64")[1]

    def wrong_value(a, b):
        return nt.mul(a, b) + 1e-6

    def wrong_gradient(a, b):
        return nt.mul(a, nt.Tensor(b.array))  # b's gradient lost

    with pytest.raises(AssertionError, match="values differ"):
        opdb.run_sample(info, wrong_value, sample, "float64")
    with pytest.raises(AssertionError, match="grad of tensor input 1"):
        opdb.run_sample(info, wrong_gradient, sample, "float64")


def test_random_ops_are_compared_by_distribution_and_a_wrong_one_fails():
    info = _opinfo("nn.functional.dropout")
    sample = next(
        s
        for s in opdb.samples(info, "float64")
        if s.kwargs.get("p") == 0.5 and s.kwargs.get("training") and s.input.numel() > 20
    )
    right = opdb.resolve(info)
    opdb.run_random_sample(info, right, sample, "float64")

    def keeps_too_much(x, p=0.5, training=True):
        return nt.functional.dropout(x, p=0.3, training=training)

    with pytest.raises(AssertionError, match="distributions differ"):
        opdb.run_random_sample(info, keeps_too_much, sample, "float64")


def test_ks_statistic():
    a = np.arange(100.0)
    assert opdb.ks_statistic(a, a) == 0.0
    assert opdb.ks_statistic(a, a + 1000) == 1.0
