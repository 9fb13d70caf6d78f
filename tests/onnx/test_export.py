"""ONNX export of every layer family and reference model, checked by onnxruntime.

Each case is exported once (batch 3) and run in onnxruntime on random inputs of two other batch
sizes: outputs equal to neuronet's within 1e-4. ``onnx.checker`` runs inside ``export``.
"""

from __future__ import annotations

import pytest

pytest.importorskip("onnx", reason="onnx not installed; install the `onnx` extra to run these")
pytest.importorskip(
    "onnxruntime", reason="onnxruntime not installed; install the `onnx` extra to run these"
)

from onnx_cases import LAYERS, MODELS, run_case  # noqa: E402

TOLERANCE = 1e-4
LAYER_CASES = [(family, name) for family, cases in LAYERS.items() for name in cases]


@pytest.mark.parametrize("family,name", LAYER_CASES, ids=[n for _, n in LAYER_CASES])
def test_layer_family_matches_onnxruntime(tmp_path, family, name):
    builder, make = LAYERS[family][name]
    diffs = run_case(name, builder, make, tmp_path / f"{name}.onnx")
    assert max(diffs) <= TOLERANCE, diffs


@pytest.mark.parametrize("name", list(MODELS))
def test_reference_model_matches_onnxruntime(tmp_path, name):
    builder, make = MODELS[name]
    diffs = run_case(name, builder, make, tmp_path / f"{name}.onnx")
    assert max(diffs) <= TOLERANCE, diffs
