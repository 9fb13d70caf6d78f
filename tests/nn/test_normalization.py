"""Normalization: the functional ops beyond the registry (running statistics, dtype, stability,
errors) and the layers against PyTorch (state dict, train and eval mode, buffers over steps)."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import backend
from support.op_specs import OPS
from support.parity import assert_close, to_nt
from support.paths import skip_without_numba

F = nt.functional
nn = nt.nn


def _t(a, requires_grad=False):
    return nt.Tensor(np.array(a), requires_grad=requires_grad)


# ---- batch_norm running statistics ------------------------------------------------------------
# docs/semantics.md, "BatchNorm running variance" and "BatchNorm momentum and eps"


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_running_stats_follow_torch_over_steps(torch, rng, shape, momentum):
    c = shape[1]
    ours = [_t(np.zeros(c)), _t(np.ones(c))]
    theirs = [torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)]
    for _ in range(4):
        x = rng.standard_normal(shape) * 3 + 1
        F.batch_norm(_t(x), *ours, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(
            torch.from_numpy(x), *theirs, training=True, momentum=momentum
        )
        assert_close(ours[0], theirs[0], 1e-12, 1e-12, "running_mean")
        assert_close(ours[1], theirs[1], 1e-12, 1e-12, "running_var")


def test_batch_norm_running_var_is_unbiased_and_batch_var_biased(rng):
    x = rng.standard_normal((5, 2))
    rm, rv = _t(np.zeros(2)), _t(np.ones(2))
    y = F.batch_norm(_t(x), rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(rv.array, x.var(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(rm.array, x.mean(axis=0), rtol=1e-12)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=0) + 1e-5)
    np.testing.assert_allclose(y.array, expected, rtol=1e-12)


def test_batch_norm_update_bumps_buffer_versions(rng):
    rm, rv = _t(np.zeros(3)), _t(np.ones(3))
    F.batch_norm(_t(rng.standard_normal((4, 3))), rm, rv, training=True)
    assert rm._version == 1 and rv._version == 1


def test_batch_norm_without_running_stats_in_training(rng):
    x = rng.standard_normal((6, 2, 3))
    y = F.batch_norm(_t(x), None, None, training=True)
    mean = x.mean(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y.array, (x - mean) / np.sqrt(x.var((0, 2), keepdims=True) + 1e-5))


# ---- dtype, stability, no-grad path -----------------------------------------------------------


def _all_ops():
    w4 = _t(np.ones(4, np.float32), True)
    b4 = _t(np.zeros(4, np.float32), True)
    w5 = _t(np.ones(5, np.float32), True)
    return {
        "batch_norm": lambda x: F.batch_norm(
            x, _t(np.zeros(4, np.float32)), _t(np.ones(4, np.float32)), w4, b4, True
        ),
        "batch_norm_eval": lambda x: F.batch_norm(
            x, _t(np.zeros(4, np.float32)), _t(np.ones(4, np.float32)), w4, b4, False
        ),
        "layer_norm": lambda x: F.layer_norm(x, (5,), w5, _t(np.zeros(5, np.float32), True)),
        "group_norm": lambda x: F.group_norm(x, 2, w4, b4),
        "rms_norm": lambda x: F.rms_norm(x, 5, w5),
    }


@pytest.mark.parametrize("name", list(_all_ops()))
def test_float32_stays_float32(rng, name):
    fn = _all_ops()[name]
    x = _t(rng.standard_normal((3, 4, 5)).astype(np.float32), True)
    y = fn(x)
    y.backward(nt.Tensor(rng.standard_normal(y.shape).astype(np.float32)))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("name", list(_all_ops()))
def test_no_grad_result_equals_graph_result_and_leaves_input(rng, name):
    fn = _all_ops()[name]
    data = rng.standard_normal((3, 4, 5)).astype(np.float32)
    x = _t(data.copy(), True)
    recorded = fn(x).array.copy()
    with nt.no_grad():
        plain = fn(_t(data.copy()))
    np.testing.assert_allclose(plain.array, recorded, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(x.array, data)


@pytest.mark.parametrize("name", list(_all_ops()))
def test_backward_does_not_modify_the_incoming_gradient(rng, name):
    fn = _all_ops()[name]
    x = _t(rng.standard_normal((3, 4, 5)).astype(np.float32), True)
    y = fn(x)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(nt.Tensor(g.copy()), retain_graph=True)
    first = x.grad.array.copy()
    x.grad = None
    y.backward(nt.Tensor(g.copy()))
    np.testing.assert_array_equal(x.grad.array, first)


@pytest.mark.parametrize("op", ["batch_norm", "layer_norm"])
def test_statistics_are_stable_for_a_large_offset_in_float32(rng, op):
    """Two-pass variance: E[x**2] - E[x]**2 would lose every digit at offset 1e4."""
    noise = rng.standard_normal((64, 16))
    x = (1e4 + noise).astype(np.float32)
    if op == "batch_norm":
        y = F.batch_norm(_t(x), None, None, training=True).array
        ref = (noise - noise.mean(0)) / np.sqrt(noise.var(0) + 1e-5)
    else:
        y = F.layer_norm(_t(x), (16,)).array
        ref = (noise - noise.mean(1, keepdims=True)) / np.sqrt(noise.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref, atol=5e-3)  # float32 spacing at 1e4 is ~1e-3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rms_norm_default_eps_is_dtype_epsilon(torch, rng, dtype):
    x = rng.standard_normal((3, 4)).astype(dtype) * 1e-5
    ours = F.rms_norm(_t(x), (4,))
    theirs = torch.nn.functional.rms_norm(torch.from_numpy(x), (4,))
    assert_close(ours, theirs, 1e-5 if dtype == "float32" else 1e-12, 0, "rms_norm eps=None")


# ---- the numba kernels and the NumPy path compute the same thing -----------------------------

NORM_SPECS = [s for s in OPS if s.name in ("batch_norm", "layer_norm", "group_norm", "rms_norm")]


def _run_spec(spec, dtype, numba: bool, grad_idx=None):
    with backend.fast.using(numba=numba):
        rng = np.random.default_rng(3)
        raw = spec.make_inputs(rng, dtype)
        wanted = spec.grad_inputs(raw) if grad_idx is None else grad_idx
        inputs = [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]
        out = spec.fn(*inputs)
        out.backward(nt.Tensor(rng.standard_normal(out.shape).astype(dtype)))
        grads = [t.grad.array for t in inputs if isinstance(t, nt.Tensor) and t.requires_grad]
        return [out.array] + grads + [t.array for t in inputs]  # inputs: running stats updated


@pytest.mark.parametrize("spec", NORM_SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numba_kernels_equal_the_numpy_path(spec, dtype):
    skip_without_numba()
    fused = _run_spec(spec, np.dtype(dtype), True)
    plain = _run_spec(spec, np.dtype(dtype), False)
    tol = 1e-12 if dtype == "float64" else 2e-5
    for a, b in zip(fused, plain):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


WITH_PARAMS = [s for s in NORM_SPECS if len(s.grad_inputs_idx) > 1]


@pytest.mark.parametrize("spec", WITH_PARAMS, ids=lambda s: s.name)
def test_parameter_gradients_alone_on_both_paths(spec):
    """The input needs no gradient (e.g. a frozen feature extractor's output): the kernels skip
    dL/dx and still give the weight and bias gradients of the NumPy path."""
    skip_without_numba()
    wanted = spec.grad_inputs_idx[1:]
    fused = _run_spec(spec, np.dtype("float64"), True, grad_idx=wanted)
    plain = _run_spec(spec, np.dtype("float64"), False, grad_idx=wanted)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("numba", [True, False], ids=["numba", "numpy"])
def test_non_contiguous_input_and_gradient(torch, rng, numba):
    if numba:
        skip_without_numba()
    x = rng.standard_normal((5, 3, 4, 6)).transpose(0, 1, 3, 2)  # a strided view (5, 3, 6, 4)
    g = rng.standard_normal((5, 3, 4, 6)).transpose(0, 1, 3, 2)
    TF = torch.nn.functional
    cases = [
        (
            lambda a: F.batch_norm(a, None, None, training=True),
            lambda a: TF.batch_norm(a, None, None, training=True),
        ),
        (lambda a: F.layer_norm(a, (6, 4)), lambda a: TF.layer_norm(a, (6, 4))),
        (lambda a: F.group_norm(a, 3), lambda a: TF.group_norm(a, 3)),
        (lambda a: F.rms_norm(a, 4), lambda a: TF.rms_norm(a, (4,))),
    ]
    with backend.fast.using(numba=numba):
        for ours_fn, theirs_fn in cases:
            xa = nt.Tensor(x, requires_grad=True)
            xb = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
            ya = ours_fn(xa)
            yb = theirs_fn(xb)
            ya.backward(nt.Tensor(g))
            yb.backward(torch.from_numpy(np.ascontiguousarray(g)))
            assert_close(ya, yb, 1e-12, 1e-12, "output")
            assert_close(xa.grad, xb.grad, 1e-12, 1e-12, "input grad")


# ---- functional errors ------------------------------------------------------------------------


def test_batch_norm_errors(rng):
    x = _t(rng.standard_normal((4, 3)))
    rm, rv = _t(np.zeros(3)), _t(np.ones(3))
    with pytest.raises(ValueError, match=r"batch_norm: expected an input of shape \(N, C\)"):
        F.batch_norm(_t(np.ones(3)), rm, rv)
    with pytest.raises(ValueError, match="running_mean must have shape \\(3,\\).*got \\(4,\\)"):
        F.batch_norm(x, _t(np.zeros(4)), _t(np.ones(4)), training=True)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, rm, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(_t(np.ones((1, 3))), rm, rv, training=True)
    with pytest.raises(TypeError, match="momentum must be a float.*momentum=None"):
        F.batch_norm(x, rm, rv, training=True, momentum=None)
    with pytest.raises(TypeError, match="weight has dtype float32 but the input is float64"):
        F.batch_norm(x, rm, rv, _t(np.ones(3, np.float32)), training=True)
    with pytest.raises(TypeError, match="input must be floating point.*int64"):
        F.batch_norm(_t(np.ones((4, 3), np.int64)), rm, rv)


def test_layer_group_rms_norm_errors(rng):
    x = _t(rng.standard_normal((2, 6, 3)))
    with pytest.raises(
        ValueError, match=r"layer_norm: normalized_shape=\(4,\) expects .*\(\*, 4\)"
    ):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3,\)"):
        F.layer_norm(x, 3, _t(np.ones(4)))
    with pytest.raises(ValueError, match="divisible by num_groups.*num_groups=4"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"group_norm: bias must have shape \(6,\)"):
        F.group_norm(x, 3, None, _t(np.ones(3)))
    with pytest.raises(ValueError, match=r"rms_norm: normalized_shape=\(6, 4\)"):
        F.rms_norm(x, (6, 4))


# ---- layers against PyTorch -------------------------------------------------------------------


def _module_parity(torch, ours, theirs, inputs, rtol, atol, dtype=np.float64, seed=0):
    """Load torch's state into ours, then for each input: output, input grad, every parameter
    grad by name, and every buffer after the forward must equal torch's."""
    rng = np.random.default_rng(seed)
    ours.load_state_dict(theirs.state_dict())
    for x in inputs:
        x = x.astype(dtype)
        xa = nt.Tensor(x.copy(), requires_grad=True)
        xb = torch.tensor(x.copy(), requires_grad=True)
        ya = ours(xa)
        yb = theirs(xb)
        assert_close(ya, yb, rtol, atol, "output")
        g = rng.standard_normal(ya.shape).astype(dtype)
        ya.backward(nt.Tensor(g))
        yb.backward(torch.from_numpy(g))
        assert_close(xa.grad, xb.grad, rtol, atol, "input grad")
        ours_params = dict(ours.named_parameters())
        for name, p in theirs.named_parameters():
            assert_close(ours_params[name].grad, p.grad, rtol, atol, f"grad of {name}")
        ours_buffers = dict(ours.named_buffers())
        for name, b in theirs.named_buffers():
            assert_close(ours_buffers[name], b, rtol, atol, f"buffer {name}")
        ours.zero_grad()
        theirs.zero_grad()


def _pair(torch, name, *args, dtype="float64", **kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, name)(*args, dtype=dtype, **kwargs)
    with torch.no_grad():  # non-trivial affine parameters, so their gradients mean something
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.3)
    return ours, theirs


