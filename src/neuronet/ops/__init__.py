"""The differentiable primitives, one op family per file (see each file's docstring).

Each family file holds the readable reference ``Function`` classes (NumPy, forward and backward
side by side, the formula in the docstring) and the public functions. Faster implementations of
some ops live apart in ``ops/fast/``, with the same contract; the public function chooses, by
``neuronet.backend.fast``, at one visible place.
"""
