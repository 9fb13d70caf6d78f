"""The reference architectures: each a plain ``nn.Module`` with a ``config`` that rebuilds it.

MLP                       tabular and flattened inputs
LeNet, ResNet             images
RecurrentClassifier       sequences (RNN, LSTM, GRU)
RecurrentLM               character language model (RNN, LSTM, GRU)
TransformerClassifier     sequences with a Transformer encoder
GPT                       decoder-only Transformer language model, with generate()
Autoencoder, ConvAutoencoder   reconstruction, optionally denoising
"""

from __future__ import annotations

from neuronet.models.autoencoder import Autoencoder, ConvAutoencoder  # noqa: F401
from neuronet.models.base import REGISTRY, build  # noqa: F401
from neuronet.models.cnn import LeNet, ResNet  # noqa: F401
from neuronet.models.mlp import MLP  # noqa: F401
from neuronet.models.recurrent import RecurrentClassifier, RecurrentLM  # noqa: F401
from neuronet.models.transformer import GPT, TransformerClassifier  # noqa: F401
