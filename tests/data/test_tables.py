"""CSV tables: header and task detection, known classes, read_features for prediction."""

from __future__ import annotations

import numpy as np
import pytest

from neuronet.data import load
from neuronet.data.tables import detect_header, infer_task, load_csv, read_features


@pytest.mark.parametrize(
    "values, task, reason",
    [
        (["cat", "dog", "cat"], "classification", "non-numeric values"),
        (["0", "1", "2", "1"], "classification", "3 distinct integer values"),
        (["1.5", "2.25", "3"], "regression", "3 distinct non-integer values"),
        ([str(v) for v in range(100, 400)], "regression", "300 distinct integer values"),
        ([str(i % 30) for i in range(300)], "classification", "30 distinct integer values"),
        ([str(i % 30 + 1) for i in range(300)], "regression", "30 distinct integer values"),
    ],
)
def test_infer_task(values, task, reason):
    decided, why = infer_task(values)
    assert decided == task and reason in why


def test_detect_header_ignores_the_label_cell():
    assert detect_header(["a", "b"]) and not detect_header(["1", "2.5"])
    assert not detect_header(["1", "setosa"], skip=1) and detect_header(["x", "setosa"], skip=1)


def test_auto_task_and_attributes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,y,target\n" + "".join(f"{i},{i % 7},{i * 0.37:.2f}\n" for i in range(50)))
    ds = load_csv(path, label="target", task="auto")
    assert ds.task == "regression" and "non-integer" in ds.task_reason
    assert ds.arrays[1].shape == (50, 1) and ds.label_name == "target" and ds.label_index == 2
    bundle = load(f"csv:{path}", task="auto", label="target")
    assert bundle.task == "regression" and bundle.num_classes is None
    assert bundle.extra["feature_names"] == ["x", "y"] and bundle.extra["header"] is True


def test_known_classes_map_labels_and_reject_new_ones(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n1,dog\n2,cat\n3,dog\n")
    ds = load_csv(path, label="label", classes=["dog", "cat", "bird"])
    assert ds.arrays[1].tolist() == [0, 1, 0] and ds.classes == ["dog", "cat", "bird"]
    path.write_text("1,3.0\n2,1\n")
    assert load_csv(path, classes=[1, 3]).arrays[1].tolist() == [1, 0]  # '3.0' is class 3
    path.write_text("a,label\n1,dog\n2,fish\n")
    with pytest.raises(ValueError, match=r"label value\(s\) \['fish'\] are not classes of this"):
        load_csv(path, label="label", classes=["dog", "cat"])


def test_read_features_layouts(tmp_path):
    names = ["area", "rooms"]
    path = tmp_path / "x.csv"
    path.write_text("rooms,price,area\n3,9,120.5\n1,2,40\n")  # by name, any order, extra column
    assert read_features(path, names, named=True).tolist() == [[120.5, 3], [40, 1]]
    path.write_text("120.5,3\n40,1\n")  # no header: the features in training order
    assert read_features(path, names, label_index=2).tolist() == [[120.5, 3], [40, 1]]
    path.write_text("120.5,3,large\n40,1,small\n")  # no header, with the label column
    assert read_features(path, names, label_index=2).tolist() == [[120.5, 3], [40, 1]]
    path.write_text("large,120.5,3\n")  # the label first, as in training
    np.testing.assert_array_equal(read_features(path, names, label_index=0), [[120.5, 3]])


def test_read_features_errors(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="x.csv' is empty; it needs one sample per row"):
        read_features(path, ["a", "b"])
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="has a header row but no data rows"):
        read_features(path, ["a", "b"], named=True)
    path.write_text("1,2,3,4\n")
    with pytest.raises(ValueError, match="expects 2 feature values per row; .* has 4 columns"):
        read_features(path, ["a", "b"])
    with pytest.raises(ValueError, match="expects 2 feature values per row \\(or those and the "):
        read_features(path, ["a", "b"], label_index=0)
    path.write_bytes("1,2\n3,\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="is not valid utf-8 text .*--encoding latin-1"):
        read_features(path, ["a", "b"])
    with pytest.raises(ValueError, match="line 2, column 'column 1': 'é' is not a number"):
        read_features(path, ["a", "b"], encoding="latin-1")
