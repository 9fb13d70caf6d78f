"""Fused numba kernels for the optimizer updates: one pass over each parameter per step.

Each kernel is the loop body of the NumPy ``update`` in the optimizer's own file (which is the
readable reference), written element by element so the arrays are read and written once.
Conventions, shared by all kernels:

- arrays are 1-D, C-contiguous and of one dtype (the caller flattens them without copying);
- every hyperparameter is cast to the arrays' dtype first, so float32 math stays float32, with
  PyTorch's operation order (its scalars are float32 too), and results match torch to rounding;
- ``sign`` is -1.0 when maximizing (the gradient is negated), else 1.0;
- ``error_model="numpy"`` (division by zero gives inf, as in NumPy) lets LLVM vectorize the loop;
  no fastmath, so IEEE semantics are kept;
- callers pass every argument by keyword (``k.adam(p=..., g=..., ...)``), so a call site
  reads as the list of what goes in.

Compiled on first use and cached on disk (``ops/fast/jit.py``); imported by ``_fast.py``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.jit import kernel


@kernel()
def sgd(p, g, buf, lr, weight_decay, momentum, one_minus_dampening, nesterov, sign, first):
    """SGD with optional L2 decay, momentum (first step: buf = g), dampening and Nesterov."""
    T = p.dtype.type
    neg_lr = T(-lr)
    wd = T(weight_decay)
    mu = T(momentum)
    damp = T(one_minus_dampening)
    s = T(sign)
    use_wd = weight_decay != 0.0
    use_mu = momentum != 0.0
    for i in range(p.size):
        d = g[i] * s
        if use_wd:
            d = d + wd * p[i]
        if use_mu:
            if first:
                b = d
            else:
                b = buf[i] * mu + damp * d
            buf[i] = b
            if nesterov:
                d = d + mu * b
            else:
                d = b
        p[i] = p[i] + neg_lr * d


@kernel(inline="always")
def _lerp(a, b, w, one):
    """torch.lerp's two-sided formula (exact at both ends)."""
    if w < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (one - w)


@kernel()
def adam(
    p,
    g,
    m,
    v,
    vmax,
    sign,
    weight_decay,
    decoupled_decay,
    one_minus_beta1,
    beta2,
    one_minus_beta2,
    eps,
    bc2_sqrt,
    neg_step_size,
    amsgrad,
    decoupled,
):
    """Adam / AdamW: L2 (``decoupled`` False) or decoupled (``p *= 1 - lr*wd``) weight decay,
    moments, optional AMSGrad max, and ``p += -lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)``."""
    T = p.dtype.type
    one = T(1.0)
    s = T(sign)
    wd = T(weight_decay)
    decay = T(decoupled_decay)
    w1 = T(one_minus_beta1)
    b2 = T(beta2)
    c2 = T(one_minus_beta2)
    e = T(eps)
    bc2s = T(bc2_sqrt)
    neg_ss = T(neg_step_size)
    use_wd = weight_decay != 0.0
    for i in range(p.size):
        gi = g[i] * s
        pi = p[i]
        if use_wd:
            if decoupled:
                pi = pi * decay
            else:
                gi = gi + wd * pi
        mi = _lerp(m[i], gi, w1, one)
        m[i] = mi
        vi = v[i] * b2 + c2 * gi * gi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        denom = np.sqrt(vi) / bc2s + e
        p[i] = pi + neg_ss * (mi / denom)


@kernel()
def lamb_moments(
    p, g, m, v, sign, one_minus_beta1, beta2, one_minus_beta2, bc1, bc2_sqrt, eps, weight_decay
):
    """LAMB pass 1: update the Adam moments and return (||w||^2, ||r||^2) in float64, where
    r = m_hat / (sqrt(v_hat) + eps) + wd * w."""
    T = p.dtype.type
    one = T(1.0)
    s = T(sign)
    w1 = T(one_minus_beta1)
    b2 = T(beta2)
    c2 = T(one_minus_beta2)
    c1 = T(bc1)
    bc2s = T(bc2_sqrt)
    e = T(eps)
    wd = T(weight_decay)
    w_sq = 0.0
    r_sq = 0.0
    for i in range(p.size):
        gi = g[i] * s
        mi = _lerp(m[i], gi, w1, one)
        m[i] = mi
        vi = v[i] * b2 + c2 * gi * gi
        v[i] = vi
        pi = p[i]
        r = (mi / c1) / (np.sqrt(vi) / bc2s + e) + wd * pi
        w_sq += float(pi) * float(pi)
        r_sq += float(r) * float(r)
    return w_sq, r_sq


@kernel()
def lamb_apply(p, m, v, bc1, bc2_sqrt, eps, weight_decay, scale):
    """LAMB pass 2: w -= scale * r with scale = lr * trust_ratio (r recomputed as in pass 1)."""
    T = p.dtype.type
    c1 = T(bc1)
    bc2s = T(bc2_sqrt)
    e = T(eps)
    wd = T(weight_decay)
    k = T(scale)
    for i in range(p.size):
        pi = p[i]
        r = (m[i] / c1) / (np.sqrt(v[i]) / bc2s + e) + wd * pi
        p[i] = pi - k * r


@kernel()
def rmsprop(
    p,
    g,
    square_avg,
    grad_avg,
    buf,
    sign,
    lr,
    alpha,
    one_minus_alpha,
    eps,
    weight_decay,
    momentum,
    centered,
):
    """RMSprop with optional L2 decay, centering (subtract the mean gradient squared) and
    momentum; eps is added outside the square root."""
    T = p.dtype.type
    one = T(1.0)
    s = T(sign)
    neg_lr = T(-lr)
    a = T(alpha)
    c = T(one_minus_alpha)
    e = T(eps)
    wd = T(weight_decay)
    mu = T(momentum)
    use_wd = weight_decay != 0.0
    use_mu = momentum > 0.0
    for i in range(p.size):
        gi = g[i] * s
        if use_wd:
            gi = gi + wd * p[i]
        sa = square_avg[i] * a + c * gi * gi
        square_avg[i] = sa
        if centered:
            ga = _lerp(grad_avg[i], gi, c, one)
            grad_avg[i] = ga
            avg = np.sqrt(sa + (-one * ga) * ga) + e
        else:
            avg = np.sqrt(sa) + e
        if use_mu:
            b = buf[i] * mu + gi / avg
            buf[i] = b
            p[i] = p[i] + neg_lr * b
        else:
            p[i] = p[i] + neg_lr * (gi / avg)


@kernel()
def adagrad(p, g, state_sum, sign, clr, eps, weight_decay):
    """Adagrad: sum += g^2; p -= clr * g / (sqrt(sum) + eps), with optional L2 decay."""
    T = p.dtype.type
    s = T(sign)
    neg_clr = T(-clr)
    e = T(eps)
    wd = T(weight_decay)
    use_wd = weight_decay != 0.0
    for i in range(p.size):
        gi = g[i] * s
        if use_wd:
            gi = gi + wd * p[i]
        acc = state_sum[i] + gi * gi
        state_sum[i] = acc
        p[i] = p[i] + neg_clr * (gi / (np.sqrt(acc) + e))
