"""Reading and writing one ``.safetensors`` file: atomically, checksummed, never unpickling.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's dtype,
shape and byte range, plus a ``__metadata__`` map of strings) and the raw tensor bytes. Parsing
it runs no code, unlike pickle-based formats. The bytes come from the ``safetensors`` package
(``safetensors.numpy.save``); neuronet adds:

- an atomic write: the bytes go to a temporary file in the target's directory, which is flushed,
  fsynced and then renamed over the target (``os.replace``), and the directory is fsynced. A crash
  at any moment leaves either the old file or the new one, never a mix.
- a CRC-32 (``neuronet.crc32``) over the whole content: every metadata entry (the JSON documents
  with the learning rate, the step, the loader position, ...) and every tensor's name, dtype,
  shape and bytes. The format itself has no checksum, so without it a flipped bit or an edited
  header would load silently. A file without the checksum is refused unless the caller asks for
  an unchecked load (``verify=False``), meant for trusted files other programs wrote.
- a strict reading of the header before the parser sees it (its length against the file size,
  UTF-8, valid JSON, no duplicate keys), so that a damaged or hostile file is a
  ``CheckpointError`` and never a crash, a hang or a huge allocation.
- errors that name the file and say what is wrong with it.

Format versions: 2 (this one) checksums metadata and tensors; 1 checksummed the tensor bytes
only, and is still read.
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import safe_open

from neuronet.autograd.tensor import Tensor

__all__ = ["CheckpointError", "write_safetensors", "read_safetensors", "parse_json"]

FORMAT_VERSION = 2
CRC_KEY = "neuronet.crc32"
VERSION_KEY = "neuronet.format_version"
CHUNK_BYTES = 1 << 20
MAX_HEADER_BYTES = 100_000_000  # the safetensors limit
_write_hook = None  # test seam: called as hook(bytes_written, total) after each chunk


class CheckpointError(RuntimeError):
    """A checkpoint or weights file that cannot be loaded: corrupt, truncated, not safetensors,
    unchecked, or saved from a different model. The message names the file."""


def _contiguous(name: str, value) -> np.ndarray:
    arr = value.array if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"cannot save {name!r}: expected a Tensor or NumPy array, got {type(value).__name__}"
        )
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (keeps 0-d arrays 0-d)


def _tensor_bytes(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


def checksum(tensors: dict, metadata: dict) -> str:
    """CRC-32 (8 hex digits) over every metadata entry but the checksum itself, then every
    tensor's name, dtype, shape and bytes, in sorted order."""
    crc = 0
    for key in sorted(k for k in metadata if k != CRC_KEY):
        crc = zlib.crc32(json.dumps([key, metadata[key]]).encode("utf-8"), crc)
    for name in sorted(tensors):
        arr = tensors[name]
        crc = zlib.crc32(json.dumps([name, arr.dtype.str, list(arr.shape)]).encode("utf-8"), crc)
        crc = zlib.crc32(_tensor_bytes(arr), crc)
    return f"{crc:08x}"


