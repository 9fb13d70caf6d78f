"""Serving with NumPy alone: a scratch virtual environment with only the core dependencies.

The package is installed without its dependencies (``pip install --no-deps``) next to numpy
and safetensors, and nothing else: no numba, matplotlib, tqdm, torch or onnx. There
``neuronet.load_model`` and ``neuronet predict`` must work, and importing for inference must
import none of the extras. Skipped (with the reason) only when the package index is unreachable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
from neuronet import models

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ("numba", "llvmlite", "matplotlib", "tqdm", "torch", "onnx", "onnxruntime", "scipy")
NETWORK_ERRORS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No matching distribution found",
    "ConnectionError",
    "timed out",
)

pytestmark = pytest.mark.xdist_group("core_install")
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _python(env: Path) -> Path:
    return env / ("Scripts" if sys.platform == "win32" else "bin") / "python"


@pytest.fixture(scope="module")
def core_env(tmp_path_factory):
    env = tmp_path_factory.mktemp("core") / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env)
    py = _python(env)
    cmd = [
        str(py),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "numpy",
        "safetensors",
        str(ROOT),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=CLEAN_ENV)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(e in output for e in NETWORK_ERRORS):
            pytest.skip(
                f"the package index is unreachable, cannot build the core venv: {output[-300:]}"
            )
        raise AssertionError(f"pip install of the core package failed:\n{output[-3000:]}")
    return py


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    nt.manual_seed(0)
    run = tmp_path_factory.mktemp("run")
    model = models.MLP(64, [32], 10)
    nt.save_model(model, run, task="classification", preprocessing={"input_shape": [64]})
    x = np.random.default_rng(0).random((4, 64)).astype(np.float32)
    np.savetxt(run / "x.csv", x, delimiter=",")
    with nt.no_grad():
        logits = model.eval()(nt.tensor(x)).array
    return run, logits


def test_core_env_has_no_extras(core_env):
    code = "import importlib.util as u, json; print(json.dumps([m for m in %r if u.find_spec(m)]))"
    out = subprocess.run(
        [str(core_env), "-c", code % (EXTRAS,)], capture_output=True, text=True, env=CLEAN_ENV
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_load_model_and_predict_import_no_extras(core_env, mlp_run):
    run, logits = mlp_run
    code = (
        "import sys, json, numpy as np, neuronet\n"
        f"m = neuronet.load_model({str(run)!r})\n"
        f"x = np.loadtxt({str(run / 'x.csv')!r}, delimiter=',', dtype=np.float32)\n"
        "out = m.predict(x)\n"
        f"extras = sorted({{k.split('.')[0] for k in sys.modules}} & set({EXTRAS!r}))\n"
        "print(json.dumps({'out': out.tolist(), 'extras': extras, 'file': neuronet.__file__}))\n"
    )
    done = subprocess.run(
        [str(core_env), "-c", code], capture_output=True, text=True, cwd="/", env=CLEAN_ENV
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "site-packages" in result["file"]  # the installed copy, not the source tree
    assert result["extras"] == []
    np.testing.assert_allclose(np.array(result["out"]), logits, rtol=1e-5, atol=1e-6)


def test_neuronet_predict_command(core_env, mlp_run):
    run, logits = mlp_run
    done = subprocess.run(
        [str(core_env), "-m", "neuronet", "predict", str(run), str(run / "x.csv")],
        capture_output=True,
        text=True,
        cwd="/",
        env=CLEAN_ENV,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "prediction,confidence"
    assert [int(line.split(",")[0]) for line in lines[1:]] == list(logits.argmax(1))
