"""Collectives and DistributedDataParallel behaviours, each check printing ``rank R OK name``
(run under mpiexec -n 2 by test_ddp.py, which asserts every line)."""

import numpy as np

import neuronet as nt
import neuronet.distributed as dist
import neuronet.functional as F
from neuronet import nn
from neuronet.distributed import DistributedDataParallel as DDP
from neuronet.distributed import DistributedError

dist.init(timeout=60)
rank, world = dist.rank(), dist.world_size()
assert world == 2


def ok(name):
    print(f"rank {rank} OK {name}.", flush=True)


def expect_error(fn, *fragments):
    try:
        fn()
    except (DistributedError, ValueError, TypeError) as error:
        text = str(error)
        missing = [f for f in fragments if f not in text]
        assert not missing, f"rank {rank}: {missing} not in {text!r}"
        return text
    raise AssertionError(f"rank {rank}: no error raised")


def same_on_all_ranks(array) -> bool:
    a = np.asarray(array, np.float64).reshape(-1).copy()
    high, low = a.copy(), a.copy()
    dist.all_reduce(high, "max")
    dist.all_reduce(low, "min")
    return bool(np.array_equal(high, low))


# ---- collectives ------------------------------------------------------------------------------
x = np.array([1.0 + rank, 10.0 * (rank + 1)])
assert dist.all_reduce(x.copy(), "sum").tolist() == [3.0, 30.0]
assert dist.all_reduce(x.copy(), dist.ReduceOp.AVG).tolist() == [1.5, 15.0]
assert dist.all_reduce(x.copy(), "max").tolist() == [2.0, 20.0]
assert dist.all_reduce(x.copy(), "min").tolist() == [1.0, 10.0]
assert dist.all_reduce(x.copy(), "product").tolist() == [2.0, 200.0]
counts = np.array([rank + 1], np.int64)
dist.all_reduce(counts)
assert counts.tolist() == [3]
t = nt.tensor(np.full(3, float(rank)))
assert dist.all_reduce(t) is t and t.array.tolist() == [1.0, 1.0, 1.0]
b = np.arange(4.0) * (rank + 1)
dist.broadcast(b, src=1)
assert b.tolist() == [0.0, 2.0, 4.0, 6.0]
dist.barrier()
expect_error(lambda: dist.all_reduce(np.ones((4, 4))[:, 0]), "C-contiguous", "all_reduce")
expect_error(lambda: dist.all_reduce(np.ones(2), "median"), "unknown op 'median'")
expect_error(lambda: dist.all_reduce([1.0]), "Tensor or a NumPy array")
ok("collectives")

# ---- broadcast_parameters and DDP's broadcast at construction ----------------------------------
nt.manual_seed(rank)  # a different model on each rank
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
dist.broadcast_parameters(model)
assert all(same_on_all_ranks(t.array) for t in model.state_dict().values())
ok("broadcast_parameters")
nt.manual_seed(rank)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
ddp = DDP(model, bucket_cap_mb=1e-4)
assert all(same_on_all_ranks(p.array) for p in model.parameters())
assert "module.0.weight" in ddp.state_dict()
ok("ddp_broadcasts_rank0_weights")

# ---- averaged gradients --------------------------------------------------------------------------
rng = np.random.default_rng(rank)
xb = nt.tensor(rng.standard_normal((5, 3)))
yb = nt.tensor(rng.integers(0, 2, 5))
local = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
local.load_state_dict(model.state_dict())
F.cross_entropy(local(xb), yb).backward()
F.cross_entropy(ddp(xb), yb).backward()
for p, q in zip(model.parameters(), local.parameters()):
    expected = dist.all_reduce(q.grad.array.copy(), "mean")
    np.testing.assert_allclose(p.grad.array, expected, rtol=1e-14, atol=1e-15)
    assert same_on_all_ranks(p.grad.array)
ok("gradients_averaged")

# ---- overlap: the first bucket is averaged while backward still runs ------------------------
for progress in ("test", "thread"):
    nt.manual_seed(0)
    deep = nn.Sequential(
        nn.Linear(3, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2)
    )
    ddp_o = DDP(deep.double(), bucket_cap_mb=0.5 / 1024, progress=progress)
    first = ddp_o.buckets[0]
    assert len(ddp_o.buckets) >= 3 and "0.weight" not in first.names
    seen = []

    def first_bucket_done(grad, ddp_o=ddp_o, first=first, seen=seen):
        """Runs when backward reaches the first layer (its bucket is the last one)."""
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if ddp_o.progress == "test":
                ddp_o.reducer._poll()  # what every gradient hook does
                done = first.request is not None and first not in ddp_o.reducer.inflight
            else:
                done = first.request is not None and first.request.is_set()
            if done:
                break
            time.sleep(0.001)
        seen.append(done)

    deep[0].weight.register_hook(first_bucket_done)
    F.cross_entropy(ddp_o(xb), yb).backward()
    assert seen == [True], f"rank {rank} {progress}: bucket 0 not averaged during backward"
    assert same_on_all_ranks(deep[4].weight.grad.array)
ok("overlap_during_backward")

# ---- gradient_as_bucket_view: the averages stay in the buckets ---------------------------------
view_model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
view_model.load_state_dict(model.state_dict())
ddp_v = DDP(view_model, gradient_as_bucket_view=True)
model.zero_grad()
F.cross_entropy(ddp(xb), yb).backward()
F.cross_entropy(ddp_v(xb), yb).backward()
buffers = [b.buffer for b in ddp_v.buckets]
for p, q in zip(view_model.parameters(), model.parameters()):
    assert any(np.shares_memory(p.grad.array, buf) for buf in buffers)
    np.testing.assert_array_equal(p.grad.array, q.grad.array)
ok("gradient_as_bucket_view")

