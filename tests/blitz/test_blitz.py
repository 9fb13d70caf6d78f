"""PyTorch's 60-minute blitz CIFAR-10 classifier runs on neuronet with only its imports changed.

``cifar10_blitz.py`` is the tutorial's script as a PyTorch user runs it; the neuronet copy
changes exactly the four ``import torch...`` lines. torchvision is a stand-in serving random
data shaped like CIFAR-10 (``stand_in/torchvision``). Both run in fresh processes, as a user runs
them, with the tutorial's two worker processes per loader.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPT = HERE / "cifar10_blitz.py"
IMPORTS = {
    "import torch": "import neuronet as torch",
    "import torch.nn as nn": "import neuronet.nn as nn",
    "import torch.nn.functional as F": "import neuronet.nn.functional as F",
    "import torch.optim as optim": "import neuronet.optim as optim",
}


def _ported() -> str:
    lines = SCRIPT.read_text().splitlines()
    return "\n".join(IMPORTS.get(line, line) for line in lines) + "\n"


def _run(tmp_path: Path, text: str, framework: str, train: int) -> subprocess.CompletedProcess:
    script = tmp_path / "blitz.py"
    script.write_text(text)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE / "stand_in"), env.get("PYTHONPATH", "")])
    env.update(MPLBACKEND="Agg", BLITZ_FRAMEWORK=framework, BLITZ_TRAIN=str(train))
    return subprocess.run(
        [sys.executable, "-W", "ignore", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_port_changes_only_the_import_lines():
    diff = [
        line
        for line in difflib.unified_diff(SCRIPT.read_text().splitlines(), _ported().splitlines())
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert sorted(diff) == sorted([f"-{k}" for k in IMPORTS] + [f"+{v}" for v in IMPORTS.values()])
    code = [line for line in _ported().splitlines() if line.strip() and not line.startswith("#")]
    assert len(code) == 106  # so 102 of 106 code lines (96%) run unchanged


@pytest.mark.slow
def test_the_blitz_trains_on_neuronet(tmp_path):
    result = _run(tmp_path, _ported(), "neuronet", train=8000)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    losses = [float(v) for v in re.findall(r"\[\d,  2000\] loss: ([\d.]+)", out)]
    assert len(losses) == 2 and losses[1] < 0.8 * losses[0], out
    accuracy = int(re.search(r"test images: (\d+) %", out).group(1))
    assert accuracy >= 30, out  # chance is 10 %
    assert len(re.findall(r"Accuracy for class: \w+ +is [\d.]+ %", out)) == 10
    assert out.strip().endswith("cpu") and "Finished Training" in out
    saved = (tmp_path / "cifar_net.pth").read_bytes()
    assert not saved.startswith((b"PK", b"\x80"))  # safetensors, not a zipped pickle


def test_the_script_is_pytorchs(tmp_path, torch):
    result = _run(tmp_path, SCRIPT.read_text(), "torch", train=400)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Finished Training" in result.stdout and result.stdout.strip().endswith("cpu")
