"""CSV tables: numeric feature columns and one label column, read the same way for training and
for prediction.

Reading
    Rows are split with Python's ``csv`` module (quoting handled); blank lines are skipped; every
    row must have as many fields as the first. An empty file, a file with only a header and a
    ragged row are errors that name the file and the line.
Header detection
    The first row is a header when one of its feature cells is not a number (the label cell may
    hold a class name, so it is not judged). ``detect_header`` is the one rule, used by
    ``load_csv`` and by ``read_features`` (what ``neuronet predict`` reads).
Task detection (``task='auto'``)
    A label column with a non-numeric value or an integer-valued column with at most 20 distinct
    values (or exactly the values 0..K-1 with at least 5 rows each) is classification; any other
    numeric column (fractions, or many distinct integers such as prices) is regression. The
    decision and its reason are kept as ``dataset.task_reason``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from neuronet.data.arrays import require_finite
from neuronet.data.dataset import TensorDataset
from neuronet.random import Generator

__all__ = [
    "load_csv",
    "read_csv_rows",
    "detect_header",
    "infer_task",
    "read_features",
    "holdout_indices",
    "take_rows",
]

TASKS = ("classification", "regression", "auto")
MAX_AUTO_CLASSES = 20


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv_rows(path, delimiter: str = ",", encoding: str = "utf-8", who: str = "load_csv"):
    """The non-blank rows of a CSV file as lists of strings, all of one width.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is empty, not valid ``encoding`` text, or has a row of another width.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{who}: no CSV file at {str(path)!r}")
    try:
        with open(path, newline="", encoding=encoding) as f:
            rows = [
                row for row in csv.reader(f, delimiter=delimiter) if any(c.strip() for c in row)
            ]
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{who}: {str(path)!r} is not valid {encoding} text ({error}); give its encoding "
            "(--encoding latin-1, cp1252, ...)"
        ) from None
    if not rows:
        raise ValueError(f"{who}: {str(path)!r} is empty; it needs one sample per row")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"{str(path)!r} line {i + 1} has {len(row)} fields, the first line has {width}; "
                f"check the delimiter (now {delimiter!r}) and quoting"
            )
    return rows


def detect_header(first_row, skip: int | None = None) -> bool:
    """Whether ``first_row`` is a header: one of its cells (other than column ``skip``, the
    label) is not a number."""
    return not all(_is_number(v) for c, v in enumerate(first_row) if c != skip)


def infer_task(values) -> tuple:
    """('classification' | 'regression', reason) for a label column's string values."""
    values = [v.strip() for v in values]
    if not all(_is_number(v) for v in values):
        return "classification", "it holds non-numeric values (class names)"
    numbers = np.array([float(v) for v in values])
    distinct = np.unique(numbers)
    if not np.all(numbers == np.round(numbers)):
        return "regression", f"it holds {distinct.size} distinct non-integer values"
    consecutive = np.array_equal(distinct, np.arange(distinct.size))
    if distinct.size <= MAX_AUTO_CLASSES or (consecutive and numbers.size >= 5 * distinct.size):
        return "classification", f"it holds {distinct.size} distinct integer values"
    return "regression", f"it holds {distinct.size} distinct integer values"


def _column_index(label, names: list | None, width: int, path: Path) -> int:
    if isinstance(label, str):
        if names is None:
            raise ValueError(
                f"load_csv: label={label!r} names a column but {str(path)!r} has no header row; "
                "give the label column's index instead (e.g. label=-1)"
            )
        if label not in names:
            raise ValueError(f"load_csv: no column {label!r} in {str(path)!r}; columns: {names}")
        return names.index(label)
    if not isinstance(label, (int, np.integer)) or not -width <= label < width:
        raise ValueError(f"load_csv: label index {label!r} is out of range for {width} columns")
    return int(label) % width


def _to_float(cells: np.ndarray, names: list, columns: list, path: Path, first_line: int):
    try:
        values = cells.astype(np.float32)
    except ValueError:
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                if not _is_number(value):
                    raise ValueError(
                        f"{str(path)!r} line {first_line + r}, column {names[columns[c]]!r}: "
                        f"{str(value)!r} is not a number; fill or drop missing values, or encode "
                        "categorical features as numbers first"
                    ) from None
        raise
    return require_finite(values, repr(str(path)), [names[c] for c in columns], first_line, "line")


def _class_ids(raw_labels: np.ndarray, classes, path: Path):
    """(int64 ids, classes): ids index ``classes`` (given, or the sorted distinct values)."""
    numeric = all(_is_number(v) for v in raw_labels)
    if classes is None:
        keys = raw_labels.astype(np.float64) if numeric else raw_labels
        values, y = np.unique(keys, return_inverse=True)
        classes = [int(v) if numeric and float(v).is_integer() else v for v in values.tolist()]
        return y.astype(np.int64).reshape(-1), classes
    if numeric and all(_is_number(str(c)) for c in classes):  # '3.0' in a file is class 3
        lookup = {float(c): i for i, c in enumerate(classes)}
        keys = [float(v) for v in raw_labels]
    else:
        lookup = {str(c): i for i, c in enumerate(classes)}
        keys = [str(v) for v in raw_labels]
    unknown = sorted({str(v) for v, k in zip(raw_labels, keys) if k not in lookup})
    if unknown:
        raise ValueError(
            f"{str(path)!r}: label value(s) {unknown[:5]} are not classes of this model "
            f"(it knows {list(classes)[:20]})"
        )
    y = np.array([lookup[k] for k in keys], dtype=np.int64)
    return y, list(classes)