# ---- no_sync: accumulate locally, average the sum on the last micro-batch ----------------------
model.zero_grad()
local.zero_grad()
step_before = ddp.reducer.step
x2 = nt.tensor(rng.standard_normal((5, 3)))
with ddp.no_sync():
    assert not ddp.require_backward_grad_sync
    F.cross_entropy(ddp(xb), yb).backward()
assert ddp.reducer.step == step_before  # nothing was communicated
F.cross_entropy(ddp(x2), yb).backward()
assert ddp.reducer.step == step_before + 1
F.cross_entropy(local(xb), yb).backward()
F.cross_entropy(local(x2), yb).backward()
for p, q in zip(model.parameters(), local.parameters()):
    expected = dist.all_reduce(q.grad.array.copy(), "mean")
    np.testing.assert_allclose(p.grad.array, expected, rtol=1e-13, atol=1e-15)
ok("no_sync")


# ---- unused parameters -------------------------------------------------------------------------
class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(3, 4)
        self.left = nn.Linear(4, 2)
        self.right = nn.Linear(4, 2)
        self.never = nn.Linear(4, 2)

    def forward(self, x, use_right):
        h = self.trunk(x).tanh()
        return self.right(h) if use_right else self.left(h)


heads = TwoHeads().double()
ddp = DDP(heads, find_unused_parameters=True, progress="test")
F.cross_entropy(ddp(xb, use_right=(rank == 0)), yb).backward()  # right on rank 0, left on 1
assert heads.never.weight.grad is None  # unused on every rank: None, as in PyTorch
assert heads.left.weight.grad is not None and heads.right.weight.grad is not None
assert same_on_all_ranks(heads.right.weight.grad.array)
ok("find_unused_parameters")

heads = TwoHeads().double()
ddp = DDP(heads, progress="test")
F.cross_entropy(ddp(xb, use_right=False), yb).backward()  # right and never get no gradient
expect_error(
    lambda: ddp(xb, use_right=False),
    "finished reduction in the prior iteration",
    "right.weight",
    "find_unused_parameters=True",
)
ok("unused_parameter_error")

heads = TwoHeads().double()
ddp = DDP(heads, progress="test")  # one bucket: nothing is sent until every gradient is in
h = ddp.module.trunk(xb).tanh()
F.cross_entropy(heads.left(h), yb).backward(retain_graph=True)
expect_error(
    lambda: F.cross_entropy(heads.right(h), yb).backward(),
    "parameter 'trunk.weight' received its gradient twice in step 0",
)
ok("gradient_twice_error")

# ---- buffers: rank 0's running statistics at every forward --------------------------------------
nt.manual_seed(0)
bn_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
ddp = DDP(bn_model)
bn = bn_model[1]
bn.running_mean.array[...] = rank + 5.0  # diverge, as each rank's batches would make them
seen = []
bn.register_forward_pre_hook(lambda m, args: seen.append(m.running_mean.array.copy()))
ddp(nt.randn(6, 3))
assert seen[0].tolist() == [5.0] * 4  # rank 0's, on both ranks
ok("broadcast_buffers")

# ---- SyncBatchNorm: 2 ranks x 3 samples normalise as 1 process x 6 -------------------------
rng6 = np.random.default_rng(7)
X6 = nt.tensor(rng6.standard_normal((6, 3, 4)))
Y6 = nt.tensor(rng6.integers(0, 2, 6))
mine = slice(3 * rank, 3 * rank + 3)
nt.manual_seed(0)
reference = nn.Sequential(
    nn.Conv1d(3, 3, 1), nn.BatchNorm1d(3), nn.Tanh(), nn.Flatten(), nn.Linear(12, 2)
).double()
synced = nn.Sequential(
    nn.Conv1d(3, 3, 1), nn.BatchNorm1d(3), nn.Tanh(), nn.Flatten(), nn.Linear(12, 2)
).double()
synced.load_state_dict(reference.state_dict())
synced = dist.SyncBatchNorm.convert_sync_batchnorm(synced)
assert isinstance(synced[1], dist.SyncBatchNorm)
ddp = DDP(synced)
out = ddp(nt.tensor(X6.array[mine]))
F.cross_entropy(out, nt.tensor(Y6.array[mine])).backward()
ref_out = reference(X6)
F.cross_entropy(ref_out, Y6).backward()
np.testing.assert_allclose(out.array, ref_out.array[mine], rtol=1e-12, atol=1e-14)
for (name, p), q in zip(synced.named_parameters(), reference.parameters()):
    np.testing.assert_allclose(p.grad.array, q.grad.array, rtol=1e-10, atol=1e-14, err_msg=name)
for key in ("running_mean", "running_var"):
    np.testing.assert_allclose(getattr(synced[1], key).array, getattr(reference[1], key).array)
ok("sync_batchnorm")

# ---- ranks that disagree -----------------------------------------------------------------------
width = 2 if rank == 0 else 3
text = expect_error(
    lambda: DDP(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, width))),
    "gradient bucket layout differs",
    "rank 1 has 'bucket 0: 1.bias (3,) float32'",
    "rank 0 has 'bucket 0: 1.bias (2,) float32'",
)
ok("layout_mismatch")

nt.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
ddp = DDP(model, progress="test")
if rank == 0:  # a micro-batch under no_sync on rank 0 only: the ranks' steps no longer match
    with ddp.no_sync():
        F.cross_entropy(ddp(xb), yb).backward()
expect_error(
    lambda: F.cross_entropy(ddp(xb), yb).backward(),
    "ranks reduced different gradients together",
    "bucket 0 of step 0 after 2 forward passes",
    "bucket 0 of step 0 after 1 forward passes",
    f"rank {1 - rank}",
)
ok("order_mismatch")
dist.barrier()
ok("done")
