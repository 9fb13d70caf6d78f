"""Initializers: fill a tensor in place (under no_grad) and return it, as ``torch.nn.init``.

Each random initializer takes ``generator=`` (a ``neuronet.Generator``; the default generator
when None), so ``manual_seed`` makes initialisation reproducible. Values keep the tensor's dtype.

Fans follow PyTorch's ``_calculate_fan_in_and_fan_out`` for a weight of shape
(out, in, *kernel): fan_in = in * prod(kernel), fan_out = out * prod(kernel). So a Linear weight
(out_features, in_features) has fan_in = in_features. (Keras stores Dense kernels as (in, out)
and computes the same fans from the other axes.)

    xavier_uniform_:  U(-a, a),   a   = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_:   N(0, std),  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-b, b),   b   = gain * sqrt(3 / fan),   fan = fan_in or fan_out (mode)
    kaiming_normal_:  N(0, std),  std = gain / sqrt(fan)
    gain = calculate_gain(nonlinearity, a)

PyTorch's Linear and Conv default is ``kaiming_uniform_(w, a=sqrt(5))``, which is
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (docs/semantics.md, "Default initialization"); Keras' default is
glorot (xavier) uniform.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.random import resolve

_LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for an activation (PyTorch's table).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + negative_slope**2)) (param = negative_slope, default 0.01);
    selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity}; use one of linear, conv1d, conv2d, conv3d, "
        "conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple:
    """(fan_in, fan_out) for a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)}); initialise biases with uniform_/zeros_ instead"
        )
    receptive_field = int(np.prod(tensor.shape[2:], dtype=np.int64))
    fan_in = tensor.shape[1] * receptive_field
    fan_out = tensor.shape[0] * receptive_field
    return fan_in, fan_out


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, name: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"nn.init.{name}: expected a Tensor or Parameter, got {type(tensor).__name__}"
        )
    if tensor.dtype.kind != "f":
        raise TypeError(
            f"nn.init.{name}: expected a floating-point tensor, got dtype {tensor.dtype}"
        )


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from U(a, b)."""
    _check(tensor, "uniform_")
    if not float(a) <= float(b):
        raise ValueError(f"nn.init.uniform_: expects a <= b (the range [a, b)), got a={a}, b={b}")
    g = resolve(generator)
    return _fill(tensor, g.uniform(tensor.shape, float(a), float(b), dtype=tensor.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from N(mean, std**2)."""
    _check(tensor, "normal_")
    if not float(std) >= 0:
        raise ValueError(f"nn.init.normal_: expects std >= 0, got {std}")
    g = resolve(generator)
    return _fill(tensor, g.normal(tensor.shape, float(mean), float(std), dtype=tensor.dtype))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill with N(mean, std**2) restricted to [a, b] (a and b are absolute bounds, as torch).

    Drawn by rejection: values outside [a, b] are redrawn, so the distribution is exactly the
    truncated normal. Raises when [a, b] holds almost no probability (below 1e-6).
    """
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    g = resolve(generator)
    lo = (a - mean) / std
    hi = (b - mean) / std
    mass = 0.5 * (math.erf(hi / math.sqrt(2)) - math.erf(lo / math.sqrt(2)))
    if mass < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds {mass:.2g} of N({mean}, {std}**2); "
            "move the bounds closer to the mean"
        )
    n = tensor.numel()
    out = np.empty(n, dtype=np.float64)
    filled = 0
    while filled < n:
        want = n - filled
        draw = g.rng.standard_normal(int(want / mass * 1.1) + 16)
        keep = draw[(draw >= lo) & (draw <= hi)][:want]
        out[filled : filled + keep.size] = keep
        filled += keep.size
    values = (out * std + mean).clip(a, b).astype(tensor.dtype)
    return _fill(tensor, values.reshape(tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.constant_: expected a Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-d tensor with the identity (ones on the diagonal; works for non-square)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(
            f"nn.init.eye_: only tensors with 2 dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    return _fill(tensor, np.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)
    (He et al., 2015). ``a`` is the negative slope of a following leaky_relu.
    """
    _check(tensor, "kaiming_uniform_")
    if tensor.numel() == 0:
        return tensor
    fan = _fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He normal: N(0, std**2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    _check(tensor, "kaiming_normal_")
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), as torch: the tensor is
    viewed as (shape[0], rest); its rows (or columns, if fewer) are orthonormal. Q comes from
    the QR decomposition of a standard-normal matrix, with signs fixed by diag(R) so Q is
    uniformly (Haar) distributed.
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"nn.init.orthogonal_: only tensors with 2 or more dimensions are supported, got "
            f"shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = resolve(generator).normal((rows, cols), dtype=np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).astype(tensor.dtype).reshape(tensor.shape))


__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
]
