"""The ``path`` fixture: a test that takes it runs once per implementation path
(``support/paths.py``: the reference, the NumPy fast paths, the numba fast paths)."""

from __future__ import annotations

import pytest

from support.paths import PATHS, on_path, unavailable


@pytest.fixture(params=PATHS)
def path(request):
    reason = unavailable(request.param)
    if reason:
        pytest.skip(reason)
    with on_path(request.param):
        yield request.param
