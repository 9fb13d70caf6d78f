"""Connectionist Temporal Classification loss: ``ctc_loss``, PyTorch's definition.

Reference: Graves et al., 2006, https://www.cs.toronto.edu/~graves/icml_2006.pdf.

For one sequence with log-probabilities lp[t, c] (T steps, C classes, class ``blank`` the
blank) and target l of length L, the extended target l' = (blank, l_1, blank, ..., l_L, blank)
has S = 2L + 1 symbols. The forward variables (log space; lp at step t included)
    alpha[0, 0] = lp[0, blank],  alpha[0, 1] = lp[0, l'_1]
    alpha[t, s] = logsumexp(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2]*) + lp[t, l'_s]
(* only when l'_s is not blank and differs from l'_(s-2)) give the loss
    nll = -logsumexp(alpha[T-1, S-1], alpha[T-1, S-2]),
and the backward variables beta (the same recursion from the end) give the gradient:
    dL/dlp[t, c] = exp(lp[t, c]) - exp(logsumexp over s with l'_s = c of
                   (alpha[t, s] + beta[t, s]) + nll - lp[t, c])
for t < T (0 after a sequence's input length). This is PyTorch's gradient: it assumes lp comes
from ``log_softmax`` (the exp(lp) term is what log_softmax's backward then cancels), so the
gradient reaching the logits is exact; with respect to lp alone the partial derivative lacks
the exp(lp) term. Always feed ``log_softmax`` outputs, as PyTorch asks.

Reductions: 'none' gives the per-sequence nll; 'sum' their total; 'mean' (the default) the
mean over the batch of nll / target length (lengths of 0 count as 1). ``zero_infinity=True``
turns infinite losses (an impossible alignment: the input too short for the target) and their
gradients into 0.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import check_input, check_reduction
from neuronet.ops.arithmetic import div
from neuronet.ops.reduction import mean
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.shape import reshape


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    stack = np.stack(terms)
    top = stack.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stack - safe).sum(axis=0)) + safe


def _extended(target: np.ndarray, blank: int) -> np.ndarray:
    ext = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    ext[1::2] = target
    return ext


def _skip_allowed(ext: np.ndarray, blank: int) -> np.ndarray:
    """True at s where the transition s-2 -> s is allowed (l'_s not blank, != l'_(s-2))."""
    allowed = np.zeros(len(ext), dtype=bool)
    allowed[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    return allowed


def _alpha(lp: np.ndarray, ext: np.ndarray, skip: np.ndarray) -> np.ndarray:
    t_len, s_len = lp.shape[0], len(ext)
    alpha = np.full((t_len, s_len), -np.inf)
    alpha[0, 0] = lp[0, ext[0]]
    if s_len > 1:
        alpha[0, 1] = lp[0, ext[1]]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        one = np.concatenate([[-np.inf], prev[:-1]])
        two = np.where(skip, np.concatenate([[-np.inf, -np.inf], prev[:-2]]), -np.inf)
        alpha[t] = _logsumexp(prev, one, two) + lp[t, ext]
    return alpha


def _beta(lp: np.ndarray, ext: np.ndarray, skip: np.ndarray) -> np.ndarray:
    t_len, s_len = lp.shape[0], len(ext)
    beta = np.full((t_len, s_len), -np.inf)
    beta[-1, -1] = lp[-1, ext[-1]]
    if s_len > 1:
        beta[-1, -2] = lp[-1, ext[-2]]
    skip_from = np.concatenate([skip[2:], [False, False]])  # s + 2 -> s allowed
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[1:], [-np.inf]])
        two = np.where(skip_from, np.concatenate([nxt[2:], [-np.inf, -np.inf]]), -np.inf)
        beta[t] = _logsumexp(nxt, one, two) + lp[t, ext]
    return beta


class CTCLoss(Function):
    """nll[n] = -log p(target_n | lp[:, n]) by the alpha recursion (see the module docstring);
    dL/dlp[t, n, c] = dL/dnll[n] * (exp(lp[t, n, c]) - exp(lcab[t, c] + nll[n] - lp[t, n, c]))
    for t < input_length[n], 0 after (PyTorch's gradient).  Saves: lp, the extended targets,
    alpha, beta, nll."""

    @staticmethod
    def forward(ctx, log_probs, targets=(), input_lengths=(), blank=0, zero_infinity=False):
        lp_all = log_probs.astype(np.float64)
        nll = np.empty(len(targets))
        saved = []
        for n, (target, t_len) in enumerate(zip(targets, input_lengths)):
            lp = lp_all[:t_len, n]
            ext = _extended(target, blank)
            skip = _skip_allowed(ext, blank)
            alpha = _alpha(lp, ext, skip) if t_len else np.full((0, len(ext)), -np.inf)
            ends = alpha[-1, -2:] if t_len else np.array([-np.inf])
            nll[n] = -_logsumexp(*ends) if t_len else np.inf
            saved.append((ext, skip, alpha))
        ctx.saved_lists = saved
        ctx.meta = (input_lengths, zero_infinity)
        ctx.save_for_backward(lp_all, nll)
        out = np.where(np.isinf(nll) & zero_infinity, 0.0, nll)
        return out.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        lp_all, nll = ctx.saved
        input_lengths, zero_infinity = ctx.meta
        grad = np.zeros_like(lp_all)
        for n, (ext, skip, alpha) in enumerate(ctx.saved_lists):
            t_len = input_lengths[n]
            if t_len == 0 or (zero_infinity and np.isinf(nll[n])):
                continue
            lp = lp_all[:t_len, n]
            beta = _beta(lp, ext, skip)
            both = alpha + beta
            classes = lp.shape[1]
            lcab = np.full((t_len, classes), -np.inf)
            for c in np.unique(ext):
                lcab[:, c] = _logsumexp(*both[:, ext == c].T)
            with np.errstate(over="ignore", invalid="ignore"):
                g = np.exp(lp) - np.exp(lcab + nll[n] - lp)
            grad[:t_len, n] = g * grad_out[n]
        return (grad.astype(grad_out.dtype),)


def _lengths(value, n: int, name: str) -> np.ndarray:
    arr = value.array if isinstance(value, Tensor) else np.asarray(value)
    arr = arr.reshape(-1).astype(np.int64)
    if arr.size != n:
        raise ValueError(f"ctc_loss: {name} must have one entry per sequence ({n}), got {arr.size}")
    return arr


def ctc_loss(
    log_probs: Tensor,
    targets,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of (T, N, C) (or unbatched (T, C)) log-probabilities against targets (N, S)
    padded, or all targets concatenated in 1-D. See the module docstring and ``nn.CTCLoss``."""
    op = "ctc_loss"
    check_input(op, log_probs)
    check_reduction(op, reduction)
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{op}: log_probs must be (T, N, C) or (T, C), got {log_probs.shape}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else reshape(log_probs, (log_probs.shape[0], 1, -1))
    t_max, n, c = lp.shape
    tg = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
    in_len = _lengths(input_lengths, n, "input_lengths")
    tg_len = _lengths(target_lengths, n, "target_lengths")
    if not 0 <= blank < c:
        raise ValueError(f"{op}: blank must be in [0, {c - 1}], got {blank}")
    if np.any(in_len > t_max) or np.any(in_len < 0):
        raise ValueError(f"{op}: input_lengths must be in [0, {t_max}], got {in_len.tolist()}")
    if not batched or tg.ndim == 1:
        offsets = np.concatenate([[0], np.cumsum(tg_len)])
        if offsets[-1] > tg.size:
            raise ValueError(f"{op}: target_lengths sum to {offsets[-1]} > {tg.size} targets")
        seqs = [tg.reshape(-1)[offsets[i] : offsets[i + 1]] for i in range(n)]
    else:
        if np.any(tg_len > tg.shape[1]):
            raise ValueError(f"{op}: a target length exceeds the padded targets {tg.shape}")
        seqs = [tg[i, : tg_len[i]] for i in range(n)]
    seqs = tuple(s.astype(np.int64) for s in seqs)
    if any(np.any(s == blank) or np.any(s < 0) or np.any(s >= c) for s in seqs):
        raise ValueError(f"{op}: targets must be class indices in [0, {c - 1}] other than blank")
    nll = CTCLoss.apply(
        lp,
        targets=seqs,
        input_lengths=tuple(int(i) for i in in_len),
        blank=int(blank),
        zero_infinity=bool(zero_infinity),
    )
    if reduction == "none":
        return nll if batched else reshape(nll, ())
    if reduction == "sum":
        return _sum(nll)
    return mean(div(nll, Tensor(np.maximum(tg_len, 1).astype(nll.dtype))))


__all__ = ["ctc_loss"]
