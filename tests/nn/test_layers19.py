"""The layers added for PyTorch's op surface (issue 19): parity with their torch twins (same
state_dict, inputs, outputs, input and parameter gradients, buffers, in train and eval mode),
state-dict keys, reprs and the errors they raise."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from support.module_parity import assert_module_parity, assert_state_dict_loads_into_torch

R = np.random.default_rng(0)


def _x(*shape, scale=1.0):
    return (scale * R.standard_normal(shape)).astype(np.float32)


def _labels(n):
    return np.where(R.random(n) < 0.5, -1.0, 1.0).astype(np.float32)


def _log_probs(t, n, c):
    logits = R.standard_normal((t, n, c))
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(np.float32)


# (layer name, constructor arguments, inputs, extra options for assert_module_parity)
CASES = [
    ("SELU", (), [_x(3, 4)], {}),
    ("CELU", (0.5,), [_x(3, 4)], {}),
    ("Mish", (), [_x(3, 4)], {}),
    ("LogSigmoid", (), [_x(3, 4)], {}),
    ("Softsign", (), [_x(3, 4)], {}),
    ("GLU", (1,), [_x(3, 4)], {}),
    ("Softmin", (1,), [_x(3, 4)], {}),
    ("Hardswish", (), [_x(3, 4, scale=3)], {}),
    ("Hardsigmoid", (), [_x(3, 4, scale=3)], {}),
    ("Hardshrink", (0.3,), [_x(3, 4)], {}),
    ("Softshrink", (0.3,), [_x(3, 4)], {}),
    ("Tanhshrink", (), [_x(3, 4)], {}),
    ("Threshold", (0.1, -2.0), [_x(3, 4)], {}),
    ("PReLU", (3, 0.1), [_x(2, 3, 4)], {}),
    ("PReLU", (), [_x(5)], {}),
    ("RReLU", (0.1, 0.3), [_x(3, 4)], {"modes": ("eval",)}),
    ("Upsample", ((5, 6), None, "bilinear", True), [_x(1, 2, 3, 4)], {}),
    ("Upsample", (None, 2.0, "nearest"), [_x(1, 2, 3)], {}),
    ("Upsample", (None, 1.5, "bicubic"), [_x(1, 1, 4, 4)], {}),
    ("UpsamplingNearest2d", (None, 2), [_x(1, 2, 2, 3)], {}),
    ("UpsamplingBilinear2d", ((4, 5),), [_x(1, 2, 2, 3)], {}),
    ("PixelShuffle", (2,), [_x(2, 8, 2, 3)], {}),
    ("PixelUnshuffle", (2,), [_x(2, 2, 4, 6)], {}),
    ("ChannelShuffle", (3,), [_x(2, 6, 2, 2)], {}),
    ("Unfold", ((2, 3),), [_x(2, 2, 4, 5)], {}),
    ("Fold", ((4, 5), 2), [_x(2, 8, 12)], {}),
    ("CosineSimilarity", (1,), [_x(3, 4), _x(3, 4)], {}),
    ("PairwiseDistance", (3.0,), [_x(3, 4), _x(3, 4)], {}),
    ("InstanceNorm1d", (3,), [_x(2, 3, 5)], {}),
    ("InstanceNorm2d", (3, 1e-5, 0.1, True, True), [_x(2, 3, 4, 4)], {}),
    ("InstanceNorm3d", (2, 1e-5, 0.2, False, True), [_x(2, 2, 3, 3, 3)], {}),
    ("LocalResponseNorm", (3, 0.1, 0.75, 2.0), [_x(2, 5, 3, 3)], {}),
    ("Bilinear", (3, 4, 5), [_x(2, 3), _x(2, 4)], {}),
    ("Conv3d", (2, 3, 2, 1, 1), [_x(2, 2, 4, 3, 4)], {}),
    ("Conv3d", (4, 2, (1, 2, 3), 2, 0, 1, 2, False), [_x(1, 4, 3, 5, 6)], {}),
    ("ConvTranspose3d", (2, 3, 2, 2, 1, 1), [_x(1, 2, 2, 3, 2)], {}),
    ("MaxPool3d", (2, (2, 1, 1)), [_x(2, 2, 4, 4, 3)], {}),
    ("AvgPool3d", (2, None, 1, False, False), [_x(1, 2, 4, 4, 3)], {}),
    ("AdaptiveAvgPool3d", ((2, 3, None),), [_x(1, 2, 5, 4, 3)], {}),
    ("AdaptiveMaxPool3d", (2,), [_x(1, 2, 5, 4, 3)], {}),
    ("HingeEmbeddingLoss", (0.5,), [np.abs(_x(3, 4)), _labels((3, 4))], {}),
    ("MarginRankingLoss", (0.1,), [_x(5), _x(5), _labels(5)], {}),
    ("SoftMarginLoss", (), [_x(3, 4), _labels((3, 4))], {}),
    ("MultiMarginLoss", (2, 0.5), [_x(4, 5), np.array([0, 3, 4, 1])], {}),
    ("MultiLabelMarginLoss", (), [_x(2, 4), np.array([[3, 0, -1, 1], [1, 2, 3, -1]])], {}),
    ("MultiLabelSoftMarginLoss", (), [_x(3, 4), (R.random((3, 4)) < 0.5).astype(np.float32)], {}),
    ("CosineEmbeddingLoss", (-0.2,), [_x(3, 4), _x(3, 4), _labels(3)], {}),
    ("TripletMarginLoss", (2.0,), [_x(3, 4), _x(3, 4), _x(3, 4)], {}),
    ("TripletMarginWithDistanceLoss", (), [_x(3, 4), _x(3, 4), _x(3, 4)], {}),
    ("GaussianNLLLoss", (), [_x(3, 4), _x(3, 4), np.abs(_x(3, 1)) + 0.5], {}),
    ("PoissonNLLLoss", (), [_x(3, 4), R.poisson(2.0, (3, 4)).astype(np.float32)], {}),
    (
        "CTCLoss",
        (),
        [_log_probs(6, 2, 4), np.array([[1, 2, 2], [3, 1, 0]]), np.array([6, 5]), np.array([3, 2])],
        {},
    ),
]

KWARG_CASES = {  # layers whose torch constructor takes keyword-only arguments
    "TripletMarginWithDistanceLoss": {"margin": 1.5, "swap": True},
    "GaussianNLLLoss": {"full": True},
}


def _pair(name, args):
    import torch

    kwargs = KWARG_CASES.get(name, {})
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


# losses whose float inputs after these positions are labels (constants: torch refuses grads)
LABELS_FROM = {
    "HingeEmbeddingLoss": 1,
    "MarginRankingLoss": 2,
    "SoftMarginLoss": 1,
    "MultiLabelSoftMarginLoss": 1,
    "CosineEmbeddingLoss": 2,
    "PoissonNLLLoss": 1,
}


def _loss_parity(ours, theirs, inputs, labels_from, rtol=1e-4, atol=1e-5):
    """Loss output and the gradients of the non-label inputs equal torch's."""
    import torch

    ours_in = [nt.tensor(a, requires_grad=i < labels_from) for i, a in enumerate(inputs)]
    theirs_in = [torch.tensor(a, requires_grad=i < labels_from) for i, a in enumerate(inputs)]
    o = ours(*ours_in)
    t = theirs(*theirs_in)
    np.testing.assert_allclose(o.array, t.detach().numpy(), rtol=rtol, atol=atol)
    cot = R.standard_normal(o.shape).astype(np.float32)
    o.backward(nt.tensor(cot))
    t.backward(torch.from_numpy(cot))
    for a, b in zip(ours_in[:labels_from], theirs_in[:labels_from]):
        np.testing.assert_allclose(a.grad.array, b.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, args, inputs, options", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(torch, name, args, inputs, options):
    torch.manual_seed(0)
    ours, theirs = _pair(name, args)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if name in LABELS_FROM:
        for reduction in ("mean", "sum", "none"):
            ours.reduction = theirs.reduction = reduction
            _loss_parity(ours, theirs, inputs, LABELS_FROM[name])
        return
    assert_module_parity(ours, theirs, inputs, **options)


@pytest.mark.parametrize(
    "name, args, inputs",
    [
        ("Conv3d", (2, 3, 2, 1, 1), [_x(2, 2, 4, 3, 4)]),
        ("ConvTranspose3d", (2, 3, 2, 2, 1, 1), [_x(1, 2, 2, 3, 2)]),
        ("PReLU", (3, 0.1), [_x(2, 3, 4)]),
        ("Bilinear", (3, 4, 5), [_x(2, 3), _x(2, 4)]),
        ("InstanceNorm2d", (3, 1e-5, 0.1, True, True), [_x(2, 3, 4, 4)]),
    ],
)
def test_state_dict_loads_into_torch(torch, name, args, inputs):
    ours, theirs = _pair(name, args)
    assert_state_dict_loads_into_torch(ours, theirs, inputs)


def test_embedding_bag_matches_torch(torch):
    torch.manual_seed(0)
    for mode in ("sum", "mean", "max"):
        theirs = torch.nn.EmbeddingBag(6, 3, mode=mode, padding_idx=2)
        ours = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=2)
        index = np.array([0, 2, 5, 5, 1, 3])
        offsets = np.array([0, 2, 2])
        assert_module_parity(ours, theirs, [index, offsets])


