"""Bad input, tried systematically, part 3: datasets, loaders, the Trainer and its callbacks,
metrics, and checkpoint files (see test_tensors_and_ops.py for the rules; the command line's
cases are in tests/cli/test_cli_reliability.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import neuronet as nt
from neuronet import io, nn, optim
from neuronet.data import DataLoader, Subset, TensorDataset, load_digits
from neuronet.data.arrays import load_npy, require_finite
from neuronet.data.formats import load_csv
from neuronet.io import CheckpointError
from neuronet.train import EarlyStopping, ModelCheckpoint, Trainer, fit, get_metric

NAN = float("nan")
xs, ys = np.zeros((10, 3), np.float32), np.arange(10) % 2
data = TensorDataset(xs, ys)


def model():
    return nn.Linear(3, 2)


def trainer(**kwargs):
    m = model()
    kwargs.setdefault("quiet", True)
    return Trainer(m, "cross_entropy", optim.SGD(m.parameters(), lr=0.1), **kwargs)


@pytest.fixture
def files(tmp_path):
    """Bad files of every kind in one folder."""
    io.save(model(), tmp_path / "weights.safetensors")
    good = (tmp_path / "weights.safetensors").read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(good[: len(good) // 2])
    flipped = bytearray(good)
    flipped[-3] ^= 1
    (tmp_path / "flipped.safetensors").write_bytes(bytes(flipped))
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"w": [1.0]}))
    (tmp_path / "zip.pt").write_bytes(b"PK\x03\x04" + bytes(60))
    (tmp_path / "nan_feature.csv").write_text("a,b,label\n1,2,0\n3,nan,1\n")
    (tmp_path / "inf_label.csv").write_text("a,b,label\n1,2,0\n3,4,inf\n")
    (tmp_path / "nan_target.csv").write_text("a,b,y\n1,2,0.5\n3,4,nan\n")
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "nan.npy", np.array([[0.0, 1.0], [2.0, np.inf]]))
    np.save(tmp_path / "huge.npy", np.array([1e300]))
    return tmp_path


CASES = [
    # datasets and loaders
    ("TensorDataset lengths differ", lambda f: TensorDataset(xs, ys[:5]), ValueError,
     r"Size mismatch between tensors: first dimensions are \[10, 5\]"),
    ("TensorDataset of nothing", lambda f: TensorDataset(), ValueError, "needs at least one"),
    ("TensorDataset of strings", lambda f: TensorDataset(np.array(["a"]), np.array([1])),
     TypeError, "TensorDataset: argument 0 is an array of <U1, not numbers"),
    ("TensorDataset of a list", lambda f: TensorDataset([1, 2]), TypeError,
     "TensorDataset: argument 0 is a list"),
    ("TensorDataset index 20", lambda f: data[20], IndexError,
     "TensorDataset: index 20 is out of range for a dataset of 10 samples"),
    ("Subset index 20", lambda f: Subset(data, [20])[0], IndexError, "Subset: index 20"),
    ("DataLoader batch_size 0", lambda f: DataLoader(data, batch_size=0), ValueError,
     "batch_size should be a positive integer value, but got batch_size=0"),
    ("DataLoader batch_size 2.5", lambda f: DataLoader(data, batch_size=2.5), ValueError,
     "batch_size=2.5"),
    ("DataLoader of an int", lambda f: DataLoader(42, batch_size=2), TypeError,
     "DataLoader: dataset must have __len__ and __getitem__ .* got int"),
    ("load('nope')", lambda f: nt.data.load("nope"), ValueError, "unknown dataset 'nope'"),
    ("load_digits('val')", lambda f: load_digits("val"), ValueError,
     "load_digits: split must be 'train', 'test' or 'all', got 'val'"),
    ("load_csv missing", lambda f: load_csv(f / "missing.csv"), FileNotFoundError,
     "load_csv: no CSV file at .*missing.csv"),
    ("load_csv NaN feature", lambda f: load_csv(f / "nan_feature.csv"), ValueError,
     "nan_feature.csv' line 3, column 'b': nan is not a finite number"),
    ("load_csv inf label", lambda f: load_csv(f / "inf_label.csv"), ValueError,
     "inf_label.csv' line 3, column 'label': inf is not a finite number"),
    ("load_csv NaN regression target", lambda f: load_csv(f / "nan_target.csv",
                                                          task="regression"), ValueError,
     "nan_target.csv' line 3, column 'y': nan"),
    ("load_npy strings", lambda f: load_npy(f / "strings.npy"), ValueError,
     "load_npy: .*strings.npy' holds an array of <U1, not numbers"),
    ("load_npy objects", lambda f: load_npy(f / "objects.npy"), ValueError,
     "load_npy: .*objects.npy' cannot be read without unpickling"),
    ("load_npy inf", lambda f: load_npy(f / "nan.npy"), ValueError,
     "nan.npy' row 1, column 1: inf is not a finite number"),
    ("load_npy too large", lambda f: load_npy(f / "huge.npy"), ValueError,
     "values too large for float32"),
    ("load_npy missing", lambda f: load_npy(f / "nope.npy"), FileNotFoundError,
     "load_npy: no .npy file at"),
    ("require_finite", lambda f: require_finite(np.array([[1.0, NAN]]), "x", ["a", "b"]),
     ValueError, "x row 1, column 'b': nan is not a finite number"),
    # the Trainer
    ("Trainer of a string model", lambda f: Trainer("mlp", "mse", None), TypeError,
     "Trainer: model must be an nn.Module, got str"),
    ("Trainer of a string optimizer", lambda f: Trainer(model(), "mse", "adam"), TypeError,
     "Trainer: optimizer must be a neuronet.optim optimizer .* got str"),
    ("Trainer unknown loss", lambda f: Trainer(model(), "crossentropy", None), ValueError,
     "unknown loss 'crossentropy'"),
    ("Trainer batch_size 0", lambda f: trainer(batch_size=0), ValueError,
     "Trainer: batch_size must be a positive int, got 0"),
    ("Trainer accumulate 0", lambda f: trainer(accumulate=0), ValueError,
     "Trainer: accumulate must be a positive int, got 0"),
    ("Trainer grad_clip nan", lambda f: trainer(grad_clip=NAN), ValueError,
     "Trainer: grad_clip must be a positive number, got nan"),
    ("Trainer unknown metric", lambda f: trainer(metrics=["acc2"]), ValueError,
     "unknown metric 'acc2'"),
    ("Trainer callback string", lambda f: trainer(callbacks=["x"]), TypeError,
     "Trainer: callbacks must be neuronet.train.Callback instances, got str"),
    ("fit epochs 0", lambda f: trainer().fit(data, epochs=0), ValueError,
     "Trainer.fit: epochs must be a positive int, got 0"),
    ("fit epochs 2.5", lambda f: trainer().fit(data, epochs=2.5), ValueError, "got 2.5"),
    ("fit steps 0", lambda f: trainer().fit(data, steps=0), ValueError,
     "Trainer.fit: steps must be a positive int, got 0"),
    ("fit of an int", lambda f: trainer().fit(42), TypeError, "got int; wrap arrays"),
    ("fit empty data", lambda f: trainer().fit(TensorDataset(xs[:0], ys[:0])), ValueError,
     r"Trainer.fit: the training data is empty \(0 batches\)"),
    ("fit empty validation", lambda f: trainer().fit(data, TensorDataset(xs[:0], ys[:0])),
     ValueError, "Trainer.fit: the validation data is empty"),
    ("fit inputs only", lambda f: trainer().fit(TensorDataset(xs)), ValueError,
     "Trainer.fit: the training batches hold inputs only"),
    ("fit without an optimizer", lambda f: Trainer(model(), "mse", None).fit(data), ValueError,
     "Trainer.fit: this Trainer has no optimizer"),
    ("fit model/data mismatch", lambda f: trainer().fit(TensorDataset(np.zeros((4, 5),
                                                                               np.float32),
                                                                      ys[:4])), ValueError,
     r"Linear: expected input with last dimension 3 \(in_features\), got shape \(4, 5\)"),
    ("fit mse on class targets", lambda f: Trainer(model(), "mse", optim.SGD(
        model().parameters(), lr=0.1), quiet=True).fit(data), ValueError,
     r"mse_loss: input shape \(10, 2\) and target shape \(10,\) differ"),
    ("fit resume missing", lambda f: trainer().fit(data, resume=f / "nope.safetensors"),
     FileNotFoundError, "no checkpoint file at .*nope.safetensors"),
    ("fit resume weights file", lambda f: trainer().fit(data, resume=f / "weights.safetensors"),
     CheckpointError, "is a weights file written by neuronet.io.save"),
    ("evaluate empty", lambda f: trainer().evaluate(TensorDataset(xs[:0], ys[:0])), ValueError,
     "Trainer.evaluate: the data is empty"),
    ("predict empty", lambda f: trainer().predict(TensorDataset(xs[:0])), ValueError,
     "Trainer.predict: the data is empty"),
    ("fit() optimizer 'adamx'", lambda f: fit(model(), data, optimizer="adamx"), ValueError,
     "unknown optimizer 'adamx'"),
    ("fit() lr -1", lambda f: fit(model(), data, lr=-1.0, quiet=True), ValueError,
     "Invalid learning rate: -1.0"),
    ("EarlyStopping mode", lambda f: EarlyStopping(mode="bad"), ValueError,
     "EarlyStopping: mode must be 'auto', 'min' or 'max', got 'bad'"),
    ("EarlyStopping patience -1", lambda f: EarlyStopping(patience=-1), ValueError,
     "EarlyStopping: patience must be an int >= 0, got -1"),
    ("EarlyStopping missing key", lambda f: trainer(callbacks=[EarlyStopping()]).fit(data),
     KeyError, "EarlyStopping monitors 'val_loss', which is not in the epoch logs"),
    ("ModelCheckpoint monitor 3", lambda f: ModelCheckpoint(f, monitor=3), TypeError,
     "ModelCheckpoint: monitor must be a log key or None, got 3"),
    ("ModelCheckpoint mode", lambda f: ModelCheckpoint(f, mode="best"), ValueError,
     "ModelCheckpoint: mode must be 'auto', 'min' or 'max', got 'best'"),
    ("accuracy of mismatched batches", lambda f: get_metric("accuracy").update(
        np.zeros((4, 3)), np.zeros(5)), ValueError,
     r"metrics: the output has 4 predictions \(shape \(4, 3\)\) but the target has 5"),
    ("mse of mismatched sizes", lambda f: get_metric("mse").update(np.zeros(4), np.zeros(5)),
     ValueError, r"mse: the output of shape \(4,\) and the target of shape \(5,\)"),
    # checkpoint and weight files
    ("save into a missing folder", lambda f: io.save(model(), f / "nope" / "w.safetensors"),
     FileNotFoundError, "the directory .*nope' does not exist; create it first"),
    ("save an int", lambda f: io.save(42, f / "x.safetensors"), TypeError,
     "save: expected a Module or a state dict .* got int"),
    ("save a function in extra", lambda f: io.save_checkpoint(f / "c.safetensors", model(),
                                                              extra={"f": print}), TypeError,
     "cannot store a builtin_function_or_method at 'extra.f' in a checkpoint"),
    ("load a folder", lambda f: io.load(model(), f), FileNotFoundError, "no checkpoint file at"),
    ("load truncated", lambda f: io.load(model(), f / "truncated.safetensors"), CheckpointError,
     "truncated.safetensors' is not a valid safetensors file"),
    ("load bit-flipped", lambda f: io.load(model(), f / "flipped.safetensors"), CheckpointError,
     "flipped.safetensors' is corrupt: the checksum"),
    ("load a pickle", lambda f: io.load(model(), f / "pickle.pt"), CheckpointError,
     "looks like a Python pickle, which neuronet never loads"),
    ("load a .pt zip", lambda f: io.load(model(), f / "zip.pt"), CheckpointError,
     "zip archive: a PyTorch .pt/.pth file"),
    ("load into another model", lambda f: io.load(nn.Linear(4, 2), f / "weights.safetensors"),
     CheckpointError, r"\(saved from a Linear\) does not fit this Linear"),
    ("load_checkpoint of weights", lambda f: io.load_checkpoint(f / "weights.safetensors",
                                                                model()), CheckpointError,
     "is a weights file written by neuronet.io.save"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(files, call, error, message):
    with pytest.raises(error, match=message):
        call(files)
