"""Reading and writing one ``.safetensors`` file: atomically, checksummed, never unpickling.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's dtype,
shape and byte range, plus a ``__metadata__`` map of strings) and the raw tensor bytes. Parsing
it runs no code, unlike pickle-based formats. The bytes come from the ``safetensors`` package
(``safetensors.numpy.save``); neuronet adds:

- an atomic write: the bytes go to a temporary file in the target's directory, which is flushed,
  fsynced and then renamed over the target (``os.replace``), and the directory is fsynced. A crash
  at any moment leaves either the old file or the new one, never a mix.
- a CRC-32 of every tensor's name and bytes in the metadata (``neuronet.crc32``), checked on
  load, because the format itself has no checksum and a flipped bit would load silently.
- errors that name the file and say what is wrong with it.
"""

from __future__ import annotations

import json
import os
import secrets
import zlib
from pathlib import Path

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from neuronet.autograd.tensor import Tensor

__all__ = ["CheckpointError", "write_safetensors", "read_safetensors"]

FORMAT_VERSION = 1
CHUNK_BYTES = 1 << 20
_write_hook = None  # test seam: called as hook(bytes_written, total) after each chunk


class CheckpointError(RuntimeError):
    """A checkpoint or weights file that cannot be loaded: corrupt, truncated, not safetensors,
    or saved from a different model. The message names the file."""


def _contiguous(name: str, value) -> np.ndarray:
    arr = value.array if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"cannot save {name!r}: expected a Tensor or NumPy array, got {type(value).__name__}"
        )
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (keeps 0-d arrays 0-d)


def checksum(tensors: dict) -> str:
    """CRC-32 over the tensors' names and bytes, in sorted name order, as 8 hex digits."""
    crc = 0
    for name in sorted(tensors):
        crc = zlib.crc32(name.encode("utf-8"), crc)
        crc = zlib.crc32(np.ascontiguousarray(tensors[name]).reshape(-1).view(np.uint8), crc)
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
    meta["neuronet.format_version"] = str(FORMAT_VERSION)
    meta["neuronet.crc32"] = checksum(arrays)
    atomic_write(path, safetensors.numpy.save(arrays, metadata=meta))


def _sniff(path: Path, head: bytes) -> str:
    """A hint about what a non-safetensors file is."""
    if head.startswith(b"PK\x03\x04"):
        return (
            " It is a zip archive: a PyTorch .pt/.pth file is zipped pickle, which neuronet never "
            "loads because unpickling can run code. Convert it in PyTorch with "
            "safetensors.torch.save_file(torch.load(path), 'model.safetensors')."
        )
    if head[:1] == b"\x80":
        return " It looks like a Python pickle, which neuronet never loads (it can run code)."
    if head[:1] in (b"{", b"["):
        return " It looks like a JSON file, not a safetensors file."
    return ""


def read_safetensors(path, verify: bool = True) -> tuple[dict, dict]:
    """(tensors, metadata) of a safetensors file; arrays are writable NumPy arrays.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: not safetensors, truncated, corrupt, or a checksum mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {str(path)!r}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
    if size < 8:
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file: it has only {size} bytes (truncated "
            "or empty; an interrupted copy?)"
        )
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, ValueError, OSError) as error:
        raise CheckpointError(
            f"{str(path)!r} is not a valid safetensors file ({error}); it is truncated, corrupt "
            f"or another format.{_sniff(path, head)}"
        ) from None
    for name, arr in tensors.items():
        if not arr.flags.writeable:
            tensors[name] = arr.copy()
    stored = metadata.get("neuronet.crc32")
    if verify and stored is not None and stored != checksum(tensors):
        raise CheckpointError(
            f"{str(path)!r} is corrupt: the checksum of its tensor data does not match the one "
            "stored when it was written (bit rot, a partial copy or an edit); use another copy"
        )
    version = metadata.get("neuronet.format_version")
    if version is not None and (not version.isdigit() or int(version) > FORMAT_VERSION):
        raise CheckpointError(
            f"{str(path)!r} has format version {version!r}; this neuronet reads version "
            f"{FORMAT_VERSION} and older. Upgrade neuronet to load it"
        )
    return tensors, metadata


def parse_json(path, metadata: dict, key: str):
    """The JSON document stored under ``key`` in the metadata, with a clear error."""
    try:
        return json.loads(metadata[key])
    except KeyError:
        raise CheckpointError(f"{str(path)!r}: the metadata lacks {key!r}") from None
    except json.JSONDecodeError as error:
        raise CheckpointError(
            f"{str(path)!r}: the metadata entry {key!r} is not valid JSON ({error}); the file "
            "is corrupt"
        ) from None
