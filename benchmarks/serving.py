"""Serving figures: neuronet next to PyTorch eager and onnxruntime, each in its own process.

    python benchmarks/serving.py [--samples 1000] [--repeats 5]

Prints:
1. installed size of the core: neuronet's package with its core dependencies (numpy,
   safetensors), against torch and onnxruntime with theirs (sizes of the installed files);
2. cold import: ``import <framework>`` in a fresh process (median of ``--repeats``);
3. cold start of ``neuronet predict`` on an MLP run: from process start to the first prediction
   printed, against the same job as a small PyTorch script and as an onnxruntime script;
4. single-sample latency of the MLP (64-128-10, the digits run) and LeNet-5 (28x28), the median
   (and 90th percentile) of ``--samples`` calls, one BLAS/intra-op thread everywhere.

Processes run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the machine's own BLAS kernel,
printed). Figures from a busy machine are provisional.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def child_env() -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    env.update(ONE_THREAD)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---- 1. installed size ---------------------------------------------------------------------------
def _requirements(dist) -> list:
    import re

    names = []
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        names.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
    return names


def installed_size(name: str, seen=None) -> int:
    """Bytes of the installed files of distribution ``name`` and its required dependencies."""
    from importlib import metadata

    seen = set() if seen is None else seen
    key = name.lower().replace("_", "-")
    if key in seen:
        return 0
    seen.add(key)
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0
    total = 0
    for f in dist.files or []:
        path = Path(dist.locate_file(f))
        if path.is_file():
            total += path.stat().st_size
    return total + sum(installed_size(r, seen) for r in _requirements(dist))


def neuronet_core_size() -> int:
    """neuronet's package files plus numpy and safetensors (its core runtime dependencies)."""
    package = sum(
        p.stat().st_size
        for p in (ROOT / "src" / "neuronet").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    seen = set()
    return package + installed_size("numpy", seen) + installed_size("safetensors", seen)


# ---- 2. cold import ------------------------------------------------------------------------------
def cold_import(module: str, repeats: int) -> float | None:
    code = (
        "import time; t = time.perf_counter(); import {m}; "
        "print((time.perf_counter() - t) * 1e3)".format(m=module)
    )
    times = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=child_env()
        )
        if done.returncode != 0:
            return None
        times.append(float(done.stdout.strip()))
    return statistics.median(times)


# ---- 3. cold start of a prediction ---------------------------------------------------------------
TORCH_PREDICT = """
import sys, numpy as np, torch
from safetensors.torch import load_file
torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128), torch.nn.ReLU(),
                            torch.nn.Linear(128, 10))
model.load_state_dict({k.replace("net.", ""): v for k, v in load_file(sys.argv[1]).items()})
model.eval()
x = torch.from_numpy(np.loadtxt(sys.argv[2], delimiter=",", dtype=np.float32, ndmin=2))
with torch.inference_mode():
    p = torch.softmax(model(x), 1)
print("prediction,confidence")
print(f"{int(p.argmax(1)[0])},{float(p.max()):.4f}")
"""

ORT_PREDICT = """
import sys, numpy as np, onnxruntime as ort
opts = ort.SessionOptions(); opts.intra_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], opts, providers=["CPUExecutionProvider"])
x = np.loadtxt(sys.argv[2], delimiter=",", dtype=np.float32, ndmin=2)
z = s.run(None, {"input": x})[0]
p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
print("prediction,confidence")
print(f"{int(p.argmax())},{float(p.max()):.4f}")
"""