def test_rrelu_trains_with_random_slopes_in_range():
    nt.manual_seed(0)
    layer = nn.RReLU(0.1, 0.3)
    x = nt.tensor(-np.ones(1000, dtype=np.float32))
    slopes = -layer(x).array
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.04
    layer.eval()
    np.testing.assert_allclose(layer(x).array, -0.2, rtol=1e-6)


PADS = [
    ("ZeroPad1d", (2,), (1, 2, 3)),
    ("ZeroPad2d", ((1, 0, 2, -1),), (1, 2, 3, 4)),
    ("ZeroPad3d", (1,), (1, 1, 2, 2, 2)),
    ("ConstantPad1d", ((2, -1), 3.5), (2, 3)),
    ("ConstantPad2d", (1, -1.0), (1, 2, 3)),
    ("ConstantPad3d", ((1, 0, 0, 1, 1, 0), 2.0), (1, 1, 2, 2, 2)),
    ("ReflectionPad1d", (2,), (1, 2, 4)),
    ("ReflectionPad2d", ((1, 2, 0, 1),), (1, 2, 3, 4)),
    ("ReflectionPad3d", (1,), (1, 1, 2, 3, 3)),
    ("ReplicationPad1d", ((3, 1),), (1, 2, 2)),
    ("ReplicationPad2d", (2,), (1, 3, 3)),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 1, 2, 2, 2)),
    ("CircularPad1d", (1,), (1, 2, 3)),
    ("CircularPad2d", ((1, 1, 0, 2),), (1, 2, 3, 3)),
    ("CircularPad3d", (1,), (1, 1, 2, 2, 2)),
]