def _checksum_v1(tensors: dict) -> str:
    """Format 1's CRC-32: the tensors' names and bytes only."""
    crc = 0
    for name in sorted(tensors):
        crc = zlib.crc32(name.encode("utf-8"), crc)
        crc = zlib.crc32(_tensor_bytes(tensors[name]), crc)
    return f"{crc:08x}"


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one."""
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: the directory {str(directory)!r} does not exist; "
            "create it first"
        )
    tmp = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            view = memoryview(data)
            for start in range(0, len(view), CHUNK_BYTES):
                f.write(view[start : start + CHUNK_BYTES])
                if _write_hook is not None:
                    _write_hook(min(start + CHUNK_BYTES, len(view)), len(view))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def write_safetensors(path, tensors: dict, metadata: dict) -> None:
    """Atomically write ``tensors`` (name -> array or Tensor) and string ``metadata``."""
    path = Path(path)
    arrays = {name: _contiguous(name, value) for name, value in tensors.items()}
    meta = dict(metadata)
    meta[VERSION_KEY] = str(FORMAT_VERSION)
    meta[CRC_KEY] = checksum(arrays, meta)
    atomic_write(path, safetensors.numpy.save(arrays, metadata=meta))


def _sniff(head: bytes) -> str:
    """A hint about what a non-safetensors file is."""
    if head.startswith(b"PK\x03\x04"):
        return (
            " It is a zip archive: a PyTorch .pt/.pth file is zipped pickle, which neuronet's own "
            "loaders never read because unpickling can run code. With PyTorch installed, "
            "neuronet.io.load_torch(model, path) reads a state dict from it safely "
            "(torch.load(weights_only=True)); or convert it once in PyTorch with "
            "safetensors.torch.save_file(torch.load(path), 'model.safetensors')."
        )
    if head[:1] == b"\x80":
        return " It looks like a Python pickle, which neuronet never loads (it can run code)."
    if head[:1] in (b"{", b"["):
        return " It looks like a JSON file, not a safetensors file."
    return ""


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice")
        out[key] = value
    return out


def _check_header(path: Path, size: int) -> None:
    """Read and check the JSON header before the safetensors parser sees the file."""
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(0)
        length = int.from_bytes(f.read(8), "little")
        if length > min(size - 8, MAX_HEADER_BYTES):
            raise CheckpointError(
                f"{str(path)!r} is not a valid safetensors file: its first 8 bytes announce a "
                f"{length}-byte header but the file has {size} bytes; it is truncated, corrupt or "
                f"another format.{_sniff(head)}"
            )
        raw = f.read(length)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file: its header is not valid UTF-8 JSON "
            f"({error}); it is corrupt or another format.{_sniff(head)}"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file: its header is not a JSON object"
        )


def _verify(path: Path, tensors: dict, metadata: dict) -> None:
    version = metadata.get(VERSION_KEY)
    stored = metadata.get(CRC_KEY)
    if stored is None:
        raise CheckpointError(
            f"{str(path)!r} has no neuronet checksum ({CRC_KEY!r} in its metadata), so "
            "corruption or edits would go unnoticed: it was written by another program, or its "
            "header was changed. If you trust the file (e.g. one PyTorch wrote), load it "
            "unchecked with verify=False"
        )
    expected = _checksum_v1(tensors) if version == "1" else checksum(tensors, metadata)
    if stored != expected:
        what = "tensor data" if version == "1" else "header and tensor data"
        raise CheckpointError(
            f"{str(path)!r} is corrupt: the checksum of its {what} does not match the one stored "
            "when it was written (bit rot, a partial copy or an edit); use another copy"
        )


def read_safetensors(path, verify: bool = True) -> tuple[dict, dict]:
    """(tensors, metadata) of a safetensors file; arrays are writable NumPy arrays.

    Args:
        path: the file.
        verify: check the CRC-32 neuronet wrote, and refuse a file without one. ``False``
            reads a trusted file another program wrote (its structure is still checked).

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not safetensors, truncated, corrupt, unchecked, a checksum mismatch,
            or a newer format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {str(path)!r}")
    size = path.stat().st_size
    if size < 8:
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file: it has only {size} bytes (truncated "
            "or empty; an interrupted copy?)"
        )
    _check_header(path, size)
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as error:  # any failure of the parser means a bad file
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file ({type(error).__name__}: {error}); it "
            "is truncated, corrupt, uses a dtype NumPy lacks (bfloat16, float8), or is another "
            "format"
        ) from None
    for name, arr in tensors.items():
        if not arr.flags.writeable:
            tensors[name] = arr.copy()
    version = metadata.get(VERSION_KEY)
    if version is not None and (not version.isdigit() or int(version) > FORMAT_VERSION):
        raise CheckpointError(
            f"{str(path)!r} has format version {version!r}; this neuronet reads version "
            f"{FORMAT_VERSION} and older. Upgrade neuronet to load it"
        )
    if verify:
        _verify(path, tensors, metadata)
    return tensors, metadata


def parse_json(path, metadata: dict, key: str):
    """The JSON object stored under ``key`` in the metadata, with a clear error."""
    try:
        value = json.loads(metadata[key], object_pairs_hook=_no_duplicates)
    except KeyError:
        raise CheckpointError(f"{str(path)!r}: the metadata lacks {key!r}") from None
    except (ValueError, RecursionError) as error:
        raise CheckpointError(
            f"{str(path)!r}: the metadata entry {key!r} is not valid JSON ({error}); the file "
            "is corrupt"
        ) from None
    if not isinstance(value, dict):
        raise CheckpointError(
            f"{str(path)!r}: the metadata entry {key!r} is not a JSON object; the file is corrupt"
        )
    return value
