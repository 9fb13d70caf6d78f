"""neuronet: a neural-network framework on NumPy with its own autograd.

import neuronet
from neuronet import nn, optim
import neuronet.functional as F
"""

from __future__ import annotations

from neuronet.backend import bool_, float32, float64, int32, int64  # noqa: F401
from neuronet.autograd import (  # noqa: F401
    Function,
    Tensor,
    detect_anomaly,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from neuronet.creation import (  # noqa: F401
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from neuronet.random import Generator, get_rng_state, manual_seed, set_rng_state  # noqa: F401
from neuronet.ops import tensor_methods as _tensor_methods  # noqa: F401  (binds Tensor methods)
from neuronet.functional import *  # noqa: F401,F403
from neuronet import autograd, functional, nn  # noqa: F401,E402

bool = bool_  # noqa: A001  (neuronet.bool, as torch.bool)
float = float32  # noqa: A001
double = float64
long = int64
__version__ = "0.1.0"


def __getattr__(name):
    # Heavier subpackages load on first use, keeping `import neuronet` fast.
    import importlib

    if name in (
        "optim", "data", "models", "train", "io", "doctor", "cli", "distributed", "onnx", "viz"
    ):  # fmt: skip
        return importlib.import_module(f"neuronet.{name}")
    if name in ("load_model", "save_model"):  # self-describing model folders (io/model_folder)
        from neuronet.io import model_folder

        return getattr(model_folder, name)
    if name == "summary":
        from neuronet.nn.summary import summary

        return summary
    raise AttributeError(f"module 'neuronet' has no attribute {name!r}")
