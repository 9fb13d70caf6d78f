"""Specs for ops/conv.py: conv1d, conv2d, conv_transpose1d, conv_transpose2d.

Each config is checked by float64 gradcheck, element by element (the bigger configs give a small
case of the same kind, ``small``, and get a random-direction check at full size besides), and by
PyTorch parity in float64 and float32. The configs cover strides 1/2,
int/tuple/'same'/'valid' padding, dilation 2, groups 1/2/depthwise, bias on/off, even kernels
with 'same', unbatched inputs, and output_padding for transposed convolutions.
"""

from __future__ import annotations

import warnings

import neuronet as nt
from support.op_specs import OpSpec


def _conv(op, x_shape, w_shape, bias=True, small=None, **kw):
    """A spec; ``small`` = (x_shape, w_shape) of the element-wise gradcheck case for a big one."""
    transposed = op.startswith("conv_transpose")

    def make_inputs(x_shape, w_shape):
        out_channels = w_shape[1] * kw.get("groups", 1) if transposed else w_shape[0]

        def inputs(rng, dtype):
            arrays = [
                rng.standard_normal(x_shape).astype(dtype),
                rng.standard_normal(w_shape).astype(dtype),
            ]
            if bias:
                arrays.append(rng.standard_normal(out_channels).astype(dtype))
            return arrays

        return inputs

    def ours(*args):
        return getattr(nt.functional, op)(*args, **kw)

    def theirs(*args):
        import torch

        with warnings.catch_warnings():  # torch warns about 'same' with even kernels
            warnings.simplefilter("ignore", UserWarning)
            return getattr(torch.nn.functional, op)(*args, **kw)

    return OpSpec(
        op,
        ours,
        theirs,
        make_inputs(x_shape, w_shape),
        fast_gradcheck=small is not None,
        gradcheck_inputs=None if small is None else make_inputs(*small),
        # float32: outputs are sums of 9*C products of unit normals (up to ~30 in size); 3x3
        # 'same' convolutions take the Winograd F(4x4, 3x3) path, which rounds to ~1e-6 of the
        # largest output (see ops/fast/winograd.py), so small outputs need an absolute tolerance
        rtol32=1e-4,
        atol32=1e-4,
        grad_rtol32=1e-4,
        grad_atol32=1e-4,
    )


SPECS = [
    # conv2d: full gradcheck on tiny shapes
    _conv("conv2d", (2, 3, 5, 6), (4, 3, 3, 3)),
    _conv("conv2d", (2, 3, 5, 6), (4, 3, 3, 3), bias=False, padding=1),
    _conv("conv2d", (1, 2, 7, 6), (3, 2, 3, 2), stride=2, padding=(1, 0)),
    _conv("conv2d", (1, 2, 7, 7), (2, 2, 3, 3), dilation=2, padding=2),
    _conv("conv2d", (1, 2, 5, 6), (3, 2, 2, 4), padding="same"),
    _conv("conv2d", (1, 2, 6, 5), (3, 2, 4, 2), dilation=(1, 2), padding="same"),
    _conv("conv2d", (1, 2, 5, 5), (3, 2, 3, 3), padding="valid"),
    _conv("conv2d", (1, 4, 5, 5), (4, 2, 3, 3), groups=2, padding=1),
    _conv("conv2d", (1, 3, 5, 5), (6, 1, 3, 3), groups=3, stride=2, padding=1),  # depthwise x2
    _conv("conv2d", (2, 5, 6), (3, 2, 3, 3), padding=1),  # unbatched
    _conv("conv2d", (2, 3, 4, 4), (5, 3, 1, 1)),  # pointwise
    _conv("conv2d", (1, 2, 9, 8), (3, 2, 3, 3), stride=(2, 3), dilation=(2, 1), padding=(2, 1)),
    # bigger configs: element-wise gradcheck on the small case, one direction at full size
    _conv("conv2d", (4, 8, 12, 12), (16, 8, 3, 3), small=((1, 3, 5, 5), (3, 3, 3, 3)), padding=1),
    _conv(
        "conv2d",
        (3, 6, 11, 10),
        (6, 2, 5, 3),
        small=((1, 3, 10, 7), (3, 1, 5, 3)),
        groups=3,
        stride=2,
        dilation=2,
    ),
    _conv(
        "conv2d",
        (2, 8, 10, 10),
        (8, 1, 3, 3),
        small=((1, 8, 3, 3), (8, 1, 3, 3)),
        groups=8,
        padding="same",
    ),
    # stride 1 on wide inputs: the wrap-around row layout of _im2col (Wq = padded width)
    _conv("conv2d", (2, 3, 6, 20), (4, 3, 3, 3), small=((1, 3, 3, 20), (3, 3, 3, 3)), padding=1),
    _conv(
        "conv2d",
        (1, 2, 5, 40),
        (3, 2, 3, 3),
        small=((1, 2, 3, 36), (2, 2, 3, 3)),
        dilation=2,
        padding=(1, 2),
    ),
    _conv(
        "conv2d",
        (1, 4, 4, 24),
        (4, 2, 2, 3),
        small=((1, 2, 2, 20), (2, 1, 2, 3)),
        groups=2,
        padding="same",
    ),
    _conv("conv1d", (2, 3, 30), (4, 3, 3), small=((1, 2, 20), (2, 2, 3)), padding="same"),
    _conv("conv_transpose2d", (2, 3, 4, 24), (3, 2, 3, 3), small=((1, 2, 3, 20), (2, 2, 3, 3))),
    _conv(
        "conv_transpose2d",
        (1, 2, 3, 30),
        (2, 3, 3, 3),
        small=((1, 2, 2, 20), (2, 2, 3, 3)),
        padding=1,
        dilation=2,
    ),
    # conv1d
    _conv("conv1d", (2, 3, 9), (4, 3, 3)),
    _conv("conv1d", (2, 3, 9), (4, 3, 4), bias=False, padding="same"),
    _conv("conv1d", (2, 4, 11), (6, 2, 3), stride=2, padding=1, dilation=2, groups=2),
    _conv("conv1d", (3, 9), (2, 3, 3), padding=(2,)),  # unbatched
    # conv_transpose2d
    _conv("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3)),
    _conv("conv_transpose2d", (1, 3, 4, 4), (3, 2, 3, 3), stride=2, padding=1, output_padding=1),
    _conv(
        "conv_transpose2d",
        (1, 4, 3, 4),
        (4, 2, 3, 2),
        bias=False,
        stride=(2, 3),
        padding=(1, 0),
        output_padding=(1, 2),
        groups=2,
    ),
    _conv("conv_transpose2d", (1, 2, 4, 4), (2, 3, 3, 3), dilation=2, output_padding=1),
    _conv("conv_transpose2d", (2, 4, 3), (2, 3, 2, 2), stride=2),  # unbatched
    _conv(
        "conv_transpose2d",
        (3, 8, 6, 6),
        (8, 4, 4, 4),
        small=((1, 2, 3, 3), (2, 2, 4, 4)),
        stride=2,
        padding=1,
    ),
    # conv_transpose1d
    _conv("conv_transpose1d", (2, 3, 6), (3, 2, 3), stride=2, padding=1, output_padding=1),
    _conv("conv_transpose1d", (3, 5), (3, 4, 3), bias=False, dilation=2),  # unbatched
]
