"""The names and habits PyTorch users type without thinking, each checked against torch 2.13:
NumPy's protocols, devices, ``device=`` on every creation function, aliases, threads, print
options, ``tolist``/``is_tensor``/``numel``, half precision, ``.data``."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn

# ---- NumPy's protocols -----------------------------------------------------------------------


def test_numpy_functions_see_the_array(torch):
    x = nt.tensor([[1.0, 2.0], [3.0, 5.0]])
    t = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert isinstance(np.asarray(x), np.ndarray) and np.shares_memory(np.asarray(x), x.array)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(t))
    assert np.mean(x) == pytest.approx(2.75) and np.sum(x, axis=0).tolist() == [4.0, 7.0]
    np.testing.assert_array_equal(np.concatenate([x, x]), np.concatenate([t.numpy()] * 2))
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.array([nt.tensor(1.0), nt.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_numpy_ufuncs_return_tensors_as_torchs_do(torch):
    x = nt.tensor([0.0, 1.0])
    y = np.exp(x)
    assert isinstance(y, nt.Tensor) and isinstance(np.exp(torch.tensor([0.0, 1.0])), torch.Tensor)
    np.testing.assert_allclose(y.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    w = nt.tensor([1.0, 2.0], requires_grad=True)
    z = np.array([3.0, 4.0], dtype=np.float32) * w  # ndarray * tensor: the recorded op
    assert isinstance(z, nt.Tensor) and z.requires_grad
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])


def test_numpy_refuses_a_tensor_that_requires_grad_as_torch_does(torch):
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)"):
        np.asarray(nt.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"requires grad"):
        np.mean(nt.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(torch.ones(2, requires_grad=True))
    assert np.shape(nt.ones(2, 3, requires_grad=True)) == (2, 3)  # reads no values


# ---- .data -----------------------------------------------------------------------------------


def test_old_tutorial_data_idioms(torch):
    for lib in (nt, torch):
        lib.manual_seed(0)
        out = lib.tensor([[0.1, 0.9], [0.8, 0.2]], requires_grad=True)
        _, predicted = lib.max(out.data, 1)
        assert predicted.tolist() == [1, 0]
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        (p * p).sum().backward()
        p.data -= 0.25 * p.grad.data
        assert p.tolist() == [0.5, 1.0] and p.requires_grad and p.is_leaf
        p.data.copy_(lib.tensor([3.0, 4.0]))
        assert p.tolist() == [3.0, 4.0]


# ---- devices ---------------------------------------------------------------------------------


def test_device_objects_as_torch(torch):
    for spec in ("cpu", "cpu:0", "cuda", "cuda:1"):
        ours, theirs = nt.device(spec), torch.device(spec)
        assert (str(ours), repr(ours).replace("neuronet.", "")) == (str(theirs), repr(theirs))
    assert nt.device("cpu", 0) == nt.device("cpu:0") != nt.device("cpu")
    assert nt.ones(1).device == nt.device("cpu") and not nt.ones(1).is_cuda
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        nt.device("gpu")


CREATIONS = {
    "tensor": lambda **kw: nt.tensor([1.0], **kw),
    "zeros": lambda **kw: nt.zeros(2, **kw),
    "ones": lambda **kw: nt.ones(2, **kw),
    "full": lambda **kw: nt.full((2,), 3.0, **kw),
    "empty": lambda **kw: nt.empty(2, **kw),
    "arange": lambda **kw: nt.arange(3, **kw),
    "linspace": lambda **kw: nt.linspace(0, 1, 3, **kw),
    "eye": lambda **kw: nt.eye(2, **kw),
    "zeros_like": lambda **kw: nt.zeros_like(nt.ones(2), **kw),
    "ones_like": lambda **kw: nt.ones_like(nt.ones(2), **kw),
    "full_like": lambda **kw: nt.full_like(nt.ones(2), 7.0, **kw),
    "empty_like": lambda **kw: nt.empty_like(nt.ones(2), **kw),
    "rand": lambda **kw: nt.rand(2, **kw),
    "randn": lambda **kw: nt.randn(2, **kw),
    "randint": lambda **kw: nt.randint(0, 5, (2,), **kw),
    "rand_like": lambda **kw: nt.rand_like(nt.ones(2), **kw),
    "randn_like": lambda **kw: nt.randn_like(nt.ones(2), **kw),
    "randint_like": lambda **kw: nt.randint_like(nt.ones(2), 5, **kw),
    "randperm": lambda **kw: nt.randperm(4, **kw),
}


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_every_creation_function_takes_device(name):
    make = CREATIONS[name]
    for device in ("cpu", "cpu:0", nt.device("cpu"), None):
        assert make(device=device).device == nt.device("cpu")
    with pytest.raises(nt.DeviceError, match=r"device 'cuda'.*CPU only.*not built with CUDA"):
        make(device="cuda")
    with pytest.raises(AssertionError):  # what a CPU-only torch raises, so old handlers work
        make(device="cuda:0")


def test_to_cpu_cuda_and_the_cuda_namespace(torch):
    x = nt.ones(2)
    assert x.to("cpu") is x and x.cpu() is x and x.to(nt.device("cpu")) is x
    assert x.to("cpu", nt.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=nt.float64).dtype == np.float64
    assert x.to(nt.zeros(1, dtype=nt.float64)).dtype == np.float64
    assert x.to("cpu", copy=True) is not x
    for call in (lambda: x.cuda(), lambda: x.to("cuda"), lambda: x.to("cuda", nt.float64)):
        with pytest.raises(nt.DeviceError, match="not built with CUDA"):
            call()
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        torch.zeros(1, device="cuda")
    assert nt.cuda.is_available() is torch.cuda.is_available() is False
    assert nt.cuda.device_count() == torch.cuda.device_count() == 0
    nt.cuda.manual_seed_all(0)  # accepted silently, as torch does before CUDA is used
    device = nt.device("cuda" if nt.cuda.is_available() else "cpu")
    assert nt.ones(1, device=device).device.type == "cpu"


def test_modules_take_device_and_move_like_torch(torch):
    model = nn.Sequential(nn.Linear(2, 3, device="cpu"), nn.Conv1d(1, 1, 1, device="cpu"))
    assert model.to("cpu") is model and model.cpu() is model
    model.to(nt.float64)
    assert model[0].weight.dtype == np.float64
    model.to("cpu", dtype=nt.float32)
    assert model[0].weight.dtype == np.float32
    for make in (
        lambda: nn.Linear(2, 3, device="cuda"),
        lambda: nn.LSTM(2, 3, device="cuda"),
        lambda: nn.Conv2d(1, 1, 1, device="cuda"),
        lambda: nn.LayerNorm(3, device="cuda"),
        lambda: model.cuda(),
        lambda: model.to("cuda"),
    ):
        with pytest.raises(nt.DeviceError, match="CPU only"):
            make()
    with pytest.raises(TypeError, match=r"only accepts floating point dtypes.*x\.float\(\)"):
        model.to(nt.int64)
    with pytest.raises(TypeError, match="only accepts floating point"):
        torch.nn.Linear(2, 3).to(torch.int64)


# ---- small names -----------------------------------------------------------------------------


def test_is_tensor_numel_tolist(torch):
    x = nt.arange(6).reshape(2, 3)
    t = torch.arange(6).reshape(2, 3)
    assert nt.is_tensor(x) and nt.is_tensor(nn.Parameter(nt.ones(1))) and not nt.is_tensor([1])
    assert nt.numel(x) == torch.numel(t) == 6
    assert x.tolist() == t.tolist() and nt.tensor(2.5).tolist() == torch.tensor(2.5).tolist()
    assert isinstance(x.tolist()[0][0], int)


def test_set_num_threads_controls_the_blas_pool():
    from threadpoolctl import threadpool_info

    before = nt.get_num_threads()
    try:
        nt.set_num_threads(1)
        assert nt.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    finally:
        nt.set_num_threads(before)
    assert nt.get_num_threads() == before
    with pytest.raises(ValueError, match="positive integer"):
        nt.set_num_threads(0)


def test_set_printoptions_as_torch(torch):
    values = [1.23456789, 1e-5, 123456.0]
    try:
        for options in (
            {"precision": 2},
            {"sci_mode": False, "precision": 3},
            {"profile": "short"},
        ):
            nt.set_printoptions(**options)
            torch.set_printoptions(**options)
            assert repr(nt.tensor([1.23456789])) == repr(torch.tensor([1.23456789]))
        nt.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(nt.arange(100).float())
        assert nt.get_printoptions()["threshold"] == 5
    finally:
        nt.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(nt.tensor(values)).startswith("tensor([")


def test_half_and_bfloat16_fail_clearly():
    for call in (
        lambda: nt.ones(2).half(),
        lambda: nt.ones(2).bfloat16(),
        lambda: nt.ones(2, dtype=nt.float16),
        lambda: nt.ones(2).to(nt.bfloat16),
        lambda: nn.Linear(2, 2).half(),
        lambda: nn.Linear(2, 2, dtype=nt.half),
    ):
        with pytest.raises(TypeError, match=r"not supported: neuronet computes in float32 and"):
            call()


def test_aliases_are_the_same_modules():
    import neuronet.nn.functional as F1
    import neuronet.utils.data as data1
    from neuronet.utils.data import DataLoader, Dataset, TensorDataset, random_split

    from neuronet.nn import functional as F2

    assert F1 is F2 is nt.functional and nn.functional.relu is nt.functional.relu
    assert data1 is nt.data and nt.utils.data is nt.data
    assert DataLoader is nt.data.DataLoader and Dataset is nt.data.Dataset
    assert TensorDataset is nt.data.TensorDataset and random_split is nt.data.random_split


def test_finfo_and_iinfo_as_torchs(torch):
    for name in ("float32", "float64"):
        ours, theirs = nt.finfo(getattr(nt, name)), torch.finfo(getattr(torch, name))
        for field in ("eps", "max", "min", "tiny", "resolution", "bits"):
            want = float(getattr(theirs, field))  # numpy gives float32 scalars for float32
            assert float(getattr(ours, field)) == pytest.approx(want, rel=1e-7), (name, field)
    assert nt.finfo().eps == torch.finfo().eps  # the default dtype's
    for name in ("int32", "int64"):
        ours, theirs = nt.iinfo(getattr(nt, name)), torch.iinfo(getattr(torch, name))
        assert (ours.max, ours.min, ours.bits) == (theirs.max, theirs.min, theirs.bits)
    with pytest.raises(TypeError, match="use iinfo for integers"):
        nt.finfo(nt.int64)
    with pytest.raises(TypeError, match="use finfo for floats"):
        nt.iinfo(nt.float32)
