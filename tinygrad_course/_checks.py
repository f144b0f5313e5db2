"""Argument checks shared by the modules, for the cold paths (constructors, settings, files).

Each returns the argument in its plain form or raises the library's error naming the argument,
what it got and what it expects. None of them runs inside an op.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import FileAccessError, InputTypeError, InputValueError, TinygradCourseError

#: numpy's legacy ``RandomState(seed)`` (the course's ``np.random.seed``) takes seeds up to this.
MAX_SEED = 2**32 - 1


def flag(value: object, what: str) -> bool:
    """``True`` or ``False`` (numpy's ``bool_`` too); ``"no"`` or ``[1, 0]`` would be silently truthy."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise InputTypeError(f"{what} must be True or False, got {value!r:.60}.")


def real(value: object, what: str, minimum: float | None = None) -> float:
    """A finite real number (not a bool), at least ``minimum`` when given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(f"{what} must be a real number, got {value!r:.60}.")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float64, e.g. 10**400
        number = math.inf
    if not math.isfinite(number):
        raise InputValueError(f"{what} must be a finite number, got {value!r:.60}.")
    if minimum is not None and number < minimum:
        raise InputValueError(f"{what} must be at least {minimum:g}, got {value!r:.60}.")
    return number


def whole(value: object, what: str, least: int) -> int:
    """An integer (numpy's too, not a bool) of at least ``least``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{what} must be a whole number ≥ {least}, got {type(value).__name__} "
                             f"{value!r:.60}.")
    if value < least:
        raise InputValueError(f"{what} must be a whole number ≥ {least}, got {value!r}.")
    return int(value)


def seed(value: object, what: str = "seed", maximum: int = MAX_SEED) -> int | None:
    """``None`` or an integer in [0, maximum]: what numpy's generators accept as a seed."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{what} must be an integer or None, got {value!r:.60}.")
    if not 0 <= value <= maximum:
        raise InputValueError(f"{what} must lie between 0 and {maximum}, got {value!r}.")
    return int(value)


def path(value: object, what: str) -> Path:
    """A file system path given as ``str`` or ``pathlib.Path`` (any ``os.PathLike`` of str)."""
    if isinstance(value, str) and value:
        return Path(value)
    if isinstance(value, os.PathLike):
        spelled = os.fspath(value)
        if isinstance(spelled, str) and spelled:
            return Path(spelled)
    raise InputTypeError(f"{what} must be a file path (a non-empty str or pathlib.Path), got {value!r:.60}.")


# --------------------------------------------------------------------------- files written


def _sentence(text: str) -> str:
    """``text`` ending in exactly one full stop (messages are built from parts that may have one)."""
    return text.rstrip().rstrip(".") + "."


def _creatable(target: Path, what: str, expected: str) -> None:
    """``target`` can be made: its nearest existing ancestor is a folder this process may write in."""
    for ancestor in target.parents:
        with _file_access(what, target, expected):
            if ancestor.exists():
                if not ancestor.is_dir():
                    raise FileAccessError(
                        f"{what}: cannot create {str(target)!r}, because {str(ancestor)!r} is a file, not a "
                        f"folder; {_sentence(f'expected {expected}')}")
                if not os.access(ancestor, os.W_OK | os.X_OK):
                    raise FileAccessError(
                        f"{what}: cannot create {str(target)!r}: no permission to write in the folder "
                        f"{str(ancestor)!r}; {_sentence(f'expected {expected}')}")
                return
            if os.path.lexists(ancestor):
                raise FileAccessError(f"{what}: cannot create {str(target)!r}: {str(ancestor)!r} is a broken "
                                      f"link; {_sentence(f'expected {expected}')}")


@contextlib.contextmanager
def _file_access(what: str, file: Path, expected: str) -> Iterator[None]:
    """Any OSError of the checks inside (a path too long, a loop of links, ...) as FileAccessError."""
    try:
        yield
    except TinygradCourseError:
        raise
    except OSError as error:
        raise FileAccessError(f"{what}: cannot use {str(file)!r}: {error.strerror or error}; "
                              f"{_sentence(f'expected {expected}')}") from None


def output_file(value: object, what: str, expected: str = "a file name such as out.png") -> Path:
    """A path a file can be written to, checked before any work is done; nothing is created.

    Refused with ``FileAccessError`` naming ``what``: a folder at the path, a file where one of
    its folders should be, a folder or file this process may not write. The folders leading to
    it may be missing (the writer makes them).
    """
    file = path(value, what)
    with _file_access(what, file, expected):
        if file.is_dir():
            raise FileAccessError(f"{what}: {str(file)!r} is a folder; {_sentence(f'expected {expected}')}")
        if file.exists() and not os.access(file, os.W_OK):
            raise FileAccessError(f"{what}: {str(file)!r} exists and may not be overwritten (no write "
                                  f"permission); {_sentence(f'expected {expected}')}")
    _creatable(file, what, expected)
    return file


def output_folder(value: object, what: str, expected: str = "a folder (created if missing)") -> Path:
    """A path a folder can be made at (or already is), checked before any work; nothing is created."""
    folder = path(value, what)
    with _file_access(what, folder, expected):
        if folder.exists():
            if not folder.is_dir():
                raise FileAccessError(f"{what}: {str(folder)!r} is a file, not a folder; "
                                      f"{_sentence(f'expected {expected}')}")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise FileAccessError(f"{what}: no permission to write in the folder {str(folder)!r}; "
                                      f"{_sentence(f'expected {expected}')}")
            return folder
    _creatable(folder, what, expected)
    return folder


@contextlib.contextmanager
def replacing(file: Path) -> Iterator[BinaryIO]:
    """A new file written beside ``file`` and renamed onto it at the end, so an interruption never
    leaves half a file; an error inside removes it. Its mode follows the user's umask like any
    file ``open`` creates (``tempfile.mkstemp`` would make it 0600, readable by its owner only).
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        temporary = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
        try:
            handle = open(temporary, "xb")  # noqa: SIM115 - closed below, before the rename
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {str(file)!r}")
    try:
        with handle:
            yield handle
        os.replace(temporary, file)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- .npz files read

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
#: What a damaged zip or .npy member can raise inside zipfile, zlib and numpy.lib.format.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error, NotImplementedError,
            RuntimeError, OverflowError, MemoryError)


