"""The Module machinery: registration, traversal, state_dict and its errors, modes, hooks, repr,
containers, and module paths in error messages."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn


class Affine(nn.Module):
    """y = x * scale + shift, with a buffer counting calls (persistent) and a scratch buffer."""

    def __init__(self, n=3):
        super().__init__()
        self.scale = nn.Parameter(np.ones(n, dtype=np.float32))
        self.shift = nn.Parameter(np.zeros(n, dtype=np.float32))
        self.register_buffer("calls", nt.zeros(1))
        self.register_buffer("scratch", nt.zeros(n), persistent=False)

    def forward(self, x):
        self.calls.array += 1
        return x * self.scale + self.shift


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(Affine(), nn.ReLU(), Affine())
        self.head = Affine()

    def forward(self, x):
        return self.head(self.encoder(x))


# ---- registration and traversal --------------------------------------------------------------
def test_parameters_buffers_and_children_are_registered_in_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "encoder.0.scale",
        "encoder.0.shift",
        "encoder.2.scale",
        "encoder.2.shift",
        "head.scale",
        "head.shift",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "encoder.0.calls",
        "encoder.0.scratch",
        "encoder.2.calls",
        "encoder.2.scratch",
        "head.calls",
        "head.scratch",
    ]
    assert [n for n, _ in net.named_modules()] == [
        "",
        "encoder",
        "encoder.0",
        "encoder.1",
        "encoder.2",
        "head",
    ]
    assert [n for n, _ in net.named_children()] == ["encoder", "head"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert all(p.requires_grad for p in net.parameters())


def test_shared_parameter_and_module_appear_once_in_parameters():
    shared = Affine()
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert len(list(net.modules())) == 3
    # state_dict lists a shared module under every path, as torch does
    assert list(net.state_dict()) == [
        "0.scale",
        "0.shift",
        "0.calls",
        "2.scale",
        "2.shift",
        "2.calls",
    ]


def test_state_dict_of_shared_module_matches_torch(torch):
    lin = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(lin, torch.nn.ReLU(), lin)
    ours_lin = nn.Linear(2, 2)
    ours = nn.Sequential(ours_lin, nn.ReLU(), ours_lin)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours[2].weight.array, lin.weight.detach().numpy())


def test_assignment_rules_and_messages():
    m = Affine()
    with pytest.raises(TypeError, match="cannot assign ndarray as parameter 'scale'"):
        m.scale = np.ones(3)
    m.scale = None
    assert m.scale is None and "scale" not in m.state_dict()
    with pytest.raises(TypeError, match="wrap it in nn.Parameter"):
        m.register_parameter("w", nt.ones(2))
    with pytest.raises(TypeError, match="buffer 'b' must be a Tensor or None"):
        m.register_buffer("b", [1.0])
    with pytest.raises(KeyError, match="attribute 'shift' already exists"):
        m.register_buffer("shift", nt.zeros(3))
    with pytest.raises(KeyError, match="attribute 'calls' already exists"):
        m.register_parameter("calls", nn.Parameter(nt.zeros(1)))
    del m.shift
    assert "shift" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'nope'"):
        m.nope  # noqa: B018

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nt.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Early()


def test_plain_attributes_are_not_state():
    m = Affine()
    m.note = "hello"
    m.cache = nt.ones(2)  # a plain tensor attribute is neither parameter nor buffer
    assert "cache" not in m.state_dict() and m.note == "hello"


# ---- state_dict ------------------------------------------------------------------------------
def test_state_dict_keys_shares_memory_and_skips_non_persistent():
    net = Net()
    sd = net.state_dict()
    assert "head.scratch" not in sd and "head.calls" in sd
    assert list(sd)[:3] == ["encoder.0.scale", "encoder.0.shift", "encoder.0.calls"]
    sd["head.scale"].array[0] = 7.0
    assert net.head.scale.array[0] == 7.0
    assert not sd["head.scale"].requires_grad
    kept = net.state_dict(keep_vars=True)
    assert kept["head.scale"] is net.head.scale


def test_load_state_dict_round_trip_from_tensors_arrays_and_torch(torch):
    a, b = Net(), Net()
    for p in a.parameters():
        p.array[...] = np.random.default_rng(0).standard_normal(p.shape)
    b.load_state_dict(a.state_dict())
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.array, q.array, err_msg=n)
    c = Net()
    c.load_state_dict({k: v.array.copy() for k, v in a.state_dict().items()})
    d = Net()
    d.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(d.head.shift.array, a.head.shift.array)


def test_load_state_dict_strict_errors_list_every_problem_and_change_nothing():
    net = Net()
    sd = Net().state_dict()
    for v in sd.values():
        v.array[...] = 5.0
    del sd["head.shift"]
    sd["head.extra"] = nt.zeros(1)
    sd["encoder.0.scale"] = nt.zeros(4)
    before = net.encoder[2].scale.array.copy()
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert "Missing key(s): head.shift" in msg
    assert "Unexpected key(s): head.extra" in msg
    assert "encoder.0.scale: checkpoint has shape (4,), this model has (3,)" in msg
    assert "strict=False" in msg
    np.testing.assert_array_equal(net.encoder[2].scale.array, before)


def test_load_state_dict_non_strict_returns_incompatible_keys():
    net = Net()
    sd = Net().state_dict()
    del sd["head.shift"]
    sd["head.extra"] = nt.zeros(1)
    sd["head.scale"].array[...] = 2.0
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.shift"]
    assert result.unexpected_keys == ["head.extra"]
    assert (net.head.scale.array == 2.0).all()
    sd["head.scale"] = nt.zeros(5)
    with pytest.raises(RuntimeError, match="head.scale: checkpoint has shape"):
        net.load_state_dict(sd, strict=False)  # shape mismatches fail even when not strict


# ---- modes, grads, dtype ----------------------------------------------------------------------
def test_train_eval_propagate_and_return_self():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.encoder.train()
    assert net.encoder[1].training and not net.training and not net.head.training
    assert net.train() is net and all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_requires_grad_apply_and_to():
    net = Net()
    out = net(nt.ones(2, 3))
    out.backward(nt.ones(*out.shape))
    assert net.head.scale.grad is not None
    net.zero_grad(set_to_none=False)
    assert (net.head.scale.grad.array == 0).all()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[-1] == "Net" and seen[0] == "Affine"
    net.double()
    assert all(t.dtype == np.float64 for t in list(net.parameters()) + list(net.buffers()))
    assert net.to("cpu") is net and net.float().head.calls.dtype == np.float32


# ---- calling and hooks ---------------------------------------------------------------------------
def test_forward_hooks_can_observe_and_replace():
    m = Affine()
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out + 1)
    y = m(nt.ones(3))
    np.testing.assert_allclose(y.array, 3.0)
    assert seen == [(3,)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(m(nt.ones(3)).array, 1.0)
    assert seen == [(3,)]


def test_forward_not_defined_message():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(nt.ones(1))


# ---- repr -------------------------------------------------------------------------------------
def test_repr_tree():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2), nn.Tanh()))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=8, out_features=2, bias=True)\n"
        "    (1): Tanh()\n"
        "  )\n"
        ")"
    )


def test_repr_matches_torch(torch):
    def build(lib):
        return lib.Sequential(
            lib.Linear(4, 8, bias=False),
            lib.LeakyReLU(0.2),
            lib.Sequential(lib.Softmax(dim=1), lib.GELU(approximate="tanh")),
            lib.Flatten(),
            lib.Unflatten(1, (2, 4)),
            lib.ELU(),
            lib.Softplus(),
            lib.ReLU(inplace=True),
            lib.Identity(),
        )

    assert repr(build(nn)) == repr(build(torch.nn))


# ---- containers ---------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    a, b, c = Affine(), nn.ReLU(), Affine()
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert c.module_path() == "2" and a.module_path() == "0"  # slicing keeps the paths
    with pytest.raises(IndexError, match="index 3 is out of range for Sequential of length 3"):
        seq[3]  # noqa: B018
    d = Affine()
    seq[1] = d
    assert seq[1] is d and d.module_path() == "1"
    del seq[0]
    assert list(seq) == [d, c] and list(seq._modules) == ["0", "1"]
    assert c.module_path() == "1"
    seq.append(nn.Tanh())
    assert len(seq) == 3 and list(seq._modules) == ["0", "1", "2"]
    named = nn.Sequential(OrderedDict([("fc", Affine()), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.scale", "fc.shift", "fc.calls"]
    with pytest.raises(TypeError, match="Sequential argument 1 is type, not a Module"):
        nn.Sequential(nn.ReLU(), nn.ReLU)


def test_sequential_forward_chains():
    seq = nn.Sequential(Affine(), Affine())
    seq[0].shift.array[...] = 1.0
    seq[1].scale.array[...] = 3.0
    np.testing.assert_allclose(seq(nt.zeros(3)).array, 3.0)


def test_module_list():
    layers = nn.ModuleList([Affine() for _ in range(3)])
    assert len(layers) == 3 and layers[-1] is layers[2]
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.scale", "0.shift"]
    extra = Affine()
    layers.append(extra)
    assert layers[3] is extra and extra.module_path() == "3"
    first = Affine()
    layers.insert(0, first)
    assert layers[0] is first and layers[4] is extra and extra.module_path() == "4"
    del layers[0]
    assert layers[3] is extra and len(layers) == 4 and extra.module_path() == "3"
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 3
    layers.extend([nn.ReLU()])
    assert len(layers) == 5
    with pytest.raises(IndexError, match="index 9 is out of range for ModuleList of length 5"):
        layers[9]  # noqa: B018
    with pytest.raises(NotImplementedError, match="iterate over it"):
        layers(nt.ones(1))


def test_module_dict():
    d = nn.ModuleDict({"a": Affine(), "b": nn.ReLU()})
    assert list(d) == ["a", "b"] and "a" in d and len(d) == 2
    assert list(d.keys()) == ["a", "b"] and [k for k, _ in d.items()] == ["a", "b"]
    d["c"] = Affine()
    assert d["c"].module_path() == "c"
    assert [n for n, _ in d.named_parameters()] == ["a.scale", "a.shift", "c.scale", "c.shift"]
    popped = d.pop("a")
    assert isinstance(popped, Affine) and "a" not in d
    del d["b"]
    assert list(d) == ["c"]
    with pytest.raises(KeyError, match=r"ModuleDict has no key 'zz'; keys are \['c'\]"):
        d["zz"]  # noqa: B018
    with pytest.raises(NotImplementedError, match="index it in your own forward"):
        d(nt.ones(1))


def _mixture(lib_nn, tensor, weights, scales):
    """A model whose weights live in a ParameterList and a ParameterDict, built the same way
    in neuronet (``nn``, ``nt.tensor``) and in torch."""

    class Mixture(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = lib_nn.ParameterList([lib_nn.Parameter(tensor(w)) for w in weights])
            self.scales = lib_nn.ParameterDict(
                {k: lib_nn.Parameter(tensor(v)) for k, v in scales.items()}
            )

        def forward(self, x):
            for w in self.weights:
                x = (x @ w).tanh()
            return x * self.scales["out"] + self.scales["shift"]

    return Mixture()


def test_parameter_list_and_dict_train_and_save_as_torchs(torch):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 4)) for _ in range(3)]
    scales = {"out": rng.standard_normal(4), "shift": rng.standard_normal(4)}
    x = rng.standard_normal((5, 4))
    ours = _mixture(nn, nt.tensor, weights, scales)
    theirs = _mixture(torch.nn, torch.tensor, weights, scales)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weights.0, ..., scales.out
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    opt = nt.optim.Adam(ours.parameters(), lr=0.1)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.1)
    for _ in range(3):
        for model, o, xin in ((ours, opt, nt.tensor(x)), (theirs, topt, torch.tensor(x))):
            o.zero_grad()
            (model(xin) ** 2).sum().backward()
            o.step()
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a.array, b.detach().numpy(), rtol=1e-12, err_msg=name)
    copy = _mixture(nn, nt.tensor, weights, scales)  # torch's weights, loaded by key
    copy.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    out = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(copy(nt.tensor(x)).array, out, rtol=1e-12)


def test_parameter_list_and_dict_behave_as_list_and_dict():
    plist = nn.ParameterList([nt.zeros(2)])  # a Tensor is wrapped in a Parameter
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad
    plist.append(nn.Parameter(nt.ones(3)))
    plist += [nt.ones(1)]
    assert len(plist) == 3 and [p.shape for p in plist] == [(2,), (3,), (1,)]
    assert plist[-1] is plist[2] and [p.shape for p in plist[1:]] == [(3,), (1,)]
    plist[0] = nt.full((2,), 5.0)
    assert float(plist[0].array[0]) == 5.0 and len(list(plist.parameters())) == 3
    with pytest.raises(IndexError, match="index 3 is out of range for length 3"):
        plist[3]  # noqa: B018
    with pytest.raises(TypeError, match=r"item 3 is a ndarray, not a Parameter or Tensor"):
        plist.append(np.zeros(2))
    with pytest.raises(NotImplementedError, match="use its parameters in your own forward"):
        plist(nt.ones(1))
    pdict = nn.ParameterDict({"a": nt.ones(2)})
    pdict["b"] = nn.Parameter(nt.zeros(1))
    pdict.update([("c", nt.ones(1))])
    assert list(pdict) == ["a", "b", "c"] and "b" in pdict and pdict.get("zz") is None
    assert [n for n, _ in pdict.named_parameters()] == ["a", "b", "c"]
    pdict["a"] = nt.zeros(4)  # replacing keeps the order
    assert list(pdict) == ["a", "b", "c"] and pdict["a"].shape == (4,)
    assert pdict.pop("b").shape == (1,) and list(pdict.keys()) == ["a", "c"]
    del pdict["c"]
    with pytest.raises(KeyError, match=r"ParameterDict has no key 'c'; keys are \['a'\]"):
        pdict["c"]  # noqa: B018
    with pytest.raises(KeyError, match="without '.'"):
        pdict["x.y"] = nt.ones(1)
    with pytest.raises(TypeError, match="item 'z' is a float, not a Parameter or Tensor"):
        pdict["z"] = 1.0
    assert "(a): Parameter containing: [float32 of size 4]" in repr(pdict)


# ---- module paths in errors -------------------------------------------------------------------
def test_module_path_and_describe():
    net = Net()
    assert net.module_path() == "" and net.describe() == "Net"
    assert net.encoder[2].module_path() == "encoder.2"
    assert net.encoder[2].describe() == "Affine at 'encoder.2'"


def test_layer_errors_name_the_module_path():
    model = nn.Sequential(
        OrderedDict([("encoder", nn.Sequential(nn.Flatten(), nn.ReLU(), nn.Linear(784, 10)))])
    )
    with pytest.raises(ValueError, match=r"Linear at 'encoder.2': expected input with last"):
        model.encoder[2](nt.randn(32, 28, 28))
    with pytest.raises(ValueError, match=r"Softmax at 'head'"):
        nn.Sequential(OrderedDict([("head", nn.Softmax())]))(nt.randn(2, 3))


def test_deepcopy_gives_an_independent_model_with_its_own_paths():
    import copy

    net = Net()
    clone = copy.deepcopy(net)
    assert clone.encoder[2].module_path() == "encoder.2"
    assert clone.encoder[2]._parent() is clone.encoder  # not the original's container
    assert clone.head.scale is not net.head.scale
    np.testing.assert_array_equal(clone.head.scale.array, net.head.scale.array)
    clone.head.scale.array[...] = 9.0
    assert (net.head.scale.array == 1.0).all()
    assert isinstance(clone.head.scale, nn.Parameter) and clone.head.scale.requires_grad
    layer_copy = copy.deepcopy(net.encoder[0])
    assert layer_copy.module_path() == ""  # a copied sub-module is a new root
    holder = nn.Sequential(layer_copy)
    assert layer_copy.module_path() == "0" and holder[0] is layer_copy
