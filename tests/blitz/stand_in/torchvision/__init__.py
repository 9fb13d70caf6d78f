"""A stand-in for torchvision, for tests/blitz only: CIFAR10 serves random data shaped like
CIFAR-10 (3x32x32 uint8 images in 10 classes, each class a noisy version of its own random
pattern, so a small network can learn it), and the transforms and make_grid the tutorial uses.

Tensors are made by the framework named in the environment variable BLITZ_FRAMEWORK
("torch" or "neuronet"), so the same tutorial script runs on either.
"""

from __future__ import annotations

import importlib
import os

from torchvision import datasets, transforms, utils  # noqa: F401


def framework():
    return importlib.import_module(os.environ.get("BLITZ_FRAMEWORK", "neuronet"))
