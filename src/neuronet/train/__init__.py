"""Training: the Trainer loop, callbacks, metrics, history and plots.

from neuronet.train import Trainer, fit, EarlyStopping, ModelCheckpoint
"""

from __future__ import annotations

from neuronet.train.callbacks import (  # noqa: F401
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LRMonitor,
    ModelCheckpoint,
    PeriodicValidation,
    ProgressBar,
    TensorBoardLogger,
    TerminateOnNaN,
)
from neuronet.train.fit import fit  # noqa: F401
from neuronet.train.metrics import (  # noqa: F401
    F1,
    MAE,
    MSE,
    R2,
    Accuracy,
    Metric,
    Perplexity,
    Precision,
    Recall,
    TopKAccuracy,
    get_metric,
)
from neuronet.train.plot import plot_history, smooth, step_rows  # noqa: F401
from neuronet.train.trainer import Trainer  # noqa: F401
