"""Checks on the arrays users bring in files: numbers only, and finite.

A NaN or an infinity in the inputs makes every loss NaN from the first batch on, and a NaN
label would become a class of its own; both are refused where the file is read, with the row
and column that hold them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["require_finite", "load_npy"]


def require_finite(
    values: np.ndarray, source, columns=None, first_row: int = 1, unit: str = "row"
) -> np.ndarray:
    """Return ``values`` if every entry is finite; else raise ValueError naming the first bad
    one by row and column.

    Args:
        values: a numeric array; rows are samples (a 1-D array is one column).
        source: what to call the data in the message (a file name).
        columns: names of the columns (default: their 0-based index).
        first_row: the number of the first row, as the user counts (e.g. the CSV line).
        unit: what a row is called in the message ('row', 'line').
    """
    if values.dtype.kind not in "fc":
        return values
    finite = np.isfinite(values)
    if finite.all():
        return values
    flat = values.reshape(len(values), -1) if values.ndim > 1 else values.reshape(-1, 1)
    row, column = (int(i) for i in np.argwhere(~finite.reshape(flat.shape))[0])
    name = repr(columns[column]) if columns is not None else str(column)
    count = int((~finite).sum())
    raise ValueError(
        f"{source} {unit} {first_row + row}, column {name}: {flat[row, column]} is not a finite "
        f"number ({count} non-finite value(s) in all); fill or drop missing values first"
    )


def load_npy(path) -> np.ndarray:
    """A float32 array from a ``.npy`` file of numbers, never unpickling, all finite.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a .npy file, an array of strings or objects, or NaN/Inf (with the row
            and column, the row counted from 0 as NumPy indexes).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_npy: no .npy file at {str(path)!r}")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:  # object arrays need pickle, which is never used
        raise ValueError(
            f"load_npy: {str(path)!r} cannot be read without unpickling ({error}); save a "
            "numeric array (np.save(path, x.astype(np.float32)))"
        ) from None
    except (OSError, EOFError) as error:
        raise ValueError(f"load_npy: {str(path)!r} is not a valid .npy file ({error})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = getattr(array, "dtype", type(array).__name__)
        raise ValueError(
            f"load_npy: {str(path)!r} holds an array of {kind}, not numbers; convert it to a "
            "numeric array first"
        )
    require_finite(array, repr(str(path)), first_row=0)
    out = array.astype(np.float32)
    if not np.isfinite(out).all():
        raise ValueError(
            f"load_npy: {str(path)!r} holds values too large for float32 (max "
            f"{np.abs(array).max()}); rescale the data"
        )
    return out
