"""Autoencoders: dense and convolutional, optionally denoising."""

from __future__ import annotations

from neuronet import nn
from neuronet.models.base import record_config, register
from neuronet.random import resolve


def _corrupt(module, x, noise, generator=None):
    """Denoising: add N(0, noise^2) to the input in training mode only."""
    if not module.training or noise <= 0:
        return x
    from neuronet.autograd.tensor import Tensor

    return x + Tensor(resolve(generator).normal(x.shape, std=noise, dtype=x.dtype))


@register
class Autoencoder(nn.Module):
    """x -> encoder (Linear+ReLU ..., Linear to code_size) -> decoder (mirror) -> x_hat.

    With ``denoising > 0`` the input is corrupted by Gaussian noise of that std in training, so
    the network learns to reconstruct clean inputs from noisy ones (Vincent et al., 2008).

    Args:
        in_features: input size (inputs are flattened from dim 1; output has the same shape).
        hidden: encoder hidden sizes (the decoder mirrors them).
        code_size: the bottleneck size.
        denoising: std of the training noise (0 = plain autoencoder).
        output: 'linear' or 'sigmoid' (for inputs in [0, 1]).
    """

    def __init__(self, in_features=64, hidden=(128,), code_size=16, denoising=0.0, output="linear"):
        super().__init__()
        record_config(self, locals())
        self.denoising = denoising
        sizes = [in_features, *hidden]
        enc = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(sizes[-1], code_size))
        dec = []
        back = [code_size, *reversed(hidden)]
        for a, b in zip(back[:-1], back[1:]):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec.append(nn.Linear(back[-1], in_features))
        if output == "sigmoid":
            dec.append(nn.Sigmoid())
        elif output != "linear":
            raise ValueError(f"Autoencoder: output must be 'linear' or 'sigmoid', got {output!r}")
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def encode(self, x):
        return self.encoder(x.flatten(1))

    def decode(self, code):
        return self.decoder(code)

    def forward(self, x):
        shape = x.shape
        out = self.decode(self.encode(_corrupt(self, x, self.denoising)))
        return out.reshape(shape)


@register
class ConvAutoencoder(nn.Module):
    """Conv2d encoder (stride-2 convolutions) and ConvTranspose2d decoder (stride-2 upsampling).

        (N, C, H, W) -> conv s2 -> ReLU -> conv s2 -> ReLU  [code (N, channels[1], H/4, W/4)]
        -> convT s2 -> ReLU -> convT s2 -> (N, C, H, W)

    Args:
        in_channels: image channels; H and W must be divisible by 4.
        channels: encoder widths, e.g. [16, 32].
        denoising: std of the training input noise.
    """

    def __init__(self, in_channels=1, channels=(16, 32), denoising=0.0):
        super().__init__()
        record_config(self, locals())
        c1, c2 = channels
        self.denoising = denoising
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, in_channels, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(_corrupt(self, x, self.denoising)))
