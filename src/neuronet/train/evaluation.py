"""The Trainer's passes without gradients: ``evaluate`` (the mean loss and every metric over
a data set, for ``Trainer.evaluate`` and fit's validation) and ``predict`` (the outputs).

Both run the model in eval mode under ``no_grad`` and put its mode back. Evaluation order is
fixed (no shuffling). Under MPI each rank evaluates its shard and the sums are reduced over the
ranks; a stream without ``__len__`` that yields nothing is an error once it has ended.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.distributed import training as distributed
from neuronet.train.batches import batch_count, split_batch


def evaluate(trainer, data, callbacks, interruptible: bool):
    """Mean loss and every metric over ``data``, in eval mode without a graph.

    ``interruptible`` is fit's validation: it returns None when Ctrl-C stopped it (single
    process), and the error for empty data names it."""
    was_training = trainer.model.training
    trainer.model.eval()
    trainer._ranks = distributed.for_trainer()
    trainer._ranks.sync_buffers(trainer.model)  # rank 0's running statistics everywhere
    empty = "fit: the validation data" if interruptible else "evaluate: the data"
    interruptible = interruptible and trainer._ranks.world_size == 1  # ranks stay in step
    metrics = trainer.fresh_metrics()
    for m in metrics:
        m.reset()
    loss_sum, count = 0.0, 0
    loader = trainer._loader(data, False, shard="eval")
    if batch_count(loader) == 0:
        raise ValueError(f"Trainer.{empty} is empty (0 batches)")
    if callbacks is not None:
        callbacks.on_test_begin({})
    try:
        with no_grad():
            for index, batch in enumerate(loader):
                if interruptible and trainer._sigint.requested:
                    return None
                x, y = split_batch(batch)
                output = trainer._forward(x)
                n = len(y) if isinstance(y, Tensor) and y.ndim > 0 else 1
                loss_sum += float(trainer.loss_fn(output, y).item()) * n
                count += n
                for m in metrics:
                    m.update(output.array, y.array if isinstance(y, Tensor) else y)
                if callbacks is not None:
                    callbacks.on_test_batch_end(index, {})
    finally:
        trainer.model.train(was_training)
    if count == 0 and batch_count(loader) is None:  # a stream that yielded nothing
        raise ValueError(f"Trainer.{empty} is empty (0 batches)")
    loss_sum, count = trainer._ranks.reduce(loss_sum, count, metrics)  # over all ranks
    result = {"loss": loss_sum / max(count, 1)}
    result.update({m.name: m.compute() for m in metrics})
    if callbacks is not None:
        callbacks.on_test_end(result)
    return result


def predict(trainer, data) -> Tensor:
    """The model's outputs for every input in ``data``, concatenated along the batch."""
    was_training = trainer.model.training
    trainer.model.eval()
    outputs = []
    try:
        with no_grad():
            for batch in trainer._loader(data, shuffle=False):
                x, _ = split_batch(batch, need_target=False)
                outputs.append(trainer._forward(x).array)
    finally:
        trainer.model.train(was_training)
    if not outputs:
        raise ValueError("Trainer.predict: the data is empty (0 batches)")
    return Tensor(np.concatenate(outputs, axis=0))
