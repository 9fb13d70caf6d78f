"""``neuronet.utils``: where PyTorch code looks for ``utils.data``.

``neuronet.utils.data`` *is* ``neuronet.data`` (the same module object), so
``from neuronet.utils.data import DataLoader, Dataset, TensorDataset, random_split`` works as
``from torch.utils.data import ...`` does.
"""

from __future__ import annotations

import sys

from neuronet import data

sys.modules[__name__ + ".data"] = data

__all__ = ["data"]
