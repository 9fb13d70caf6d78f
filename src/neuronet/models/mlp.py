"""MLP: the multilayer perceptron for tabular and flattened inputs."""

from __future__ import annotations

from neuronet import nn
from neuronet.models.base import record_config, register

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}


def make_activation(name: str) -> nn.Module:
    """An activation module by name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


@register
class MLP(nn.Module):
    """Linear layers with an activation between them:

        h_0 = flatten(x);  h_i = dropout(act(norm(W_i h_{i-1} + b_i)));  y = W_out h_n + b_out

    Args:
        in_features: input size (inputs with more dimensions are flattened from dim 1).
        hidden: sizes of the hidden layers, e.g. [128, 64].
        out_features: output size (classes, or regression targets).
        activation: 'relu', 'gelu', 'tanh', 'sigmoid', 'silu', 'elu' or 'leaky_relu'.
        dropout: dropout probability after each hidden activation.
        norm: None, 'batch' (BatchNorm1d) or 'layer' (LayerNorm) before each activation.

    Example:
        >>> import neuronet as nt
        >>> MLP(64, [32], 10)(nt.zeros(5, 64)).shape
        (5, 10)
    """

    def __init__(
        self, in_features, hidden=(128,), out_features=10, activation="relu", dropout=0.0, norm=None
    ):
        super().__init__()
        record_config(self, locals())
        if norm not in (None, "batch", "layer"):
            raise ValueError(f"MLP: norm must be None, 'batch' or 'layer', got {norm!r}")
        layers = [nn.Flatten()]
        size = in_features
        for width in hidden:
            layers.append(nn.Linear(size, width))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(width))
            elif norm == "layer":
                layers.append(nn.LayerNorm(width))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            size = width
        layers.append(nn.Linear(size, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
