"""neuronet: a neural-network framework on NumPy with its own autograd.

import neuronet
from neuronet import nn, optim
import neuronet.functional as F
"""

from __future__ import annotations

from neuronet.backend import (  # noqa: F401
    bfloat16,
    bool_,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    int32,
    int64,
)
from neuronet.autograd import (  # noqa: F401
    Function,
    Tensor,
    detect_anomaly,
    enable_grad,
    gradcheck,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from neuronet.creation import (  # noqa: F401
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
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
from neuronet.sampling import bernoulli, multinomial, normal, poisson  # noqa: F401
from neuronet.device import DeviceError, device  # noqa: F401
from neuronet.printing import get_printoptions, set_printoptions  # noqa: F401
from neuronet.threads import get_num_threads, set_num_threads  # noqa: F401
from neuronet import cuda  # noqa: F401
from neuronet.ops import tensor_methods as _tensor_methods  # noqa: F401  (binds Tensor methods)
from neuronet.functional import *  # noqa: F401,F403
from neuronet import autograd, functional, nn  # noqa: F401,E402

bool = bool_  # noqa: A001  (neuronet.bool, as torch.bool)
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
half = float16  # exists so that asking for it gives a clear error (neuronet has no float16)
__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    """True if ``obj`` is a neuronet Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def save(obj, f) -> None:
    """Save a state dict, an optimizer state dict, or a dict of those plus numbers, strings and
    lists (a training checkpoint) to ``f``: safetensors plus JSON, never pickle.

    See ``neuronet.io.objects.save`` (this is PyTorch's ``torch.save`` for what people save).
    """
    from neuronet.io.objects import save as save_object

    save_object(obj, f)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, verify=True):
    """Load what ``neuronet.save`` wrote (or, with ``verify=False``, a safetensors state dict
    PyTorch wrote).

    ``map_location`` may name the CPU; ``weights_only`` is always true (no code runs on load);
    ``verify=False`` reads a trusted file without neuronet's checksum (one PyTorch wrote).
    See ``neuronet.io.objects.load``.
    """
    from neuronet.io.objects import load as load_object

    return load_object(
        f, map_location, pickle_module, weights_only=weights_only, mmap=mmap, verify=verify
    )


def __getattr__(name):
    # Heavier subpackages load on first use, keeping `import neuronet` fast.
    import importlib

    if name in (
        "optim", "data", "models", "train", "io", "doctor", "cli", "distributed", "onnx", "viz",
        "utils",
    ):  # fmt: skip
        return importlib.import_module(f"neuronet.{name}")
    if name in ("load_model", "save_model"):  # self-describing model folders (io/model_folder)
        from neuronet.io import model_folder

        return getattr(model_folder, name)
    if name == "summary":
        from neuronet.nn.summary import summary

        return summary
    raise AttributeError(f"module 'neuronet' has no attribute {name!r}")
