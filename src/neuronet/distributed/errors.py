"""The errors neuronet.distributed raises."""

from __future__ import annotations


class DistributedError(RuntimeError):
    """Ranks disagree (model layout, bucket order, checkpoint world size) or MPI is unusable."""


class DistributedTimeoutError(DistributedError):
    """A collective did not complete within the timeout; the message names the ranks that did
    not reach it and what this rank was waiting for."""