@pytest.mark.parametrize("name, args, shape", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_match_torch(torch, name, args, shape):
    ours, theirs = _pair(name, args)
    assert repr(ours) == repr(theirs)
    assert_module_parity(ours, theirs, [_x(*shape)], double=False)


def test_reprs_match_torch(torch):
    for name, args in [
        ("PReLU", (3,)),
        ("GLU", (1,)),
        ("Hardshrink", (0.3,)),
        ("Softshrink", (0.3,)),
        ("Threshold", (0.1, -2.0)),
        ("CELU", (0.5,)),
        ("PixelShuffle", (2,)),
        ("PixelUnshuffle", (2,)),
        ("ChannelShuffle", (3,)),
        ("InstanceNorm2d", (3,)),
        ("LocalResponseNorm", (3,)),
        ("MaxUnpool2d", (2,)),
        ("Conv3d", (2, 3, 2)),
        ("ConvTranspose3d", (2, 3, 2)),
        ("Bilinear", (3, 4, 5)),
    ]:
        ours, theirs = _pair(name, args)
        assert repr(ours) == repr(theirs), name


def test_max_unpool_layers_invert_max_pool(torch):  # MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
    for d in (1, 2, 3):
        shape = (2, 2) + (4,) * d
        x = R.permutation(int(np.prod(shape))).reshape(shape).astype(np.float32)
        pool = getattr(torch.nn, f"MaxPool{d}d")(2, return_indices=True)
        y, idx = pool(torch.from_numpy(x))
        ours = getattr(nn, f"MaxUnpool{d}d")(2)
        theirs = getattr(torch.nn, f"MaxUnpool{d}d")(2)
        assert_module_parity(ours, theirs, [y.numpy(), idx.numpy()])


def test_layer_errors_name_the_layer():
    model = nn.Sequential(nn.Conv3d(2, 3, 2))
    with pytest.raises(ValueError, match=r"Conv3d.*expected a 5-d input \(N, C, D, H, W\)"):
        model(nt.ones(2, 4, 4))
    with pytest.raises(ValueError, match="ReflectionPad2d.*padding must be less than"):
        nn.ReflectionPad2d(3)(nt.ones(1, 1, 3, 3))
    with pytest.raises(ValueError, match="MaxPool3d.*only the batch may be empty"):
        nn.MaxPool3d(2)(nt.ones(1, 0, 2, 2, 2))
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
