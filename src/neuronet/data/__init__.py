"""Data: datasets, the DataLoader, image transforms, bundled datasets and file-format loaders.

    from neuronet.data import DataLoader, load
    data = load("digits")                      # DataBundle: train, test, input_shape, ...
    loader = DataLoader(data.train, batch_size=64, shuffle=True, generator=Generator(0))
    for x, y in loader: ...

Layout: ``dataset.py`` (Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset,
ChainDataset, random_split), ``samplers.py`` (Sampler, SequentialSampler, RandomSampler,
SubsetRandomSampler, WeightedRandomSampler, BatchSampler), ``collate.py`` (default_collate,
default_convert), ``dataloader.py``, ``transforms.py`` (imported as ``neuronet.data.transforms``),
``text.py`` (CharVocab, CharDataset, load_text), ``bundled.py`` (digits, pydoc_text),
``formats.py`` (MNIST/Fashion-MNIST IDX, CIFAR-10), ``tables.py`` (CSV) and ``registry.py``
(``load(spec)``).
"""

from __future__ import annotations

from neuronet.data import transforms  # noqa: F401
from neuronet.data._rng import batch_generator  # noqa: F401
from neuronet.data.bundled import *  # noqa: F403
from neuronet.data.collate import *  # noqa: F403
from neuronet.data.dataloader import *  # noqa: F403
from neuronet.data.dataset import *  # noqa: F403
from neuronet.data.formats import *  # noqa: F403
from neuronet.data.registry import *  # noqa: F403
from neuronet.data.samplers import *  # noqa: F403
from neuronet.data.tables import *  # noqa: F403
from neuronet.data.text import *  # noqa: F403