def cold_start(command: list, repeats: int) -> float | None:
    """Milliseconds from spawning ``command`` to its first prediction line on stdout."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()
        )
        proc.stdout.readline()  # the header
        line = proc.stdout.readline()  # the first prediction
        elapsed = (time.perf_counter() - start) * 1e3
        proc.communicate()
        if proc.returncode != 0 or not line:
            return None
        times.append(elapsed)
    return statistics.median(times)


# ---- 4. single-sample latency (run in a child process per framework) ---------------------------
def latency_child(framework: str, model_name: str, folder: str, samples: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (1, 64) if model_name == "mlp" else (1, 1, 28, 28)
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(50)]
    if framework == "neuronet":
        import neuronet as nt

        model = nt.load_model(Path(folder) / model_name).module

        def run(x):
            with nt.no_grad():
                return model(nt.Tensor(x)).array

    elif framework == "torch":
        import torch

        torch.set_num_threads(1)
        sys.path.insert(0, str(ROOT / "tests" / "io"))
        from torch_twins import twin

        import neuronet as nt

        loaded = nt.load_model(Path(folder) / model_name)
        model = twin(loaded.module).eval()
        model.load_state_dict(nt.io.to_torch_state_dict(loaded.module))

        def run(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()

    else:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        path = str(Path(folder) / model_name / "model.onnx")
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

        def run(x):
            return session.run(None, {"input": x})[0]

    for x in xs:
        run(x)
    times = []
    for i in range(samples):
        x = xs[i % len(xs)]
        start = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return {"median_us": statistics.median(times), "p90_us": times[int(0.9 * (len(times) - 1))]}


def latency(framework: str, model_name: str, folder: Path, samples: int) -> dict | None:
    done = subprocess.run(
        [sys.executable, __file__, "--child", framework, model_name, str(folder), str(samples)],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- setup and report ----------------------------------------------------------------------------
def prepare(folder: Path) -> None:
    """An MLP run and a LeNet run (model.json + weights + model.onnx), and one CSV sample."""
    import numpy as np

    import neuronet as nt
    from neuronet import models

    nt.manual_seed(0)
    mlp = models.MLP(64, [128], 10)
    nt.save_model(mlp, folder / "mlp", task="classification", preprocessing={"input_shape": [64]})
    lenet = models.LeNet(1, 10, image_size=28)
    nt.save_model(
        lenet, folder / "lenet", task="classification", preprocessing={"input_shape": [1, 28, 28]}
    )
    try:
        nt.onnx.export(mlp, nt.randn(1, 64), folder / "mlp" / "model.onnx")
        nt.onnx.export(lenet, nt.randn(1, 1, 28, 28), folder / "lenet" / "model.onnx")
    except ImportError:
        pass
    sample = np.random.default_rng(0).random((1, 64)).astype(np.float32)
    np.savetxt(folder / "sample.csv", sample, delimiter=",")
    (folder / "torch_predict.py").write_text(TORCH_PREDICT)
    (folder / "ort_predict.py").write_text(ORT_PREDICT)


def blas_kernel() -> str:
    code = (
        "import numpy, threadpoolctl; info = threadpoolctl.threadpool_info(); "
        "print(', '.join(f\"{i.get('internal_api')} {i.get('architecture')}\" for i in info))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env()
    )
    return done.stdout.strip() or "unknown (threadpoolctl missing)"


def _fmt(value, unit="ms", digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}"


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"BLAS: {blas_kernel()}; one thread per framework; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare(folder)
        print("\n1. installed size (package + required dependencies)")
        mb = 1 << 20
        print(f"   neuronet core (numpy, safetensors)  {neuronet_core_size() / mb:8.1f} MB")
        for name in ("torch", "onnxruntime"):
            size = installed_size(name)
            print(f"   {name:<36}{(size / mb) if size else float('nan'):8.1f} MB")
        print(f"\n2. cold import (median of {args.repeats} fresh processes)")
        for module in ("neuronet", "torch", "onnxruntime"):
            print(f"   import {module:<29}{_fmt(cold_import(module, args.repeats)):>12}")
        print(f"\n3. cold start to the first prediction, MLP run (median of {args.repeats})")
        py = sys.executable
        rows = [
            (
                "neuronet predict RUN x.csv",
                [py, "-m", "neuronet", "predict", str(folder / "mlp"), str(folder / "sample.csv")],
            ),
            (
                "PyTorch script (safetensors)",
                [
                    py,
                    str(folder / "torch_predict.py"),
                    str(folder / "mlp" / "model.safetensors"),
                    str(folder / "sample.csv"),
                ],
            ),
            (
                "onnxruntime script (model.onnx)",
                [
                    py,
                    str(folder / "ort_predict.py"),
                    str(folder / "mlp" / "model.onnx"),
                    str(folder / "sample.csv"),
                ],
            ),
        ]
        for label, command in rows:
            print(f"   {label:<36}{_fmt(cold_start(command, args.repeats)):>12}")
        print(f"\n4. single-sample latency, median (p90) of {args.samples} calls")
        for model_name in ("mlp", "lenet"):
            for framework in ("neuronet", "torch", "onnxruntime"):
                r = latency(framework, model_name, folder, args.samples)
                text = "n/a" if r is None else f"{r['median_us']:8.1f} us ({r['p90_us']:.1f})"
                print(f"   {model_name:<6} {framework:<29}{text:>20}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, framework, model_name, folder, samples = sys.argv
        print(json.dumps(latency_child(framework, model_name, folder, int(samples))))
        sys.exit(0)
    sys.exit(main())
