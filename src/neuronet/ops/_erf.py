"""The error function for NumPy arrays (NumPy has none): ``erf_array``, used by ``erf`` and the
NumPy path of GELU.

W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
631-637: three rational approximations, good to ~1e-16 relative in float64; the result keeps
the input's dtype.
"""

from __future__ import annotations

import numpy as np

_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)  # fmt: skip
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip
ONE_OVER_SQRT_PI = 0.56418958354775628695
_ERF_SMALL = 0.46875  # |x| <= this: erf directly; above: erf = 1 - erfc


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875: x * A(x^2) / B(x^2)."""
    z = x * x
    num = _ERF_A[4] * z
    den = z.copy()
    for i in range(3):
        num += _ERF_A[i]
        num *= z
        den += _ERF_B[i]
        den *= z
    return x * (num + _ERF_A[3]) / (den + _ERF_B[3])


def _erfc_scaled_mid(y: np.ndarray) -> np.ndarray:
    """exp(y^2) * erfc(y) for 0.46875 < y <= 4: C(y) / D(y)."""
    num = _ERF_C[8] * y
    den = y.copy()
    for i in range(7):
        num += _ERF_C[i]
        num *= y
        den += _ERF_D[i]
        den *= y
    return (num + _ERF_C[7]) / (den + _ERF_D[7])


def _erfc_scaled_far(y: np.ndarray) -> np.ndarray:
    """exp(y^2) * erfc(y) for y > 4: (1/sqrt(pi) - z P(z) / Q(z)) / y with z = 1/y^2."""
    z = 1.0 / (y * y)
    num = _ERF_P[5] * z
    den = z.copy()
    for i in range(4):
        num += _ERF_P[i]
        num *= z
        den += _ERF_Q[i]
        den *= z
    return (ONE_OVER_SQRT_PI - z * (num + _ERF_P[4]) / (den + _ERF_Q[4])) / y


def _erfc_large(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y = |x| > 0.46875 (NaN passes through)."""
    y = np.minimum(y, 27.0)  # erfc(27) underflows to 0 even in float64; the cap avoids overflow
    mid = y <= 4.0
    if mid.all():
        scaled = _erfc_scaled_mid(y)
    else:
        scaled = np.empty_like(y)
        far = ~mid
        scaled[far] = _erfc_scaled_far(y[far])
        if mid.any():
            scaled[mid] = _erfc_scaled_mid(y[mid])
    # exp(-y^2) split as exp(-t^2) * exp(-(y - t)(y + t)), t = y rounded down to 1/16, so the
    # rounding error of y^2 does not reach the result (Cody's trick).
    t = np.trunc(y * 16.0) / 16.0
    return np.exp(-t * t) * np.exp(-(y - t) * (y + t)) * scaled


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function of a float array, in its dtype (vectorised; used by gelu too)."""
    ax = np.abs(x)
    small = ax <= _ERF_SMALL
    if small.all():
        return _erf_small(x)
    out = np.empty_like(x)
    if small.any():
        out[small] = _erf_small(x[small])
        large = ~small
        out[large] = np.copysign(1.0 - _erfc_large(ax[large]), x[large])
        return out
    return np.copysign(1.0 - _erfc_large(ax), x)