def load_csv(
    path,
    label=-1,
    header: bool | None = None,
    task: str = "classification",
    delimiter: str = ",",
    split: str = "all",
    test_fraction: float = 0.2,
    seed: int = 0,
    encoding: str = "utf-8",
    classes=None,
):
    """A table of numeric features and one label column.

    Args:
        path: the CSV file.
        label: the label column, by name (needs a header) or index (default: the last).
        header: whether the first row holds column names; None detects it (``detect_header``).
        task: 'classification' (labels become int64 class ids 0..K-1 in sorted order of the
            distinct values; ``.classes`` lists the values), 'regression' (float32 targets of
            shape (N, 1)) or 'auto' (decided from the label column, see the module docstring;
            ``.task`` and ``.task_reason`` say what was decided).
        delimiter: the field separator.
        split: 'all' (file order), or 'train' / 'test': a fixed random split, the last
            ``test_fraction`` of a permutation drawn from ``Generator(seed)``.
        encoding: the file's text encoding.
        classes: the known class values (e.g. a trained model's); labels outside them are an
            error, and the ids index this list.

    Returns:
        A ``TensorDataset`` of (float32 features (F,), target) with attributes
        ``feature_names``, ``classes`` (None for regression), ``task``, ``task_reason``,
        ``label_name``, ``label_index`` and ``header``.
    """
    path = Path(path)
    if task not in TASKS:
        raise ValueError(
            f"load_csv: task must be 'classification' or 'regression' (or 'auto'), got {task!r}"
        )
    if split not in ("all", "train", "test"):
        raise ValueError(f"load_csv: split must be 'all', 'train' or 'test', got {split!r}")
    rows = read_csv_rows(path, delimiter, encoding)
    width = len(rows[0])
    if header is None and isinstance(label, str):
        first = [v.strip() for v in rows[0]]
        header = label in first or detect_header(first)
    elif header is None:  # the label column may hold class names: judge the features only
        header = detect_header(rows[0], skip=_column_index(label, None, width, path))
    names = [v.strip() for v in rows[0]] if header else None
    body = rows[1:] if header else rows
    if not body:
        raise ValueError(f"load_csv: {str(path)!r} has a header row but no data rows")
    target = _column_index(label, names, width, path)
    names = names or [f"column {i}" for i in range(width)]
    cells = np.array(body, dtype=str)
    columns = [c for c in range(width) if c != target]
    features = _to_float(cells[:, columns], names, columns, path, 2 if header else 1)
    raw_labels = np.char.strip(cells[:, target])
    reason = f"task={task!r} was given"
    if task == "auto":
        task, reason = infer_task(raw_labels)
    if task == "classification":
        if all(_is_number(v) for v in raw_labels):  # a NaN label must not become a class
            first = 2 if header else 1
            require_finite(
                raw_labels.astype(np.float64), repr(str(path)), [names[target]], first, "line"
            )
        y, classes = _class_ids(raw_labels, classes, path)
    else:
        y, classes = _to_float(cells[:, [target]], names, [target], path, 2 if header else 1), None
    dataset = TensorDataset(features, y)
    dataset.feature_names = [names[c] for c in columns]
    dataset.classes = classes
    dataset.task = task
    dataset.task_reason = reason
    dataset.label_name = names[target]
    dataset.label_index = target
    dataset.header = bool(header)
    if split == "all":
        return dataset
    train_rows, test_rows = holdout_indices(len(dataset), test_fraction, seed)
    return take_rows(dataset, train_rows if split == "train" else test_rows)


def read_features(
    path,
    feature_names: list,
    label_index: int | None = None,
    named: bool = False,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> np.ndarray:
    """The feature columns of a CSV laid out like a training file, as float32 (N, F).

    A row holds the F features, or the F features and the label column at ``label_index``
    (ignored). A header is detected as in training; when the training file had one
    (``named=True``) and this file's header names every feature, columns are taken by name, in
    any order.

    Raises:
        ValueError: an empty file, a header without rows, a non-number, or a row width that is
            neither F nor F + 1, naming the F this model expects.
    """
    path = Path(path)
    rows = read_csv_rows(path, delimiter, encoding, who="read_features")
    n = len(feature_names)
    width = len(rows[0])
    skip = label_index if label_index is not None and width == n + 1 else None
    first = [v.strip() for v in rows[0]]
    header = detect_header(first, skip) or (named and set(feature_names) <= set(first))
    body = rows[1:] if header else rows
    if not body:
        raise ValueError(f"read_features: {str(path)!r} has a header row but no data rows")
    if header and named and set(feature_names) <= set(first):
        columns = [first.index(name) for name in feature_names]
    elif width == n:
        columns = list(range(n))
    elif skip is not None:
        columns = [c for c in range(width) if c != skip]
    else:
        extra = "" if label_index is None else " (or those and the label column)"
        raise ValueError(
            f"read_features: this model expects {n} feature values per row{extra}; "
            f"{str(path)!r} has {width} columns"
        )
    cells = np.array(body, dtype=str)[:, columns]
    names = first if header else [f"column {c}" for c in range(width)]
    return _to_float(cells, names, columns, path, 2 if header else 1)


def holdout_indices(n: int, test_fraction: float = 0.2, seed: int = 0):
    """(train, test) row indices, each sorted: the test rows are the last ``test_fraction`` of a
    permutation drawn from ``Generator(seed)``."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in [0, 1), got {test_fraction}")
    order = Generator(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(order[: n - n_test]), np.sort(order[n - n_test :])


_ATTRIBUTES = ("feature_names", "classes", "task", "task_reason", "label_name", "label_index")


def take_rows(dataset: TensorDataset, rows) -> TensorDataset:
    """A new TensorDataset of the given rows (copied), keeping load_csv's attributes."""
    out = TensorDataset(*(a[rows] for a in dataset.arrays))
    for name in (*_ATTRIBUTES, "header"):
        if hasattr(dataset, name):
            setattr(out, name, getattr(dataset, name))
    return out
