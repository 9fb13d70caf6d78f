"""ONNX export: errors for what cannot be exported, mask inputs, opsets, names and modes."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx not installed; install the `onnx` extra")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed; install `onnx` extra")

from onnx_cases import LAYERS, MODELS, run_case  # noqa: E402

import neuronet as nt  # noqa: E402
from neuronet import functional as F  # noqa: E402
from neuronet import models, nn  # noqa: E402
from neuronet.autograd import Function  # noqa: E402
from neuronet.onnx import ExportError  # noqa: E402


class Cube(Function):
    """y = x**3;  dL/dx = dL/dy * 3 x**2.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * 3 * x * x,)


class CubeLayer(nn.Module):
    def forward(self, x):
        return Cube.apply(x)


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_unmapped_op_is_an_error_naming_op_and_module(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), CubeLayer()))
    with pytest.raises(ExportError) as err:
        nt.onnx.export(model, nt.randn(2, 4), tmp_path / "m.onnx")
    message = str(err.value)
    assert "Cube" in message and "test_export_options" in message
    assert "module '1.1'" in message
    assert not (tmp_path / "m.onnx").exists()


def test_loss_inside_forward_is_an_error(tmp_path):
    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return F.mse_loss(self.fc(x), x)

    with pytest.raises(ExportError, match="MSELoss"):
        nt.onnx.export(WithLoss(), nt.randn(2, 3), tmp_path / "m.onnx")


def test_value_computed_outside_the_graph_is_an_error(tmp_path):
    class Sneaky(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            scale = nt.tensor(np.abs(x.array).max(axis=1, keepdims=True))  # leaves the graph
            return self.fc(x) / scale

    with pytest.raises(ExportError, match="outside the autograd graph"):
        nt.onnx.export(Sneaky(), nt.randn(4, 3), tmp_path / "m.onnx")


def test_dropout_forced_into_training_is_an_error(tmp_path):
    model = CubeLayer()
    model.forward = lambda x: F.dropout(x, 0.5, training=True)
    with pytest.raises(ExportError, match="training mode"):
        nt.onnx.export(model, nt.randn(2, 3), tmp_path / "m.onnx")


def test_data_dependent_control_flow_is_an_error(tmp_path):
    class Branchy(nn.Module):
        def forward(self, x):
            return x.relu() if float(x.array.sum()) > 0 else x.tanh()

    x = nt.tensor(np.array([[5.0, 1.0], [-9.0, 1.0]], dtype=np.float32))
    with pytest.raises(ExportError, match="depends on the data"):
        nt.onnx.export(Branchy(), x, tmp_path / "m.onnx")


def test_return_indices_has_no_mapping(tmp_path):
    model = CubeLayer()
    model.forward = lambda x: F.max_pool2d(x, 2, return_indices=True)[0]
    with pytest.raises(ExportError, match="return_indices"):
        nt.onnx.export(model, nt.randn(1, 1, 4, 4), tmp_path / "m.onnx")


def test_key_padding_mask_is_a_graph_input(tmp_path):
    nt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x, pad):
            return self.layer(x, src_key_padding_mask=pad)

    model = Encoder().eval()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    pad = np.zeros((3, 5), dtype=bool)
    pad[0, 3:] = True
    path = tmp_path / "enc.onnx"
    nt.onnx.export(model, (nt.tensor(x), nt.tensor(pad)), path, input_names=["x", "pad"])
    session = _session(path)
    for n in (2, 4):
        xs = rng.standard_normal((n, 5, 8)).astype(np.float32)
        masks = rng.random((n, 5)) < 0.4
        masks[:, 0] = False
        with nt.no_grad():
            expected = model(nt.tensor(xs), nt.tensor(masks)).array
        (got,) = session.run(None, {"x": xs, "pad": masks})
        assert np.abs(got - expected).max() <= 1e-4


@pytest.mark.parametrize("opset", [18, 20, 21])
@pytest.mark.parametrize(
    "family,name",
    [
        ("activation", "gelu"),
        ("activation", "gelu_tanh"),
        ("norm", "group_norm"),
        ("pooling", "adaptive_max_pool2d"),
        ("conv", "conv2d_circular_pad"),
    ],
)
def test_other_opsets(tmp_path, opset, family, name):
    builder, make = LAYERS[family][name]
    assert max(run_case(name, builder, make, tmp_path / "m.onnx", opset=opset)) <= 1e-4


def test_gpt_at_opset_18(tmp_path):
    builder, make = MODELS["GPT"]
    assert max(run_case("GPT", builder, make, tmp_path / "m.onnx", opset=18)) <= 1e-4


def test_parameters_are_named_initializers_and_batch_is_symbolic(tmp_path):
    nt.manual_seed(0)
    model = models.LeNet(1, 10, image_size=8)
    proto = nt.onnx.export(model, nt.randn(2, 1, 8, 8), tmp_path / "lenet.onnx")
    names = {init.name for init in proto.graph.initializer}
    assert set(model.state_dict()) <= names
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(stored["features.0.weight"], model.features[0].weight.array)
    dim = proto.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param == "N" and [d.dim_value for d in dim[1:]] == [1, 8, 8]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "N"
    onnx.checker.check_model(onnx.load(str(tmp_path / "lenet.onnx")), full_check=True)


def test_fixed_batch_and_names(tmp_path):
    model = nn.Linear(3, 2)
    proto = nt.onnx.export(
        model,
        nt.randn(4, 3),
        tmp_path / "m.onnx",
        dynamic_batch=False,
        input_names=["features"],
        output_names=["scores"],
    )
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["scores"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4


def test_mode_is_restored_and_bad_arguments(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    model[0].eval()
    nt.onnx.export(model, nt.randn(2, 3), tmp_path / "m.onnx")
    assert model.training and model[1].training and not model[0].training
    with pytest.raises(ValueError, match="opset"):
        nt.onnx.export(model, nt.randn(2, 3), tmp_path / "m.onnx", opset=11)
    with pytest.raises(ValueError, match="input_names"):
        nt.onnx.export(model, nt.randn(2, 3), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(TypeError, match="example input 0"):
        nt.onnx.export(model, [[1.0, 2.0, 3.0]], tmp_path / "m.onnx")


def test_fast_paths_of_neuronet_use_their_reference_mapping_but_user_subclasses_do_not(tmp_path):
    from neuronet.onnx import registry
    from neuronet.ops.activation import ReLU

    registry.load_all()
    fast = type("CompiledReLU", (ReLU,), {"__module__": "neuronet.ops.fast.activation"})
    assert registry.mapper_for(fast) is registry.FUNCTIONS[ReLU]
    mine = type("MyReLU", (ReLU,), {"__module__": "mypackage.ops"})
    assert registry.mapper_for(mine) is None
    layer = CubeLayer()
    layer.forward = lambda x: mine.apply(x)
    with pytest.raises(ExportError, match="mypackage.ops.MyReLU"):
        nt.onnx.export(layer, nt.randn(2, 3), tmp_path / "m.onnx")
