"""The Optimizer base: groups, zero_grad, step loop, state_dict round trips, and errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from optim_helpers import gradient_sequence, initial_weights, make_params, run, set_grads

import neuronet as nt
from neuronet import optim
from neuronet.nn import Parameter

ALL = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("LAMB", {"lr": 0.01, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}),
]


def to_files(state_dict):
    """Split a state dict as a checkpoint does: arrays (safetensors) + JSON text, no pickle."""
    arrays = {}

    def pack(value, path):
        if isinstance(value, np.ndarray):
            arrays[path] = value.copy()
            return {"__array__": path}
        if isinstance(value, dict):
            return {str(k): pack(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [pack(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value

    return arrays, json.dumps(pack(state_dict, "sd"))


def from_files(arrays, text):
    def unpack(value):
        if isinstance(value, dict):
            if "__array__" in value:
                return arrays[value["__array__"]]
            return {k: unpack(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unpack(v) for v in value]
        return value

    return unpack(json.loads(text))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, options", ALL, ids=[n for n, _ in ALL])
def test_state_dict_round_trip_continues_bitwise(name, options, dtype, update_path):
    grads_seq = gradient_sequence(dtype, 30)
    params = make_params(initial_weights(dtype))
    opt = getattr(optim, name)(params, **options)
    run(opt, params, grads_seq[:15])
    arrays, text = to_files(opt.state_dict())
    snapshot = [p.array.copy() for p in params]
    expected = run(opt, params, grads_seq[15:])

    restored = make_params(snapshot)
    fresh = getattr(optim, name)(restored, lr=123.0)  # options come back from the state dict
    fresh.load_state_dict(from_files(arrays, text))
    got = run(fresh, restored, grads_seq[15:])
    for t, (a, b) in enumerate(zip(got, expected)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y, err_msg=f"{name} step {t} after reload")
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_state_dict_layout_is_torchs():
    params = make_params(initial_weights(np.float32))
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], lr=0.01)
    set_grads(params, gradient_sequence(np.float32, 1)[0])
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    sd["state"][0]["exp_avg"][...] = 7.0  # a copy: the optimizer is untouched
    assert not np.any(opt.state[params[0]]["exp_avg"] == 7.0)


def test_loads_torch_state_dict_and_continues_like_torch(update_path, torch):
    weights = initial_weights(np.float32)
    grads_seq = gradient_sequence(np.float32, 20)
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    topt = torch.optim.Adam(theirs, lr=0.01, weight_decay=0.01)
    for grads in grads_seq[:10]:
        for tp, g in zip(theirs, grads):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    ours = make_params([tp.detach().numpy().copy() for tp in theirs])
    opt = optim.Adam(ours)
    opt.load_state_dict(topt.state_dict())
    assert opt.state[ours[0]]["step"] == 10 and opt.param_groups[0]["weight_decay"] == 0.01
    run(opt, ours, grads_seq[10:])
    for grads in grads_seq[10:]:
        for tp, g in zip(theirs, grads):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def _trained_adam():
    params = make_params(initial_weights(np.float32))
    opt = optim.Adam(params, lr=0.01)
    set_grads(params, gradient_sequence(np.float32, 1)[0])
    opt.step()
    return opt


def test_load_rejects_mismatched_state():
    sd = _trained_adam().state_dict()
    params = make_params(initial_weights(np.float32))
    with pytest.raises(ValueError, match="different number of parameter groups: 1 saved, 2"):
        optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 3 parameters saved but 2 here"):
        optim.Adam(params[:2]).load_state_dict(sd)
    other = make_params(
        [np.zeros((5, 4), np.float32), np.zeros(4, np.float32), np.zeros((9, 3), np.float32)]
    )
    with pytest.raises(
        ValueError,
        match=r"'exp_avg' of shape \(7, 3\) for parameter 2, whose "
        r"shape is \(9, 3\)",
    ):
        optim.Adam(other).load_state_dict(sd)
    sd["state"][5] = sd["state"][0]
    with pytest.raises(ValueError, match="state for parameter 5, which no group refers to"):
        optim.Adam(params).load_state_dict(sd)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        optim.Adam(params).load_state_dict({"state": {}})


def test_zero_grad():
    params = make_params(initial_weights(np.float32))
    opt = optim.SGD(params, lr=0.1)
    set_grads(params, gradient_sequence(np.float32, 1)[0])
    grad_array = params[0].grad.array
    opt.zero_grad(set_to_none=False)
    assert params[0].grad.array is grad_array and not grad_array.any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_loop_details(update_path):
    w = Parameter(np.ones((4, 3), np.float32).T)  # not contiguous: the NumPy path handles it
    u = Parameter(np.ones((3, 4), np.float32))
    g = np.arange(12, dtype=np.float64).reshape(3, 4)  # float64 grad for a float32 param
    w.grad = nt.Tensor(g.copy())
    u.grad = nt.Tensor(g.copy())
    version = w._version
    optim.Adam([w, u], lr=0.1).step()
    assert w._version == version + 1 and w.array.dtype == np.float32
    np.testing.assert_array_equal(w.array, u.array)
    w.grad = nt.Tensor(np.zeros(5, np.float32))
    with pytest.raises(
        RuntimeError,
        match=r"Adam.step: a parameter of shape \(3, 4\) has a "
        r"gradient of shape \(5,\)",
    ):
        optim.Adam([w]).step()


def test_closure_runs_with_grad_enabled():
    w = Parameter(np.array([1.0, 2.0], np.float32))
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() if hasattr(w, "sum") else None
        assert nt.is_grad_enabled()
        w.grad = nt.Tensor(2 * w.array)
        return loss

    with nt.no_grad():
        loss = opt.step(closure)
    np.testing.assert_allclose(w.array, [0.8, 1.6])
    assert loss is None or isinstance(loss, nt.Tensor)


def test_add_param_group_and_named_params():
    a, b, c = make_params(initial_weights(np.float32))
    opt = optim.SGD([("a", a), ("b", b)], lr=0.1, momentum=0.5)
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    opt.add_param_group({"params": c, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["params"] == [c]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {c}})
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([c])
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        optim.SGD([{"params": [a], "lr": -0.5}])
    assert "Parameter Group 1" in repr(opt) and "lr: 0.01" in repr(opt)


def test_bad_params():
    w = Parameter(np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got a single Parameter"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(
        TypeError, match="can only optimize Tensors, but one of the params is ndarray"
    ):
        optim.Adam([np.zeros(2)])
    with pytest.raises(
        TypeError, match="floating-point tensors, but one of the params has dtype int64"
    ):
        optim.Adam([nt.Tensor(np.zeros(2, np.int64))])
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.Adam([w, w])
    with pytest.raises(ValueError, match="with/without names"):
        optim.Adam([("w", w), Parameter(np.zeros(1))])


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("SGD", {"lr": -1.0}, "Invalid learning rate: -1.0"),
        ("SGD", {"momentum": -0.1}, "Invalid momentum value: -0.1"),
        ("SGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "zero dampening"),
        ("Adam", {"lr": -1e-3}, "Invalid learning rate: -0.001"),
        ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ("Adam", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
        ("Adam", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
        ("Adam", {"betas": (0.9,)}, "betas must be a pair"),
        ("AdamW", {"weight_decay": -0.01}, "Invalid weight_decay value: -0.01"),
        ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
        ("RMSprop", {"momentum": -1.0}, "Invalid momentum value: -1.0"),
        ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ("Adagrad", {"lr_decay": -1.0}, "Invalid lr_decay value: -1.0"),
        (
            "Adagrad",
            {"initial_accumulator_value": -1.0},
            "Invalid initial_accumulator_value value: -1.0",
        ),
        ("Adagrad", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ],
)
def test_invalid_hyperparameters(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([Parameter(np.zeros(2))], **kwargs)


def test_defaults_are_torchs(torch):
    w = [Parameter(np.zeros(2))]
    tw = [torch.zeros(2, requires_grad=True)]
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, name)(w).defaults
        theirs = getattr(torch.optim, name)(tw).defaults
        for key, value in ours.items():
            assert theirs[key] == value, f"{name}.{key}: {value} != torch {theirs[key]}"
    lamb = optim.LAMB(w).defaults
    assert (lamb["eps"], lamb["weight_decay"], lamb["clamp_value"]) == (1e-6, 0.0, None)


def test_make_optimizer_and_scale_lr():
    w = [Parameter(np.zeros(2))]
    assert type(optim.make_optimizer("adamw", w, lr=0.1)).__name__ == "AdamW"
    sgd = optim.make_optimizer("Nesterov", w, lr=0.1, weight_decay=0.01)
    assert sgd.param_groups[0]["nesterov"] and sgd.param_groups[0]["weight_decay"] == 0.01
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; choose one of adagrad"):
        optim.make_optimizer("adamax", w)
    assert optim.scale_lr(0.1, 256, 2048) == pytest.approx(0.8)
    assert optim.scale_lr(1e-3, 32, 512, rule="sqrt") == pytest.approx(4e-3)
    with pytest.raises(ValueError, match="unknown rule 'cubic'"):
        optim.scale_lr(0.1, 256, 512, rule="cubic")
    with pytest.raises(ValueError, match="batch must be a positive integer, got 0"):
        optim.scale_lr(0.1, 256, 0)


def test_sparse_looking_gradients_leave_untouched_rows_alone_in_sgd(update_path):
    params = make_params(initial_weights(np.float32))
    before = params[2].array.copy()
    grads = gradient_sequence(np.float32, 1)[0]
    run(optim.SGD(params, lr=0.1), params, [grads])
    zero_rows = ~grads[2].any(axis=1)
    np.testing.assert_array_equal(params[2].array[zero_rows], before[zero_rows])
    assert not np.array_equal(params[2].array[~zero_rows], before[~zero_rows])


def test_import_is_light():
    code = (
        "import sys, neuronet.optim, neuronet.nn.utils; "
        "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_checkpoint_file_round_trip_continues_bitwise(tmp_path, update_path):
    """Through neuronet.io's safetensors + JSON checkpoint (no pickle): optimizer and
    scheduler restored into fresh objects continue exactly."""
    from neuronet import io, nn

    def build():
        model = nn.Linear(4, 3)
        opt = optim.AdamW(optim.AdamW.param_groups_for(model), lr=0.01, amsgrad=True)
        return model, opt, optim.lr_scheduler.warmup_cosine(opt, 5, 40, min_lr=1e-4)

    grads_seq = [
        [np.full((3, 4), 0.1 * t, np.float32), np.full(3, -0.2 * t, np.float32)]
        for t in range(1, 21)
    ]
    model, opt, sched = build()

    def train(model, opt, sched, seq):
        out = []
        for grads in seq:
            set_grads(list(model.parameters()), grads)
            opt.step()
            sched.step()
            out.append([p.array.copy() for p in model.parameters()] + [sched.get_last_lr()])
        return out

    train(model, opt, sched, grads_seq[:10])
    io.save_checkpoint(tmp_path / "ckpt.safetensors", model, opt, sched)
    expected = train(model, opt, sched, grads_seq[10:])
    model2, opt2, sched2 = build()
    io.load_checkpoint(tmp_path / "ckpt.safetensors", model2, opt2, sched2)
    got = train(model2, opt2, sched2, grads_seq[10:])
    for a, b in zip(got, expected):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name, options", ALL, ids=[n for n, _ in ALL])
def test_step_allocates_no_arrays(name, options, update_path):
    import tracemalloc

    params = [Parameter(np.ones((100, 500), np.float32)) for _ in range(4)]  # 200 kB each
    for p in params:
        p.grad = nt.Tensor(np.full((100, 500), 0.5, np.float32))
    opt = getattr(optim, name)(params, **options)
    opt.step()  # creates the state and the scratch buffers
    tracemalloc.start()
    opt.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000, f"{name} step allocated {peak} bytes"
