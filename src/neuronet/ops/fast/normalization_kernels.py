"""Fused numba kernels for normalization: batch_norm, layer_norm/rms_norm, group_norm.

Each kernel is the loop form of the NumPy path in ``normalization.py`` (the readable reference,
with the formulas in its docstrings): the statistics, x_hat and y are produced in one sweep per
row or channel, and the backward reads dL/dy and x_hat once each, instead of once per ufunc.
(batch_norm over spatial axes, ``channels_*``, keeps x instead of x_hat and recomputes it.)
Conventions shared by all kernels:

- arrays are C-contiguous and of one dtype (the caller reshapes without copying);
- scalars are cast to the arrays' dtype, so float32 stays float32;
- an absent weight or bias is an empty array plus a flag (one compiled signature per dtype);
- ``fastmath={"reassoc", "nsz"}`` lets LLVM vectorise the sums (it reorders additions, as a
  pairwise or SIMD sum does); no other IEEE rule is relaxed;
- statistics use two passes (mean, then mean of squared deviations), never E[x**2] - E[x]**2.

Compiled on first use and cached on disk (``cache=True``); imported lazily by
``normalization.fused_kernels()``, so ``import neuronet`` never loads numba.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.jit import kernel


@kernel(fastmath={"reassoc", "nsz"})
def rows_forward(x, w, b, has_w, has_b, center, eps, x_hat, y, inv_std):
    """layer_norm (center) / rms_norm (not center) over each row of x (M, D)."""
    m, d = x.shape
    T = x.dtype.type
    for i in range(m):
        mean = T(0.0)
        if center:
            s = T(0.0)
            for j in range(d):
                s += x[i, j]
            mean = s / T(d)
        v = T(0.0)
        for j in range(d):
            dev = x[i, j] - mean
            v += dev * dev
        r = T(1.0) / np.sqrt(v / T(d) + T(eps))
        inv_std[i] = r
        for j in range(d):
            h = (x[i, j] - mean) * r
            x_hat[i, j] = h
            if has_w:
                h = h * w[j]
            if has_b:
                h = h + b[j]
            y[i, j] = h


@kernel(fastmath={"reassoc", "nsz"})
def rows_backward(grad_y, x_hat, inv_std, w, has_w, center, need_x, grad_x, grad_w, grad_b):
    """dL/dx (if need_x) and the column sums dL/dweight += g * x_hat, dL/dbias += g."""
    m, d = grad_y.shape
    T = grad_y.dtype.type
    grad_w[:] = 0
    grad_b[:] = 0
    for i in range(m):
        s_g = T(0.0)
        s_gx = T(0.0)
        for j in range(d):
            gy = grad_y[i, j]
            h = x_hat[i, j]
            grad_w[j] += gy * h
            grad_b[j] += gy
            g = gy * w[j] if has_w else gy
            s_g += g
            s_gx += g * h
        if not need_x:
            continue
        mean_g = s_g / T(d) if center else T(0.0)
        mean_gx = s_gx / T(d)
        r = inv_std[i]
        for j in range(d):
            g = grad_y[i, j] * w[j] if has_w else grad_y[i, j]
            grad_x[i, j] = r * (g - mean_g - x_hat[i, j] * mean_gx)


@kernel(fastmath={"reassoc", "nsz"})
def channels_forward(x, w, b, has_w, has_b, eps, y, mean, var, inv_std):
    """batch_norm with batch statistics over (N, S) per channel of x (N, C, S). No x_hat is
    written: ``channels_backward`` recomputes it from x, one pass less over the activations
    (the resnet benchmark's step: 3-4% faster)."""
    n_, c_, s_ = x.shape
    T = x.dtype.type
    count = T(n_ * s_)
    mean[:] = 0
    var[:] = 0
    for n in range(n_):
        for c in range(c_):
            s = T(0.0)
            for k in range(s_):
                s += x[n, c, k]
            mean[c] += s
    for c in range(c_):
        mean[c] = mean[c] / count
    for n in range(n_):
        for c in range(c_):
            mu = mean[c]
            v = T(0.0)
            for k in range(s_):
                dev = x[n, c, k] - mu
                v += dev * dev
            var[c] += v
    for c in range(c_):
        var[c] = var[c] / count
        inv_std[c] = T(1.0) / np.sqrt(var[c] + T(eps))
    for n in range(n_):
        for c in range(c_):
            mu = mean[c]
            r = inv_std[c]
            wc = w[c] if has_w else T(1.0)
            bc = b[c] if has_b else T(0.0)
            for k in range(s_):
                y[n, c, k] = (x[n, c, k] - mu) * r * wc + bc


@kernel(fastmath={"reassoc", "nsz"})
def channels_backward(grad_y, x, mean, inv_std, w, has_w, need_x, grad_x, grad_w, grad_b):
    """batch_norm backward, x (N, C, S), x_hat = (x - mean) * inv_std recomputed on the fly:
    grad_w = sum(dL/dy * x_hat), grad_b = sum(dL/dy) per channel, then
    dL/dx = w * inv_std * (dL/dy - grad_b / n - x_hat * grad_w / n)."""
    n_, c_, s_ = grad_y.shape
    T = grad_y.dtype.type
    count = T(n_ * s_)
    grad_w[:] = 0
    grad_b[:] = 0
    for n in range(n_):
        for c in range(c_):
            mu = mean[c]
            r = inv_std[c]
            s_g = T(0.0)
            s_gx = T(0.0)
            for k in range(s_):
                gy = grad_y[n, c, k]
                s_g += gy
                s_gx += gy * ((x[n, c, k] - mu) * r)
            grad_b[c] += s_g
            grad_w[c] += s_gx
    if not need_x:
        return
    for n in range(n_):
        for c in range(c_):
            mu = mean[c]
            r = inv_std[c]
            scale = r * (w[c] if has_w else T(1.0))
            mean_g = grad_b[c] / count
            mean_gx = grad_w[c] / count
            for k in range(s_):
                h = (x[n, c, k] - mu) * r
                grad_x[n, c, k] = scale * (grad_y[n, c, k] - mean_g - h * mean_gx)


@kernel(fastmath={"reassoc", "nsz"})
def columns_forward(x, w, b, has_w, has_b, eps, x_hat, y, mean, var, inv_std):
    """batch_norm for x (N, C) (no spatial axes; inner loops over C), writing x_hat too."""
    n_, c_ = x.shape
    T = x.dtype.type
    count = T(n_)
    mean[:] = 0
    var[:] = 0
    for n in range(n_):
        for c in range(c_):
            mean[c] += x[n, c]
    for c in range(c_):
        mean[c] = mean[c] / count
    for n in range(n_):
        for c in range(c_):
            dev = x[n, c] - mean[c]
            var[c] += dev * dev
    for c in range(c_):
        var[c] = var[c] / count
        inv_std[c] = T(1.0) / np.sqrt(var[c] + T(eps))
    for n in range(n_):
        for c in range(c_):
            h = (x[n, c] - mean[c]) * inv_std[c]
            x_hat[n, c] = h
            if has_w:
                h = h * w[c]
            if has_b:
                h = h + b[c]
            y[n, c] = h


@kernel(fastmath={"reassoc", "nsz"})
def columns_backward(grad_y, x_hat, inv_std, w, has_w, need_x, grad_x, grad_w, grad_b):
    """batch_norm backward for (N, C) from the saved x_hat (inner loops over C)."""
    n_, c_ = grad_y.shape
    T = grad_y.dtype.type
    count = T(n_)
    grad_w[:] = 0
    grad_b[:] = 0
    for n in range(n_):
        for c in range(c_):
            gy = grad_y[n, c]
            grad_b[c] += gy
            grad_w[c] += gy * x_hat[n, c]
    if not need_x:
        return
    for n in range(n_):
        for c in range(c_):
            scale = inv_std[c] * w[c] if has_w else inv_std[c]
            dev = grad_y[n, c] - grad_b[c] / count - x_hat[n, c] * (grad_w[c] / count)
            grad_x[n, c] = scale * dev


@kernel(fastmath={"reassoc", "nsz"})
def fixed_channels_backward(grad_y, x, mean, inv_std, scale, need_x, grad_x, grad_w, grad_b):
    """batch_norm backward with fixed statistics, x (N, C, S): dL/dx = dL/dy * scale,
    grad_w = sum(dL/dy * (x - mean)) * inv_std, grad_b = sum(dL/dy), per channel."""
    n_, c_, s_ = grad_y.shape
    T = grad_y.dtype.type
    grad_w[:] = 0
    grad_b[:] = 0
    for n in range(n_):
        for c in range(c_):
            mu = mean[c]
            sc = scale[c]
            s_g = T(0.0)
            s_gx = T(0.0)
            for k in range(s_):
                gy = grad_y[n, c, k]
                s_g += gy
                s_gx += gy * (x[n, c, k] - mu)
                if need_x:
                    grad_x[n, c, k] = gy * sc
            grad_b[c] += s_g
            grad_w[c] += s_gx
    for c in range(c_):
        grad_w[c] = grad_w[c] * inv_std[c]


@kernel(fastmath={"reassoc", "nsz"})
def groups_forward(x, w, b, has_w, has_b, eps, x_hat, y, inv_std):
    """group_norm: statistics per (n, g) over (K, S) of x (N, G, K, S); affine per channel."""
    n_, g_, k_, s_ = x.shape
    T = x.dtype.type
    count = T(k_ * s_)
    for n in range(n_):
        for g in range(g_):
            s = T(0.0)
            for k in range(k_):
                for q in range(s_):
                    s += x[n, g, k, q]
            mu = s / count
            v = T(0.0)
            for k in range(k_):
                for q in range(s_):
                    dev = x[n, g, k, q] - mu
                    v += dev * dev
            r = T(1.0) / np.sqrt(v / count + T(eps))
            inv_std[n, g] = r
            for k in range(k_):
                ch = g * k_ + k
                wc = w[ch] if has_w else T(1.0)
                bc = b[ch] if has_b else T(0.0)
                for q in range(s_):
                    h = (x[n, g, k, q] - mu) * r
                    x_hat[n, g, k, q] = h
                    y[n, g, k, q] = h * wc + bc


@kernel(fastmath={"reassoc", "nsz"})
def groups_backward(grad_y, x_hat, inv_std, w, has_w, need_x, grad_x, grad_w, grad_b):
    """group_norm backward; grad_w, grad_b (C,) accumulate over (N, S)."""
    n_, g_, k_, s_ = grad_y.shape
    T = grad_y.dtype.type
    count = T(k_ * s_)
    grad_w[:] = 0
    grad_b[:] = 0
    for n in range(n_):
        for g in range(g_):
            s_g = T(0.0)
            s_gx = T(0.0)
            for k in range(k_):
                ch = g * k_ + k
                wc = w[ch] if has_w else T(1.0)
                c_g = T(0.0)
                c_gx = T(0.0)
                for q in range(s_):
                    gy = grad_y[n, g, k, q]
                    c_g += gy
                    c_gx += gy * x_hat[n, g, k, q]
                grad_b[ch] += c_g
                grad_w[ch] += c_gx
                s_g += wc * c_g
                s_gx += wc * c_gx
            if not need_x:
                continue
            r = inv_std[n, g]
            mean_g = s_g / count
            mean_gx = s_gx / count
            for k in range(k_):
                wc = w[g * k_ + k] if has_w else T(1.0)
                for q in range(s_):
                    gxh = grad_y[n, g, k, q] * wc
                    grad_x[n, g, k, q] = r * (gxh - mean_g - x_hat[n, g, k, q] * mean_gx)
