"""ONNX export, traced from the autograd graph: ``neuronet.onnx.export(model, x, "model.onnx")``.

    import neuronet as nt
    model = nt.models.LeNet(1, 10, image_size=28).eval()
    nt.onnx.export(model, nt.randn(1, 1, 28, 28), "lenet.onnx")   # batch dim symbolic ("N")

The model runs once (twice, to tell batch-dependent sizes apart) with the autograd graph
recording; every op call in it becomes ONNX nodes (``ops_*.py``), parameters become
initializers named by their ``state_dict`` keys. A model using an op with no mapping is an error
naming the op and the module it ran in, never a silently different graph. Needs the ``onnx``
extra (``pip install 'neuronet[onnx]'``: onnx, and onnxruntime to run the file). See
docs/export.md for the ops and layers covered.

Files: ``trace.py`` (recording the calls), ``graph.py`` (names, constants, batch-dependent
shapes), ``export.py`` (the driver), ``registry.py`` and ``ops_*.py`` (the mappings).
"""

from __future__ import annotations

from neuronet.onnx.export import export
from neuronet.onnx.graph import ExportError

__all__ = ["export", "ExportError"]
