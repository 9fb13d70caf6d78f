"""Pictures for learners: ``draw_graph(tensor)`` draws the autograd graph behind a tensor.

Needs the ``graphviz`` Python package (the ``viz`` extra: ``pip install 'neuronet[viz]'``);
rendering to SVG/PNG also needs Graphviz's ``dot`` program (``apt-get install graphviz``).
"""

from __future__ import annotations

from neuronet.viz.graph import draw_graph  # noqa: F401

__all__ = ["draw_graph"]