def read_npz(value: object, what: str, *,
             expected: str = "an .npz archive of numpy arrays, as numpy.savez writes",
             missing: type[TinygradCourseError] = FileAccessError,
             malformed: type[TinygradCourseError] = InputValueError) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive at ``value``, read safely: pickle is never used.

    ``what`` names the argument in the messages (e.g. ``"load(path)"``), ``expected`` describes
    the file that was expected. Raises ``missing`` (no file there), ``FileAccessError`` (a
    folder, or the file cannot be read) or ``malformed`` (not a zip of ``.npy`` arrays, a single
    ``.npy`` array, a member that is not a ``.npy`` array, an array of Python objects, truncated
    or damaged data); each message names ``what``, the path, what is wrong and ``expected``.
    """
    file = path(value, what)
    shown = f"{what}: {str(file)!r}"
    wanted = _sentence(f"expected {expected}")

    def bad(problem: str) -> TinygradCourseError:
        return malformed(f"{shown} {problem}; {wanted}")

    try:
        # Our own file handle: closed whatever happens half-way (no ResourceWarning).
        with open(file, "rb") as handle:
            start = handle.read(6)
            if not start:
                raise bad("is empty (0 bytes), not a .npz archive (a zip of .npy arrays)")
            if start.startswith(_NPY_MAGIC):
                raise bad("holds a single .npy array, not a .npz archive (a zip of .npy arrays)")
            if not start.startswith(_ZIP_MAGICS):
                looks = " (it looks like a Python pickle, which is never loaded: it can run code)" \
                    if start[:1] == b"\x80" else ""
                raise bad(f"is not a .npz archive (a zip of .npy arrays){looks}")
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                return {_npz_key(info.filename): _member(archive, info, bad) for info in archive.infolist()}
    except TinygradCourseError:
        raise
    except FileNotFoundError:
        raise missing(f"{shown}: no such file; {wanted}") from None
    except IsADirectoryError:
        raise FileAccessError(f"{shown} is a folder; {_sentence(f'expected a file: {expected}')}") from None
    except _DAMAGED as error:  # before OSError: zipfile.BadZipFile is not one, but be explicit
        raise bad(f"is truncated or damaged ({type(error).__name__}: {str(error).rstrip('.')})") from None
    except OSError as error:  # no permission, an I/O error, ...
        raise FileAccessError(f"{shown} cannot be read: {error.strerror or error}; {wanted}") from None


def _npz_key(name: str) -> str:
    return name[:-4] if name.endswith(".npy") else name


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
            bad: Callable[[str], TinygradCourseError]) -> np.ndarray:
    """One ``.npy`` member, its header checked before any array is allocated."""
    if info.is_dir() or not info.filename.endswith(".npy"):
        raise bad(f"holds {info.filename!r}, which is not a .npy array")
    name = _npz_key(info.filename)
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError:
            raise bad(f"holds {info.filename!r}, which is not a .npy array") from None
        if version in ((1, 0), (2, 0)):
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(member)
            if dtype.hasobject:
                raise bad(f"holds {name!r} as an array of Python objects (dtype {dtype}), which is never "
                          "loaded because reading it could run code")
            needed = math.prod(shape) * dtype.itemsize
            if needed > info.file_size:
                raise bad(f"is truncated or damaged: {name!r} claims shape {shape} of {dtype} "
                          f"({needed} bytes), but its member holds {info.file_size} bytes")
    with archive.open(info) as member:
        try:
            return np.lib.format.read_array(member, allow_pickle=False)
        except ValueError as error:
            if "allow_pickle" in str(error):  # a version 3.0 header of an object array
                raise bad(f"holds {name!r} as an array of Python objects, which is never loaded because "
                          "reading it could run code") from None
            raise
