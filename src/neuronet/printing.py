"""How tensors print: ``tensor([...], dtype=..., grad_fn=<...>)``, with PyTorch's options.

``set_printoptions(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None,
profile=None)`` takes PyTorch's arguments and defaults; ``profile`` is ``'default'``,
``'short'`` (precision 2, threshold 1000, edgeitems 2) or ``'full'`` (no summarising).
"""

from __future__ import annotations

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "format_tensor"]

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80},
}
_OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """Set how tensors print (PyTorch's ``torch.set_printoptions``).

    Args:
        precision: digits after the decimal point (default 4).
        threshold: print a summary ("...") above this many elements (default 1000).
        edgeitems: items shown at each end of a summarised dimension (default 3).
        linewidth: characters per line (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``; set first, then the other arguments.
        sci_mode: True for scientific notation always, False never, None to let NumPy decide.

    Example:
        >>> import neuronet
        >>> neuronet.set_printoptions(precision=2)
        >>> neuronet.tensor([1.2345])
        tensor([1.23])
        >>> neuronet.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: unknown profile {profile!r}; use {list(_PROFILES)}"
            )
        _OPTIONS.update(_PROFILES[profile], sci_mode=None)
    for name, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            _OPTIONS[name] = value
    if sci_mode is not None or profile is not None:
        _OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options (a copy)."""
    return dict(_OPTIONS)


def format_tensor(t) -> str:
    """``repr`` of a tensor under the current options."""
    arr = t.array
    opts = _OPTIONS
    formatter = None
    if opts["sci_mode"] and arr.dtype.kind == "f":
        digits = opts["precision"]
        formatter = {"float_kind": lambda v: f"{v:.{digits}e}"}
    threshold = opts["threshold"]
    body = np.array2string(
        arr,
        separator=", ",
        prefix="tensor(",
        precision=opts["precision"],
        threshold=int(min(threshold, 2**62)),
        edgeitems=opts["edgeitems"],
        max_line_width=opts["linewidth"],
        suppress_small=opts["sci_mode"] is False,
        formatter=formatter,
    )
    extras = []
    if arr.dtype != np.float32 and arr.dtype != np.int64 and arr.dtype != np.bool_:
        extras.append(f"dtype=neuronet.{arr.dtype}")
    if t._ctx is not None:
        extras.append(f"grad_fn=<{t._ctx.fn.__name__}Backward>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"
