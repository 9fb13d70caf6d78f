"""The differentiable primitives, one op family per file (see each file's docstring)."""
