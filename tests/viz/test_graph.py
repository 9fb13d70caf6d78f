"""draw_graph: the Digraph names every op, tensor shape and which tensors need grad."""

from __future__ import annotations

import re
import shutil

import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import backend, nn

graphviz = pytest.importorskip("graphviz", reason="graphviz not installed (the viz extra)")
from neuronet.viz import draw_graph  # noqa: E402

NO_DOT = "Graphviz's `dot` program is not installed (apt-get install graphviz)"


def _nodes(dot) -> dict:
    """{node id: label} from the DOT source."""
    found = re.findall(r'^\t(\w+) \[label="?(.*?)"? (?:fillcolor|shape)', dot.source, re.M | re.S)
    return {key: label.replace("\n", " | ") for key, label in found}


def _edges(dot) -> set:
    return set(re.findall(r"^\t(\w+) -> (\w+)", dot.source, re.M))


def _loss():
    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = nt.randn(5, 4), nt.randint(0, 3, (5,))
    # the reference Functions, whose names do not depend on numba being installed (with it,
    # the graph shows the fast path that ran, e.g. CompiledReLU)
    with backend.fast.using(enabled=False):
        return model, F.cross_entropy(model(x), y)


def test_ops_shapes_and_requires_grad_of_an_mlp_loss():
    model, loss = _loss()
    dot = draw_graph(loss, params=dict(model.named_parameters()))
    assert isinstance(dot, graphviz.Digraph)
    labels = _nodes(dot)
    ops = sorted(v for k, v in labels.items() if k.startswith("f"))
    assert ops == ["CrossEntropy", "Linear", "Linear", "ReLU"]
    tensors = sorted(v for k, v in labels.items() if k.startswith("t"))
    assert tensors == sorted(
        [
            "scalar float32",
            "(5, 3) float32",
            "(5, 8) float32",
            "(5, 8) float32",
            "(5, 4) float32",  # the input: no grad
            "0.weight | (8, 4) float32 | requires_grad",
            "0.bias | (8,) float32 | requires_grad",
            "2.weight | (3, 8) float32 | requires_grad",
            "2.bias | (3,) float32 | requires_grad",
        ]
    )
    by_label = {v: k for k, v in labels.items()}
    edges = _edges(dot)
    assert len(edges) == 12  # 4 op -> output edges, 8 input -> op edges
    relu = by_label["ReLU"]
    first = [
        k
        for k, v in labels.items()
        if v == "Linear" and (by_label["0.weight | (8, 4) float32 | requires_grad"], k) in edges
    ][0]
    assert (by_label["(5, 4) float32"], first) in edges
    assert any((a, relu) in edges and (first, a) in edges for a in labels)  # Linear -> t -> ReLU


def test_shared_subgraphs_are_drawn_once():
    x = nt.randn(3, requires_grad=True)
    y = x.exp()
    z = (y * y + y).sum()
    labels = _nodes(draw_graph(z))
    ops = sorted(v for k, v in labels.items() if k.startswith("f"))
    assert ops.count("Exp") == 1 and ops.count("Mul") == 1 and "Sum" in ops
    assert sum(v.endswith("requires_grad") for v in labels.values()) == 1


def test_errors_and_rendering(tmp_path):
    with pytest.raises(TypeError, match="draw_graph: expected a neuronet Tensor, got list"):
        draw_graph([1, 2])
    if shutil.which("dot") is None:
        pytest.skip(NO_DOT)
    _, loss = _loss()
    draw_graph(loss, path=tmp_path / "graph.svg")
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    draw_graph(loss, path=tmp_path / "graph", format="png")
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
