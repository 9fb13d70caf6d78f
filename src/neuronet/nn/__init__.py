"""Layers and models: Module, Parameter, containers, every layer family, losses, initializers.

Each name is defined once, in the file named for its textbook chapter (``nn/conv.py``,
``nn/recurrent.py``, ...) and re-exported here, as ``torch.nn`` does.
"""

from __future__ import annotations

from neuronet.nn import init  # noqa: F401
from neuronet.nn.activation import *  # noqa: F403
from neuronet.nn.attention import *  # noqa: F403
from neuronet.nn.containers import (  # noqa: F401
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from neuronet.nn.conv import *  # noqa: F403
from neuronet.nn.dropout import *  # noqa: F403
from neuronet.nn.embedding import *  # noqa: F403
from neuronet.nn.linear import *  # noqa: F403
from neuronet.nn.loss import *  # noqa: F403
from neuronet.nn.module import Module  # noqa: F401
from neuronet.nn.normalization import *  # noqa: F403
from neuronet.nn.parameter import Parameter  # noqa: F401
from neuronet.nn.pooling import *  # noqa: F403
from neuronet.nn.recurrent import *  # noqa: F403
from neuronet.nn.recurrent_cells import *  # noqa: F403
from neuronet.nn.transformer import *  # noqa: F403
from neuronet.nn import utils  # noqa: F401,E402

# The layers added for PyTorch's op surface (issue 19), one family per file.
from neuronet.nn.activation_piecewise import *  # noqa: F403,E402
from neuronet.nn.activation_smooth import *  # noqa: F403,E402
from neuronet.nn.bilinear import *  # noqa: F403,E402
from neuronet.nn.conv3d import *  # noqa: F403,E402
from neuronet.nn.distance import *  # noqa: F403,E402
from neuronet.nn.embedding_bag import *  # noqa: F403,E402
from neuronet.nn.instancenorm import *  # noqa: F403,E402
from neuronet.nn.likelihood_loss import *  # noqa: F403,E402
from neuronet.nn.margin_loss import *  # noqa: F403,E402
from neuronet.nn.padding import *  # noqa: F403,E402
from neuronet.nn.pooling3d import *  # noqa: F403,E402
from neuronet.nn.resampling import *  # noqa: F403,E402
from neuronet.nn.unpooling import *  # noqa: F403,E402

# ``neuronet.nn.functional`` is ``neuronet.functional`` (the same module), as PyTorch code
# imports it: ``import neuronet.nn.functional as F``.
import sys as _sys  # noqa: E402

from neuronet import functional  # noqa: E402,F401

_sys.modules[__name__ + ".functional"] = functional