BN_CONFIGS = [
    ("BatchNorm1d", (5,), {}, (8, 5)),
    ("BatchNorm1d", (5,), {}, (4, 5, 7)),
    ("BatchNorm1d", (5,), {"affine": False}, (8, 5)),
    ("BatchNorm1d", (5,), {"momentum": None}, (4, 5, 3)),
    ("BatchNorm1d", (5,), {"track_running_stats": False}, (6, 5)),
    ("BatchNorm2d", (4,), {}, (3, 4, 5, 6)),
    ("BatchNorm2d", (4,), {"affine": False}, (3, 4, 5, 6)),
    ("BatchNorm2d", (4,), {"momentum": None, "eps": 1e-3}, (2, 4, 3, 3)),
    ("BatchNorm2d", (4,), {"bias": False, "momentum": 0.3}, (2, 4, 3, 3)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 3, 4)),
]


def _ids(configs):
    return [f"{c[0]}{c[2] or ''}{c[3]}" for c in configs]


@pytest.mark.parametrize("name,args,kwargs,shape", BN_CONFIGS, ids=_ids(BN_CONFIGS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_norm_layers_match_torch_in_train_then_eval(
    torch, rng, name, args, kwargs, shape, dtype
):
    ours, theirs = _pair(torch, name, *args, dtype=dtype, **kwargs)
    tol = (1e-10, 1e-10) if dtype == "float64" else (1e-4, 1e-5)
    steps = [rng.standard_normal(shape) * 2 + 0.5 for _ in range(3)]
    _module_parity(torch, ours, theirs, steps, *tol, dtype=np.dtype(dtype))  # training, 3 steps
    ours.eval()
    theirs.eval()
    _module_parity(torch, ours, theirs, [rng.standard_normal(shape)], *tol, dtype=np.dtype(dtype))


OTHER_CONFIGS = [
    ("LayerNorm", (6,), {}, (4, 6)),
    ("LayerNorm", ((3, 4),), {}, (2, 5, 3, 4)),
    ("LayerNorm", (6,), {"elementwise_affine": False}, (3, 2, 6)),
    ("LayerNorm", (6,), {"bias": False, "eps": 1e-3}, (3, 6)),
    ("GroupNorm", (1, 4), {}, (3, 4, 2, 3)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (4, 4), {}, (3, 4, 2, 3)),
    ("GroupNorm", (2, 4), {"affine": False}, (3, 4, 2, 2)),
    ("RMSNorm", (6,), {}, (4, 6)),
    ("RMSNorm", ((3, 4),), {"eps": 1e-6}, (2, 3, 4)),
    ("RMSNorm", (6,), {"elementwise_affine": False}, (5, 6)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", OTHER_CONFIGS, ids=_ids(OTHER_CONFIGS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layers_match_torch_in_train_and_eval(torch, rng, name, args, kwargs, shape, dtype):
    ours, theirs = _pair(torch, name, *args, dtype=dtype, **kwargs)
    tol = (1e-10, 1e-10) if dtype == "float64" else (1e-4, 1e-5)
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        x = rng.standard_normal(shape)
        _module_parity(torch, ours, theirs, [x], *tol, dtype=np.dtype(dtype))


def test_running_stats_then_eval_output_match_torch_after_many_steps(torch, rng):
    """A short 'training run': 10 batches update the statistics, then eval uses them."""
    ours, theirs = _pair(torch, "BatchNorm2d", 3, dtype="float32")
    ours.load_state_dict(theirs.state_dict())
    for _ in range(10):
        x = (rng.standard_normal((4, 3, 5, 5)) * 2 + 3).astype(np.float32)
        ours(nt.Tensor(x))
        theirs(torch.from_numpy(x))
    assert int(ours.num_batches_tracked.item()) == 10
    assert_close(ours.running_mean, theirs.running_mean, 1e-5, 1e-6, "running_mean")
    assert_close(ours.running_var, theirs.running_var, 1e-5, 1e-6, "running_var")
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    with torch.no_grad():
        expected = theirs.eval()(torch.from_numpy(x))
    assert_close(ours.eval()(nt.Tensor(x)), expected, 1e-5, 1e-5, "eval output")


# ---- construction: repr, parameters, state dict, init ----------------------------------------

SMOKE = [
    ("BatchNorm1d", (5,), {}),
    ("BatchNorm2d", (3,), {"momentum": None, "affine": False}),
    ("BatchNorm2d", (3,), {"track_running_stats": False, "bias": False}),
    ("BatchNorm3d", (2,), {}),
    ("LayerNorm", ((3, 4),), {"bias": False}),
    ("GroupNorm", (2, 6), {"eps": 1e-3}),
    ("RMSNorm", (8,), {}),
    ("RMSNorm", (8,), {"eps": 1e-6, "elementwise_affine": False}),
]


@pytest.mark.parametrize("name,args,kwargs", SMOKE, ids=[s[0] for s in SMOKE])
def test_repr_parameters_and_state_dict_match_torch(torch, name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_state = ours.state_dict()
    theirs_state = theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for k, v in theirs_state.items():
        assert_close(ours_state[k], v, 0, 0, k)
        assert ours_state[k].dtype == v.numpy().dtype, k
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    fresh = getattr(nn, name)(*args, **kwargs)
    fresh.load_state_dict(ours.state_dict())  # round trip


def test_reset_running_stats_and_parameters():
    bn = nn.BatchNorm1d(3)
    bn(nt.randn(4, 3) * 5 + 2)
    bn.weight.array[...] = 7
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.running_mean.array, 0)
    np.testing.assert_array_equal(bn.running_var.array, 1)
    assert bn.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(bn.weight.array, 1)


def test_float64_layer_parameters():
    ln = nn.LayerNorm(4, dtype="float64")
    assert ln.weight.dtype == np.float64
    assert nn.BatchNorm1d(2, dtype=nt.float64).running_var.dtype == np.float64


def test_eval_without_tracked_stats_uses_batch_statistics(rng):
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = rng.standard_normal((6, 2)).astype(np.float32) * 3 + 4
    y = bn(nt.Tensor(x)).array
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)


def test_momentum_none_is_a_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None, dtype="float64")
    batches = [rng.standard_normal((5, 2)) + i for i in range(4)]
    for x in batches:
        bn(nt.Tensor(x))
    expected = np.mean([x.mean(0) for x in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.array, expected, rtol=1e-12)


# ---- layer errors name the module path --------------------------------------------------------


def _in_model(layer):
    return nn.ModuleDict({"features": nn.Sequential(nn.Sequential(), layer)})


def test_batchnorm2d_error_names_the_module_path_and_shapes():
    bn = nn.BatchNorm2d(64)
    model = _in_model(bn)  # noqa: F841  (the parent must stay alive for the path)
    msg = (
        r"BatchNorm2d at 'features.1': expected 4-D input \(N, C, H, W\) with C=64, got shape "
        r"\(8, 32, 14, 14\); the channel dimension"
    )
    with pytest.raises(ValueError, match=msg):
        bn(nt.zeros(8, 32, 14, 14))
    with pytest.raises(ValueError, match=r"expected 4-D input .* got shape \(8, 64\)"):
        bn(nt.zeros(8, 64))


def test_batchnorm1d_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(
        ValueError, match=r"BatchNorm1d: expected 2-D input \(N, C\) or 3-D input \(N, C, L\)"
    ):
        bn(nt.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="BatchNorm1d: Expected more than 1 value per channel"):
        bn(nt.zeros(1, 3))
    bn.eval()
    assert bn(nt.zeros(1, 3)).shape == (1, 3)  # eval mode: running statistics, any batch


def test_layer_norm_group_norm_rms_norm_errors():
    ln = nn.LayerNorm(512)
    model = _in_model(ln)  # noqa: F841
    with pytest.raises(ValueError, match=r"LayerNorm at 'features.1': expected input of shape"):
        ln(nt.zeros(8, 256))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    gn = nn.GroupNorm(2, 6)
    with pytest.raises(ValueError, match=r"GroupNorm: expected input \(N, C, \*\) with C=6"):
        gn(nt.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r"RMSNorm: expected input of shape \(\*, 8\)"):
        nn.RMSNorm(8)(nt.zeros(2, 4))
    with pytest.raises(nt.DeviceError, match="device 'cuda': neuronet computes on the CPU only"):
        nn.LayerNorm(3, device="cuda")
