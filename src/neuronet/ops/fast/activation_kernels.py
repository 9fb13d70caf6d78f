"""Fused numba kernels for GELU (see ``ops/activation.py`` for the reference and the formulas).

NumPy has no erf, so the NumPy GELU evaluates Cody's rational erf with a dozen array passes;
these kernels read x (and dL/dy) once and write y (or dL/dx) once.

- float32: erf(z) = 1 - t P(t) exp(-z**2), t = 1 / (1 + p |z|) (Abramowitz & Stegun 7.1.26,
  absolute error <= 1.5e-7, the same approximation as PyTorch's vectorised CPU erf), with
  exp(-z**2) from ``fastmath.exp_nonpositive`` (branch-free), so LLVM vectorises the loop.
  For x < 0 the kernel keeps Phi(x) = erfc(|z|) / 2 = t P(t) exp(-z**2) / 2 as is, instead of
  1 + erf(z) (no cancellation in the far negative tail).
- float64: ``math.erf`` from the C library (correctly rounded to about 1 ulp).

Conventions: arrays are 1-D, C-contiguous, one dtype. ``fastmath`` allows only fused
multiply-adds, reciprocal-multiply for division and ignoring the sign of zero (``FASTMATH``).
Compiled on first use and cached on disk (``jit.py``); imported by the code that calls it.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.ops.fast.fastmath import FASTMATH, exp_nonpositive
from neuronet.ops.fast.jit import kernel

_INV_SQRT_2PI = 0.3989422804014327
_SQRT_HALF = 0.7071067811865476


@kernel(fastmath=FASTMATH)
def _cdf_f32(x):
    """(Phi(x), exp(-x**2 / 2)) in float32, Phi the standard normal CDF (A&S 7.1.26)."""
    T = np.float32
    a = abs(x) * T(_SQRT_HALF)
    t = T(1.0) / (T(0.3275911) * a + T(1.0))
    poly = T(1.061405429) * t - T(1.453152027)
    poly = poly * t + T(1.421413741)
    poly = poly * t - T(0.284496736)
    poly = poly * t + T(0.254829592)
    gauss = exp_nonpositive(-a * a)
    half_erfc = T(0.5) * poly * t * gauss
    cdf = T(1.0) - half_erfc if x >= 0 else half_erfc
    return cdf, gauss


@kernel(fastmath=FASTMATH)
def gelu_forward_f32(x, y):
    """y = x * Phi(x), float32."""
    for i in range(x.size):
        xi = x[i]
        cdf, _ = _cdf_f32(xi)
        y[i] = xi * cdf


@kernel(fastmath=FASTMATH)
def gelu_backward_f32(x, grad_y, grad_x):
    """dL/dx = dL/dy * (Phi(x) + x * phi(x)), float32."""
    for i in range(x.size):
        xi = x[i]
        cdf, gauss = _cdf_f32(xi)
        grad_x[i] = grad_y[i] * (cdf + xi * gauss * np.float32(_INV_SQRT_2PI))


@kernel(fastmath=FASTMATH)
def gelu_forward_f64(x, y):
    """y = x * Phi(x), float64 (libm erf)."""
    for i in range(x.size):
        xi = x[i]
        y[i] = xi * (0.5 + 0.5 * math.erf(xi * _SQRT_HALF))


@kernel(fastmath=FASTMATH)
def gelu_backward_f64(x, grad_y, grad_x):
    """dL/dx = dL/dy * (Phi(x) + x * phi(x)), float64 (libm erf)."""
    for i in range(x.size):
        xi = x[i]
        cdf = 0.5 + 0.5 * math.erf(xi * _SQRT_HALF)
        pdf = math.exp(-0.5 * xi * xi) * _INV_SQRT_2PI
        grad_x[i] = grad_y[i] * (cdf + xi * pdf)


@kernel(fastmath=FASTMATH)
def relu_backward(y, grad_y, grad_x):
    """dL/dx = dL/dy where y > 0, else 0 (a branch-free select; NumPy's ``where`` mispredicts
    a branch per element on a random sign pattern and is ~10x slower)."""
    zero = grad_y.dtype.type(0.0)
    for i in range(y.size):
        grad_x[i] = grad_y[i] if y[i] > 0 else zero
