"""``neuronet export RUN --format onnx [--opset N]``: write ``model.onnx`` into a run folder.

The run is rebuilt from its ``model.json`` (``neuronet.load_model``) and traced on one example
input of the shape and dtype the model takes (zeros for features, token 0 for text), with a
symbolic batch size. The file is checked by ``onnx.checker``; when onnxruntime is installed,
the file is also run on that input and compared with neuronet's output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuronet.cli.config import ConfigError


def _example_input(model) -> np.ndarray:
    shape = model.input_shape
    if shape is None:
        cfg = model.config
        raise ConfigError(
            f"the run does not record its input shape (model.json has none for {cfg['name']}); "
            "retrain it with this neuronet, or export from Python with neuronet.onnx.export"
        )
    rng = np.random.default_rng(0)
    if model.input_dtype.kind in "iu":
        high = int(model.config.get("vocab_size", 2))
        return rng.integers(0, high, size=(2, *shape)).astype(model.input_dtype)
    return rng.standard_normal((2, *shape)).astype(model.input_dtype)


def export(flags: dict) -> int:
    from neuronet.io.files import CheckpointError
    from neuronet.io.model_folder import load_model

    if flags["format"] != "onnx":
        raise ConfigError(f"unknown --format {flags['format']!r}; the supported format is onnx")
    run = Path(flags["run"])
    try:
        model = load_model(run)
    except (FileNotFoundError, CheckpointError) as err:
        raise ConfigError(str(err).splitlines()[0]) from None
    try:
        from neuronet.onnx import ExportError
        from neuronet.onnx import export as to_onnx
        from neuronet.onnx.export import MAX_OPSET, MIN_OPSET
    except ImportError as err:
        raise ConfigError(str(err)) from None
    opset = flags.get("opset") or 17
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ConfigError(f"--opset must be from {MIN_OPSET} to {MAX_OPSET}, got {opset}")
    x = _example_input(model)
    folder = run if run.is_dir() else run.parent
    out = folder / "model.onnx"
    try:
        to_onnx(model.module, x, out, opset=opset)
    except ImportError as err:
        raise ConfigError(str(err)) from None
    except ExportError as err:
        raise ConfigError(f"cannot export this model to ONNX: {err}") from None
    note = _check(out, model, x)
    print(f"wrote {out} (opset {opset}{note})")
    return 0


def _check(path: Path, model, x) -> str:
    """Run the file in onnxruntime when installed; the largest difference from neuronet."""
    try:
        import onnxruntime
    except ImportError:
        return "; onnxruntime not installed, not run"
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    diff = float(np.max(np.abs(got - model.predict(x)))) if got.size else 0.0
    return f"; onnxruntime matches neuronet within {diff:.1e}"
