"""Specs for the nn.functional ops of issue 19: activations, resampling, shuffles, folding,
normalisations, embedding_bag, bilinear, unpooling, 3-d convolution and pooling, grid_sample."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import away, distinct, normal, torch_fn, with_ints

F = nt.functional


def _s(name, inputs, fast=False, grad_idx=None, differentiable=True, **kwargs):
    fn = getattr(F, name)
    return OpSpec(
        name,
        (lambda *a: fn(*a, **kwargs)) if kwargs else fn,
        torch_fn(f"nn.functional.{name}", **kwargs),
        inputs,
        differentiable=differentiable,
        grad_inputs_idx=grad_idx,
        fast_gradcheck=fast,
        rtol32=1e-4,
        atol32=1e-5,
    )


def _unpool_inputs(kernel, shape):
    """Pooled values and their (valid, distinct) indices from a real max_pool."""

    def make(rng, dtype):
        import torch

        x = torch.from_numpy(distinct(shape)(rng, np.float64)[0])
        pool = getattr(torch.nn.functional, f"max_pool{len(shape) - 2}d")
        y, idx = pool(x, kernel, return_indices=True)
        return [y.numpy().astype(dtype), idx.numpy()]

    return make


SPECS = [
    _s("hardshrink", away((3, 4), [-0.5, 0.5])),
    _s("softshrink", away((3, 4), [-0.3, 0.3]), lambd=0.3),
    _s("tanhshrink", normal((3, 4))),
    _s("threshold", away((3, 4), [0.1]), threshold=0.1, value=-2.0),
    _s("hardswish", away((3, 4), [-3.0, 3.0], scale=3.0)),
    _s("hardsigmoid", away((3, 4), [-3.0, 3.0], scale=3.0)),
    _s("selu", away((3, 4), [0.0])),
    _s("celu", away((3, 4), [0.0]), alpha=0.5),
    _s("mish", normal((3, 4), scale=2.0)),
    _s("logsigmoid", normal((3, 4), scale=3.0)),
    _s("softsign", normal((3, 4), scale=2.0)),
    _s("glu", normal((3, 4)), dim=1),
    _s("softmin", normal((3, 4)), dim=1),
    _s("prelu", lambda r, d: [away((2, 3, 4), [0.0])(r, d)[0], np.array([0.1, -0.5, 0.3], d)]),
    _s("prelu", lambda r, d: [away((5,), [0.0])(r, d)[0], np.array(0.25, d)]),
    _s("rrelu", away((3, 4), [0.0]), training=False),
    _s("interpolate", normal((1, 2, 3)), size=5, mode="linear", align_corners=False),
    _s("interpolate", normal((1, 2, 3, 4)), scale_factor=1.7, mode="bilinear"),
    _s("interpolate", normal((1, 1, 3, 3)), size=(5, 4), mode="bicubic", align_corners=True),
    _s("interpolate", normal((1, 2, 4, 3)), scale_factor=(0.6, 2.0), mode="nearest"),
    _s("interpolate", normal((1, 1, 2, 3, 3)), size=(3, 4, 2), mode="trilinear"),
    _s("interpolate", normal((1, 2, 5)), scale_factor=0.5, mode="area"),
    _s(
        "interpolate",
        normal((1, 2, 4)),
        scale_factor=1.5,
        mode="nearest-exact",
        recompute_scale_factor=True,
    ),
    OpSpec(
        "upsample",
        lambda x: F.upsample(x, scale_factor=2),
        torch_fn("nn.functional.interpolate", scale_factor=2),
        normal((1, 2, 3)),
    ),
    _s("upsample_nearest", normal((1, 2, 3, 3)), scale_factor=2),
    _s("upsample_bilinear", normal((1, 2, 3, 3)), size=(4, 5)),
    _s("pixel_shuffle", normal((2, 8, 2, 3)), upscale_factor=2),
    _s("pixel_unshuffle", normal((2, 2, 4, 6)), downscale_factor=2),
    _s("channel_shuffle", normal((2, 6, 2, 2)), groups=3),
    _s("unfold", normal((2, 2, 4, 5)), kernel_size=(2, 3), padding=1, stride=(1, 2)),
    _s("fold", normal((2, 8, 6)), output_size=(4, 5), kernel_size=2, stride=2, padding=(1, 0)),
    OpSpec(
        "instance_norm",
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: __import__("torch").nn.functional.instance_norm(x, weight=w, bias=b),
        normal((2, 3, 5), (3,), (3,)),
        rtol32=1e-4,
        atol32=1e-5,
    ),
    _s("local_response_norm", normal((2, 5, 3)), size=3, alpha=0.1, beta=0.75, k=2.0),
    OpSpec(
        "embedding_bag",
        lambda w, i, o: F.embedding_bag(i, w, o, mode="sum"),
        lambda w, i, o: __import__("torch").nn.functional.embedding_bag(i, w, o, mode="sum"),
        with_ints(normal((5, 3)), [0, 2, 2, 4, 1], [0, 2]),
        rtol32=1e-4,
        atol32=1e-5,
    ),
    OpSpec(
        "embedding_bag",
        lambda w, i: F.embedding_bag(i, w, mode="max"),
        lambda w, i: __import__("torch").nn.functional.embedding_bag(i, w, mode="max"),
        with_ints(distinct((5, 3)), [[0, 2], [4, 1]]),
    ),
    _s("bilinear", normal((3, 2), (3, 4), (5, 2, 4), (5,))),
    _s("max_unpool1d", _unpool_inputs(2, (2, 2, 6)), kernel_size=2),
    _s("max_unpool2d", _unpool_inputs(2, (1, 2, 4, 4)), kernel_size=2),
    _s("max_unpool3d", _unpool_inputs(2, (1, 1, 2, 4, 4)), kernel_size=2),
    _s("conv3d", normal((1, 2, 4, 3, 4), (3, 2, 2, 2, 2), (3,)), fast=True, padding=1),
    _s("conv3d", normal((1, 4, 3, 4, 3), (2, 2, 1, 2, 2)), fast=True, groups=2, stride=2),
    _s(
        "conv_transpose3d",
        normal((1, 2, 2, 3, 2), (2, 3, 2, 2, 2), (3,)),
        fast=True,
        stride=2,
        padding=1,
        output_padding=1,
    ),
    _s("max_pool3d", distinct((1, 2, 4, 4, 3)), kernel_size=2, stride=(2, 1, 1)),
    _s("avg_pool3d", normal((1, 2, 4, 4, 3)), kernel_size=2, padding=1, count_include_pad=False),
    _s("adaptive_avg_pool3d", normal((1, 2, 5, 4, 3)), output_size=(2, 3, None)),
    _s("adaptive_max_pool3d", distinct((1, 2, 5, 4, 3)), output_size=2),
    _s(
        "grid_sample",
        lambda r, d: [
            r.standard_normal((1, 2, 4, 5)).astype(d),
            r.uniform(-1.1, 1.1, (1, 3, 2, 2)).astype(d),
        ],
        align_corners=False,
    ),
    _s(
        "grid_sample",
        lambda r, d: [
            r.standard_normal((1, 1, 3, 4)).astype(d),
            r.uniform(-0.9, 0.9, (1, 2, 2, 2)).astype(d),
        ],
        mode="bicubic",
        padding_mode="border",
        align_corners=True,
    ),
    _s(
        "grid_sample",
        lambda r, d: [
            r.standard_normal((1, 1, 3, 3, 3)).astype(d),
            r.uniform(-1.2, 1.2, (1, 2, 1, 2, 3)).astype(d),
        ],
        padding_mode="reflection",
    ),
    OpSpec(
        "affine_grid",
        lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=False),
        torch_fn("nn.functional.affine_grid", size=(2, 3, 4, 5), align_corners=False),
        normal((2, 2, 3)),
    ),
    OpSpec(
        "affine_grid",
        lambda t: F.affine_grid(t, (1, 1, 2, 3, 4), align_corners=True),
        torch_fn("nn.functional.affine_grid", size=(1, 1, 2, 3, 4), align_corners=True),
        normal((1, 3, 4)),
    ),
]
