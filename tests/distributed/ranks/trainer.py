"""Trainer.fit under MPI (argv: out_dir, epochs, [resume checkpoint]). Every rank writes
history_rank<r>.json and, on rank 0, weights.npz and eval.json, for test_trainer.py."""

import copy
import json
import os
import sys
from pathlib import Path

import numpy as np

import neuronet as nt
import neuronet.distributed as dist
import neuronet.io
from neuronet import nn, optim
from neuronet.data import TensorDataset
from neuronet.distributed import training as distributed_training
from neuronet.optim.lr_scheduler import ReduceLROnPlateau
from neuronet.train import CSVLogger, EarlyStopping, Trainer

out = Path(sys.argv[1])
epochs = int(sys.argv[2])
resume = sys.argv[3] if len(sys.argv) > 3 else None

rng = np.random.default_rng(0)
w = rng.standard_normal((5, 3))
x = rng.standard_normal((100, 5)).astype(np.float32)
x_val = rng.standard_normal((37, 5)).astype(np.float32)  # 37: the ranks' shares differ
train_set = TensorDataset(x, (x @ w).argmax(1))
val_set = TensorDataset(x_val, (x_val @ w).argmax(1))

nt.manual_seed(0)
model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
optimizer = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
scheduler = ReduceLROnPlateau(optimizer, patience=0, factor=0.5, threshold=0.5)
trainer = Trainer(
    model,
    "cross_entropy",
    optimizer,
    scheduler,
    metrics=["accuracy", "f1"],
    callbacks=[EarlyStopping("val_loss", patience=10), CSVLogger(out / "log.csv", append=True)],
    batch_size=8,
    seed=3,
    out_dir=out,
)
assert not dist.is_initialized()  # the Trainer initialises MPI by itself under mpiexec
if os.environ.get("PMI_RANK", "0") != "0":

    def refuse(*args, **kwargs):
        raise AssertionError("a rank other than 0 wrote a checkpoint")

    neuronet.io.save_checkpoint = refuse
history = trainer.fit(train_set, val=val_set, epochs=epochs, resume=resume)
rank = dist.rank() if dist.is_initialized() else 0
# the wrapper is made once per model (one gradient hook per parameter), and a deep copy of the
# model is a plain model
wrap = distributed_training.for_trainer().wrap
assert wrap(model) is wrap(model)
assert all(len(p._post_hooks) == 1 for p in model.parameters())
assert copy.deepcopy(model).__dict__.get("_neuronet_ddp") is None
final_lr = optimizer.param_groups[0]["lr"]
(out / f"history_rank{rank}.json").write_text(json.dumps([*history.epochs, final_lr]))
evaluation = trainer.evaluate(val_set)
if rank == 0:
    np.savez(out / "weights.npz", *[p.array for p in model.parameters()])
    model.eval()
    with nt.no_grad():
        logits = model(nt.tensor(x_val)).array
    full = {
        "accuracy": float((logits.argmax(1) == val_set.tensors[1].array).mean()),
        "loss": float(nt.functional.cross_entropy(nt.tensor(logits), val_set.tensors[1]).item()),
    }
    (out / "eval.json").write_text(json.dumps({"trainer": evaluation, "single": full}))


class _Stream(nt.data.IterableDataset):  # no __len__: the ranks could not agree on its end
    def __iter__(self):
        yield from zip(x, (x @ w).argmax(1))


try:
    Trainer(model, "cross_entropy", optimizer, quiet=True, monitor=False).fit(_Stream())
except ValueError as error:
    assert "under MPI the training data needs a length" in str(error), error
else:
    raise AssertionError("a stream without __len__ was trained under MPI")


class _Shard(nt.data.IterableDataset):  # each rank yields its own part, and says how much
    def __init__(self):
        self.x = x[dist.rank() :: dist.world_size()]

    def __iter__(self):
        yield from zip(self.x, (self.x @ w).argmax(1))

    def __len__(self):
        return len(self.x)


sharded = Trainer(model, "cross_entropy", optimizer, batch_size=8, quiet=True, monitor=False)
sharded.fit(_Shard())
assert sharded.steps_per_epoch == sharded.global_step == -(-len(_Shard()) // 8), sharded.global_step
