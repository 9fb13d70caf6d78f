"""Likelihood loss modules: GaussianNLLLoss, PoissonNLLLoss, CTCLoss (formulas in
``ops/likelihood_loss.py`` and ``ops/ctc_loss.py``)."""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.loss import _Loss
from neuronet.ops import ctc_loss as C
from neuronet.ops import likelihood_loss as L


class GaussianNLLLoss(_Loss):
    """The Gaussian negative log-likelihood of target under N(input, var).

    Shape: input (N, *), target the same (or one size-1 dim), var the same, one dim fewer, or
    one size-1 dim (a shared variance).
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var) -> Tensor:
        return self._call(
            L.gaussian_nll_loss, input, target, var, self.full, self.eps, self.reduction
        )


class PoissonNLLLoss(_Loss):
    """The Poisson negative log-likelihood: exp(input) - target * input (log_input=True).
    Shape: input and target the same."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average=None,
        eps: float = 1e-8,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            L.poisson_nll_loss,
            log_input,
            target,
            self.log_input,
            self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class CTCLoss(_Loss):
    """Connectionist Temporal Classification (Graves et al., 2006): the negative log-likelihood
    of a label sequence summed over all its alignments to the input frames.

    Args:
        blank: the blank class (default 0).
        reduction: 'mean' (each loss divided by its target length, then averaged), 'sum' or
            'none'.
        zero_infinity: turn infinite losses (impossible alignments) and their gradients into 0.

    Shape: log_probs (T, N, C) or (T, C) (log_softmax outputs), targets (N, S) or the targets
    concatenated (sum of target_lengths,), input_lengths (N,), target_lengths (N,).
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths) -> Tensor:
        return self._call(
            C.ctc_loss,
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )


__all__ = ["GaussianNLLLoss", "PoissonNLLLoss", "CTCLoss"]
