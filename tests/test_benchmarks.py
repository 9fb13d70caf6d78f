"""The benchmark workloads are the same model in both frameworks: with PyTorch's weights loaded
into neuronet's model (which also proves the parameter names and shapes agree), one training
step gives the same loss and the same gradient for every parameter. No timing here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import workloads  # noqa: E402

import neuronet as nt  # noqa: E402
import neuronet.functional as F  # noqa: E402


def _loss(framework_f, name, out, y):
    if name == "autoencoder":
        return framework_f.binary_cross_entropy_with_logits(out, y)
    if name == "gpt":
        return framework_f.cross_entropy(out.reshape(-1, 65), y.reshape(-1))
    return framework_f.cross_entropy(out, y)


@pytest.mark.parametrize("name", workloads.NAMES)
def test_workload_models_match_torch(name, torch):
    from benchmarks import models_neuronet, models_torch

    batch = 4 if name != "gpt" else 2
    x, y = workloads._inputs(name, np.random.default_rng(0), batch, workloads.CONTEXT)
    torch.manual_seed(0)
    theirs = models_torch.model_for(name).double()
    ours = models_neuronet.model_for(name).double()
    ours.load_state_dict(theirs.state_dict())
    x_ours = nt.from_numpy(x.astype(np.float64) if x.dtype.kind == "f" else x)
    x_theirs = torch.from_numpy(x.astype(np.float64) if x.dtype.kind == "f" else x)
    y_ours = nt.from_numpy(y.astype(np.float64) if y.dtype.kind == "f" else y)
    y_theirs = torch.from_numpy(y.astype(np.float64) if y.dtype.kind == "f" else y)
    loss_ours = _loss(F, name, ours(x_ours), y_ours)
    loss_theirs = _loss(torch.nn.functional, name, theirs(x_theirs), y_theirs)
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-10)
    grads = {n: p.grad for n, p in theirs.named_parameters()}
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, grads[n].numpy(), rtol=1e-7, atol=1e-10, err_msg=f"{name}: {n}"
        )


@pytest.mark.parametrize("name", ["mlp", "gpt"])
def test_workload_sizes_scale_the_flops(name):
    """The scaling benchmark's knobs: FLOPs grow linearly in the batch, and the GPT's attention
    term makes them grow faster than linearly in the context."""
    base = workloads.flops(name)
    assert workloads.flops(name, batch=2 * workloads.BATCH[name]) == pytest.approx(2 * base)
    if name == "gpt":
        assert workloads.flops(name, context=128) > 2 * base
    step, infer, flops = workloads.build("neuronet", name, batch=2, context=16)
    step()
    infer()
    assert flops == workloads.flops(name, batch=2, context=16)


def test_scaling_verdict_names_a_cliff():
    from benchmarks.scaling import verdict

    rows = [
        {"size": s, "ms_per_step": 1 + 2 * s / 32, "gflop_per_step": s / 32}
        for s in (32, 64, 128, 256)
    ]
    assert "grows like the FLOPs, no cliff" in verdict(rows)
    rows[-1]["ms_per_step"] *= 3
    assert "CLIFF between 128 and 256" in verdict(rows)


@pytest.mark.parametrize(
    "script, argv, message",
    [
        ("run", ["--workloads", "mlp,bogus"], "--workloads: unknown name 'bogus'; choose from mlp"),
        ("run", ["--workloads", ","], "--workloads: no name given"),
        ("run", ["--pairs", "0"], "--pairs must be at least 1, got 0"),
        ("run", ["--warmup", "-1"], "--warmup must be at least 0, got -1"),
        ("run", ["--steps", "x"], "argument --steps: invalid int value: 'x'"),
        ("real", ["--recipes", "gpt,resnet"], "--recipes: unknown name 'resnet'"),
        ("real", ["--gpt-steps", "0"], "--gpt-steps must be at least 1, got 0"),
        ("real", ["--fashion-dir", "/no/such/dir"], "--fashion-dir /no/such/dir not found"),
        ("scaling", ["--threads", "0"], "--threads must be at least 1, got 0"),
        ("distributed", ["--workloads", "lenet"], "--workloads: unknown name 'lenet'"),
    ],
)
def test_benchmark_command_line_mistakes_are_one_line_and_exit_2(script, argv, message, capsys):
    """A mistake in a benchmark's options stops it before anything runs (no child process, no
    traceback): one line on stderr naming the option, exit code 2."""
    import importlib

    module = importlib.import_module(f"benchmarks.{script}")
    with pytest.raises(SystemExit) as stop:
        module.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f": error: {message}" in err, err
