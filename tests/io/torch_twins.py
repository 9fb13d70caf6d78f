"""PyTorch twins of the reference models, built from the same definition.

The twin of ``neuronet.models.X`` is the source file of X executed with PyTorch's ``nn`` and
``functional`` in place of neuronet's (the two APIs have the same names, arguments and
state-dict keys): the same lines build the same architecture in both frameworks.
"""

from __future__ import annotations

import inspect
import types

import numpy as np

import neuronet.models as models


def _torch_namespace():
    import torch

    class TorchNN(types.ModuleType):
        """torch.nn, with Parameter accepting NumPy arrays (as neuronet's does)."""

        def __getattr__(self, name):
            return getattr(torch.nn, name)

        @staticmethod
        def Parameter(data, requires_grad=True):  # noqa: N802
            return torch.nn.Parameter(torch.as_tensor(np.asarray(data)), requires_grad)

    return torch, TorchNN("nn")


_REWRITES = (
    ("from neuronet import functional as F", "import torch.nn.functional as F"),
    ("from neuronet import nn", "nn = _TORCH_NN"),
    ("from neuronet.models.base import record_config, register", "register = lambda c: c"),
    ("from neuronet.creation import arange", "from torch import arange"),
    ("record_config(self, locals())", "pass"),
)


def twin_class(cls):
    """The PyTorch version of the reference model class ``cls``."""
    torch, nn = _torch_namespace()
    source = inspect.getsource(inspect.getmodule(cls))
    for old, new in _REWRITES:
        source = source.replace(old, new)
    assert "from neuronet import nn" not in source
    namespace = {"_TORCH_NN": nn, "__name__": f"torch_twin_{cls.__module__}"}
    exec(compile(source, f"<torch twin of {cls.__module__}>", "exec"), namespace)
    return namespace[cls.__name__]


def twin(model):
    """A PyTorch model with the architecture of the neuronet ``model`` (from its config)."""
    config = dict(model.config)
    cls = getattr(models, config.pop("name"))
    return twin_class(cls)(**config)
