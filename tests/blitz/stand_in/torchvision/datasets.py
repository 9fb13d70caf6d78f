"""``CIFAR10``: random CIFAR-10-shaped data (see the package docstring); nothing is downloaded."""

from __future__ import annotations

import os

import numpy as np

_TEMPLATES = np.random.default_rng(0).integers(0, 256, size=(10, 32, 32, 3))


class CIFAR10:
    def __init__(self, root, train=True, download=False, transform=None):
        variable, default = ("BLITZ_TRAIN", 8000) if train else ("BLITZ_TEST", 400)
        count = int(os.environ.get(variable, default))
        rng = np.random.default_rng(1 if train else 2)
        self.targets = rng.integers(0, 10, size=count)
        noise = rng.normal(0, 150, size=(count, 32, 32, 3))
        self.data = np.clip(_TEMPLATES[self.targets] + noise, 0, 255).astype(np.uint8)
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img = self.data[index]
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.targets[index])
