"""The public functional API (``neuronet.functional``, imported as ``F``).

This file holds no logic: every name is an op function re-exported from its one home file in
``neuronet/ops``, so ``F.relu`` *is* ``neuronet.ops.activation.relu``.
"""

from __future__ import annotations

from neuronet.ops.activation import *  # noqa: F403
from neuronet.ops.adaptive_pooling import *  # noqa: F403
from neuronet.ops.arithmetic import *  # noqa: F403
from neuronet.ops.attention import *  # noqa: F403
from neuronet.ops.conv import *  # noqa: F403
from neuronet.ops.dropout import *  # noqa: F403
from neuronet.ops.embedding import *  # noqa: F403
from neuronet.ops.indexing import *  # noqa: F403
from neuronet.ops.loss import *  # noqa: F403
from neuronet.ops.matmul import *  # noqa: F403
from neuronet.ops.batch_norm import *  # noqa: F403
from neuronet.ops.normalization import *  # noqa: F403
from neuronet.ops.padding import *  # noqa: F403
from neuronet.ops.pooling import *  # noqa: F403
from neuronet.ops.recurrent import *  # noqa: F403
from neuronet.ops.reduction import *  # noqa: F403
from neuronet.ops.shape import *  # noqa: F403
from neuronet.ops.softmax import *  # noqa: F403
from neuronet.ops.unary import *  # noqa: F403

# The op families added for PyTorch's op surface (issue 19), one family per file.
from neuronet.ops.division import *  # noqa: F403,E402
from neuronet.ops.exp_log import *  # noqa: F403,E402
from neuronet.ops.logical import *  # noqa: F403,E402
from neuronet.ops.pointwise import *  # noqa: F403,E402
from neuronet.ops.rounding import *  # noqa: F403,E402
from neuronet.ops.trigonometry import *  # noqa: F403,E402
from neuronet.ops.diagonal import *  # noqa: F403,E402
from neuronet.ops.distance import *  # noqa: F403,E402
from neuronet.ops.einsum import *  # noqa: F403,E402
from neuronet.ops.linalg import *  # noqa: F403,E402
from neuronet.ops.counting import *  # noqa: F403,E402
from neuronet.ops.joining import *  # noqa: F403,E402
from neuronet.ops.rearranging import *  # noqa: F403,E402
from neuronet.ops.scatter import *  # noqa: F403,E402
from neuronet.ops.selection import *  # noqa: F403,E402
from neuronet.ops.cumulative import *  # noqa: F403,E402
from neuronet.ops.quantile import *  # noqa: F403,E402
from neuronet.ops.sorting import *  # noqa: F403,E402
from neuronet.ops.statistics import *  # noqa: F403,E402
from neuronet.ops.hard_activations import *  # noqa: F403,E402
from neuronet.ops.parametric_relu import *  # noqa: F403,E402
from neuronet.ops.shrinkage import *  # noqa: F403,E402
from neuronet.ops.smooth_activations import *  # noqa: F403,E402
from neuronet.ops.interpolation import *  # noqa: F403,E402
from neuronet.ops.folding import *  # noqa: F403,E402
from neuronet.ops.pixel_shuffle import *  # noqa: F403,E402
from neuronet.ops.bilinear import *  # noqa: F403,E402
from neuronet.ops.embedding_bag import *  # noqa: F403,E402
from neuronet.ops.instance_norm import *  # noqa: F403,E402
from neuronet.ops.local_response_norm import *  # noqa: F403,E402
from neuronet.ops.unpooling import *  # noqa: F403,E402
from neuronet.ops.conv3d import *  # noqa: F403,E402
from neuronet.ops.pooling3d import *  # noqa: F403,E402
from neuronet.ops.ctc_loss import *  # noqa: F403,E402
from neuronet.ops.embedding_loss import *  # noqa: F403,E402
from neuronet.ops.likelihood_loss import *  # noqa: F403,E402
from neuronet.ops.margin_loss import *  # noqa: F403,E402
from neuronet.ops.grid_sample import *  # noqa: F403,E402
