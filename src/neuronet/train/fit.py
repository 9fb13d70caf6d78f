"""fit(): train a model in one call, for the simple case."""

from __future__ import annotations


def fit(
    model,
    train,
    val=None,
    *,
    loss="cross_entropy",
    optimizer="adam",
    lr=1e-3,
    weight_decay=0.0,
    epochs=10,
    batch_size=32,
    metrics=("accuracy",),
    callbacks=(),
    grad_clip=None,
    seed=0,
    quiet=False,
    out_dir=None,
):
    """Train ``model`` on ``train`` and return the ``History``.

    Args:
        model: an ``nn.Module``.
        train, val: Datasets (e.g. ``TensorDataset(x, y)``) or DataLoaders.
        loss: a loss name ('cross_entropy', 'mse', ...), module or function.
        optimizer: 'sgd', 'momentum', 'adam', 'adamw', 'lamb', 'rmsprop', 'adagrad', or an
            optimizer instance.
        lr, weight_decay: for an optimizer given by name.
        epochs, batch_size, metrics, callbacks, grad_clip, seed, quiet, out_dir: as ``Trainer``.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> from neuronet.data import TensorDataset
        >>> x = nt.randn(64, 4); y = (x.sum(1) > 0).long()
        >>> history = fit(nn.Linear(4, 2), TensorDataset(x, y), epochs=2, quiet=True)
        >>> len(history.epochs)
        2
    """
    from neuronet.optim import make_optimizer
    from neuronet.train.trainer import Trainer

    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, model.parameters(), lr=lr, weight_decay=weight_decay)
    trainer = Trainer(
        model,
        loss,
        optimizer,
        metrics=metrics,
        callbacks=callbacks,
        grad_clip=grad_clip,
        batch_size=batch_size,
        seed=seed,
        quiet=quiet,
        out_dir=out_dir,
    )
    return trainer.fit(train, val, epochs=epochs)
