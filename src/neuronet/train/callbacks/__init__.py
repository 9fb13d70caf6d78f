"""Callbacks, one per file: the hooks the training loop calls (see ``base.py``)."""

from __future__ import annotations

from neuronet.train.callbacks.base import Callback, CallbackList  # noqa: F401
from neuronet.train.callbacks.checkpoint import ModelCheckpoint  # noqa: F401
from neuronet.train.callbacks.csv_logger import CSVLogger  # noqa: F401
from neuronet.train.callbacks.early_stopping import EarlyStopping  # noqa: F401
from neuronet.train.callbacks.history import History  # noqa: F401
from neuronet.train.callbacks.lr_monitor import LRMonitor  # noqa: F401
from neuronet.train.callbacks.periodic_validation import PeriodicValidation  # noqa: F401
from neuronet.train.callbacks.progress_bar import ProgressBar  # noqa: F401
from neuronet.train.callbacks.tensorboard import TensorBoardLogger  # noqa: F401
from neuronet.train.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
