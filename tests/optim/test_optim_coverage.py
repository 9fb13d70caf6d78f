"""Every public optimizer and scheduler is proved against its oracle (Chainer's
TestAllOptimizersCoverage): a new one fails here until a parity case covers it."""

from __future__ import annotations

import inspect

import test_lr_scheduler_parity as sched_tests
import test_optim_torch_parity as optim_tests

from neuronet import optim
from neuronet.optim import lr_scheduler


def _public_subclasses(module, base):
    return {
        name
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
        and issubclass(getattr(module, name), base)
        and getattr(module, name) is not base
    }


def test_every_optimizer_has_a_parity_case():
    covered = {name for name, _ in optim_tests.CASES} | {"LAMB"}  # LAMB: test_lamb.py (paper)
    assert _public_subclasses(optim, optim.Optimizer) == covered


def test_every_scheduler_has_a_parity_case():
    covered = {name.split("-")[0] for name in sched_tests.CASES}
    covered |= {"ReduceLROnPlateau"}  # test_reduce_on_plateau_matches_torch
    assert _public_subclasses(lr_scheduler, lr_scheduler.LRScheduler) == covered
    assert callable(lr_scheduler.warmup_cosine)  # test_warmup_cosine_is_torchs_composition
