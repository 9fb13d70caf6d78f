"""Character-level language-model data: a vocabulary, a windowed dataset, text files.

``CharVocab`` maps characters to ids and back and serialises to JSON, so it can be saved next to
(or inside) a model checkpoint. ``CharDataset`` turns one long id sequence into samples
``(x, y) = (ids[i : i + T], ids[i + 1 : i + T + 1])``: a context of ``T = block_size`` characters
and, at every position, the character that follows. ``load_text`` reads a UTF-8 file and splits
it: the first ``1 - val_fraction`` of the text is training data, the rest validation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from neuronet.autograd.tensor import Tensor
from neuronet.data.dataset import Dataset, _check_index, _check_indices

__all__ = ["CharVocab", "CharDataset", "split_text", "load_text"]


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


class CharVocab:
    """A character vocabulary: id ``i`` is ``chars[i]``.

    Args:
        chars: the characters, in id order, each once (a string or a sequence of 1-char strings).

    Example:
        >>> v = CharVocab.from_text("hello")
        >>> v.chars, v.encode("hole").tolist(), v.decode([3, 1])
        ('ehlo', [1, 3, 2, 0], 'oh')
        >>> CharVocab.from_json(v.to_json()) == v
        True
    """

    def __init__(self, chars):
        chars = "".join(chars)
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab: every character must appear once in chars")
        if not chars:
            raise ValueError("CharVocab: the vocabulary is empty")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        points = _code_points(chars)
        self._table = np.full(int(points.max()) + 1, -1, dtype=np.int64)
        self._table[points] = np.arange(len(chars), dtype=np.int64)
        self._itos = np.array(list(chars))

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The sorted set of characters in ``text``."""
        return cls("".join(sorted(set(text))))

    @property
    def itos(self) -> list:
        return list(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``'s characters (int64). Unknown characters raise ValueError."""
        points = _code_points(text)
        ids = np.full(points.shape, -1, dtype=np.int64)
        known = points < self._table.size
        ids[known] = self._table[points[known]]
        if (ids < 0).any():
            unknown = sorted({chr(int(p)) for p in points[ids < 0]})
            raise ValueError(
                f"CharVocab.encode: characters {unknown[:10]!r} are not in the vocabulary of "
                f"{len(self)} characters; build the vocabulary from text that contains them"
            )
        return ids

    def decode(self, ids) -> str:
        """The string for a sequence of ids (list, array or Tensor)."""
        if isinstance(ids, Tensor):
            ids = ids.array
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"CharVocab.decode: ids must lie in [0, {len(self) - 1}], got "
                f"{int(ids.min())}..{int(ids.max())}"
            )
        return "".join(self._itos[ids].tolist())

    def to_json(self) -> str:
        """A JSON string that ``from_json`` turns back into this vocabulary."""
        return json.dumps({"type": "CharVocab", "chars": self.chars}, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> CharVocab:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"CharVocab.from_json: not valid JSON ({error})") from None
        if not isinstance(data, dict) or data.get("type") != "CharVocab":
            raise ValueError("CharVocab.from_json: expected the JSON written by CharVocab.to_json")
        return cls(data["chars"])

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)})"


class CharDataset(Dataset):
    """Next-character windows over ``ids``: sample ``i`` is ``(ids[i:i+T], ids[i+1:i+T+1])``.

    Args:
        ids: the encoded text (1-d integer array).
        block_size: the context length ``T``.
        vocab: the ``CharVocab`` that encoded it (kept as ``.vocab``).

    Shape: x and y are int64 ``(T,)`` per sample, ``(N, T)`` per batch; ``len = len(ids) - T``.
    """

    def __init__(self, ids, block_size: int, vocab: CharVocab | None = None):
        if isinstance(ids, str):
            raise TypeError(
                f"CharDataset: ids must be the encoded text (integer ids), got a str of "
                f"{len(ids)} characters; encode it first: vocab = CharVocab.from_text(text); "
                "CharDataset(vocab.encode(text), block_size, vocab)"
            )
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"CharDataset: ids must be one-dimensional, got shape {ids.shape}")
        if not isinstance(block_size, (int, np.integer)) or block_size <= 0:
            raise ValueError(f"CharDataset: block_size must be a positive int, got {block_size!r}")
        if ids.size <= block_size:
            raise ValueError(
                f"CharDataset: a text of {ids.size} characters is too short for block_size="
                f"{block_size}; use more text or a smaller block_size"
            )
        self.ids = ids
        self.block_size = int(block_size)
        self.vocab = vocab
        self._x = sliding_window_view(ids[:-1], self.block_size)
        self._y = sliding_window_view(ids[1:], self.block_size)

    def __len__(self) -> int:
        return self.ids.size - self.block_size

    def __getitem__(self, index):
        i = _check_index(index, len(self), "CharDataset")
        return Tensor(self._x[i].copy()), Tensor(self._y[i].copy())

    def get_batch(self, indices) -> tuple:
        """(x, y) for ``indices``: two gathers of shape (N, T)."""
        idx = _check_indices(indices, len(self), "CharDataset")
        return Tensor(self._x[idx]), Tensor(self._y[idx])

    def __repr__(self) -> str:
        return f"CharDataset(windows={len(self)}, block_size={self.block_size})"


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """(train, val): the first ``1 - val_fraction`` of the characters, then the rest."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"split_text: val_fraction must lie in [0, 1), got {val_fraction}")
    cut = len(text) - int(round(len(text) * val_fraction))
    return text[:cut], text[cut:]


def load_text(
    path,
    split: str = "train",
    block_size: int = 128,
    val_fraction: float = 0.1,
    vocab: CharVocab | None = None,
    encoding: str = "utf-8",
) -> CharDataset:
    """A character-level dataset from a plain text file.

    Args:
        path: the text file.
        split: 'train' (the first 1 - val_fraction of the text) or 'val' (the rest).
        block_size: context length of each sample.
        val_fraction: share of the text, taken from the end, used for validation.
        vocab: the vocabulary to use (e.g. the one saved with a model); default: every
            character of the whole file, sorted.
        encoding: the file's text encoding.

    Returns:
        A ``CharDataset`` whose ``.vocab`` is the vocabulary.
    """
    if split not in ("train", "val"):
        raise ValueError(f"load_text: split must be 'train' or 'val', got {split!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"load_text: no text file at {str(path)!r}; give the path of a UTF-8 text file "
            "(any plain text: a book, source code, ...)"
        )
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"load_text: {str(path)!r} is not valid {encoding} text ({error}); give its "
            "encoding (encoding='latin-1', or --encoding on the command line)"
        ) from None
    if not text:
        raise ValueError(f"load_text: {str(path)!r} is empty; give a file with text to learn from")
    vocab = CharVocab.from_text(text) if vocab is None else vocab
    part = split_text(text, val_fraction)[0 if split == "train" else 1]
    if len(part) <= block_size:
        raise ValueError(
            f"load_text: the {split} part of {str(path)!r} has {len(part)} characters, too few "
            f"for windows of block_size={block_size}; use a longer text or a smaller block_size"
        )
    return CharDataset(vocab.encode(part), block_size, vocab)
