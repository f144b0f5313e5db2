"""The course's data sets, in its layout: ``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)`` labels 0/1.

Built in (numpy only, seeded): ``planar_flower`` (the course's "flower"), ``moons``,
``circles``, ``blobs``. From a file: ``load_catvnoncat`` (the course's cat / non-cat images;
the file is not shipped with this package, see ``load_catvnoncat``), and ``convert_catvnoncat``,
which makes that file from the course's ``train_catvnoncat.h5`` and ``test_catvnoncat.h5``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _checks
from .errors import FileAccessError, InputValueError, MissingDependencyError, TinygradCourseError

#: The environment variable ``load_catvnoncat`` reads when no path is given.
DATA_ENV = "TINYGRAD_COURSE_DATA"
CAT_FILE = "catvnoncat.npz"


class DataNotFoundError(TinygradCourseError, FileNotFoundError):
    """The cat / non-cat file was not given or does not exist."""


class DataFormatError(InputValueError):
    """A data file that is not in the expected format."""


#: More examples than any lesson needs and than memory holds as float64 (16 bytes per point).
MAX_EXAMPLES = 10**8


def _size(m: object, even: bool = False) -> int:
    if (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 2 <= m <= MAX_EXAMPLES
            or (even and m % 2)):
        kind = "an even integer ≥ 2 (half the points per class)" if even else "an integer ≥ 2"
        raise InputValueError(f"m (the number of examples) must be {kind} and at most {MAX_EXAMPLES:.0e}, "
                              f"got {m!r}.")
    return int(m)


def _columns(points: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of points → the course's ``X (n_x, m)`` and ``Y (1, m)``."""
    return points.T.copy(), labels.reshape(1, -1).astype(np.int64)


def planar_flower(m: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The course's "flower": two classes of ``m/2`` points on the petals of ``r = 4 sin 4t``.

    As the course defines it: ``np.random.seed(seed)``; for class ``j`` = 0, then 1:
    ``t = linspace(3.12 j, 3.12 (j+1), m/2) + 0.2·randn(m/2)`` and ``r = 4 sin(4t) + 0.2·randn(m/2)``;
    the points are ``(r sin t, r cos t)``, labelled ``j``. Returns ``X (2, m)``, ``Y (1, m)``.
    """
    m = _size(m, even=True)
    seed = _checks.seed(seed)
    # RandomState(seed) draws what np.random.seed(seed) + np.random.randn draw, and leaves
    # numpy's global generator alone.
    rng = np.random.RandomState(seed)
    n, a = m // 2, 4
    points, labels = np.zeros((m, 2)), np.zeros(m)
    for j in range(2):
        rows = slice(n * j, n * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, n) + rng.randn(n) * 0.2
        r = a * np.sin(4 * t) + rng.randn(n) * 0.2
        points[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        labels[rows] = j
    return _columns(points, labels)


def moons(m: int = 400, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: class 0 the upper one, class 1 the lower one shifted right."""
    m = _size(m)
    noise = _checks.real(noise, "noise", minimum=0)
    rng = np.random.default_rng(_checks.seed(seed, maximum=2**128))
    n0 = m // 2
    upper = np.linspace(0, np.pi, n0)
    lower = np.linspace(0, np.pi, m - n0)
    points = np.r_[np.c_[np.cos(upper), np.sin(upper)], np.c_[1 - np.cos(lower), 0.5 - np.sin(lower)]]
    points += noise * rng.standard_normal(points.shape)
    return _columns(points, np.r_[np.zeros(n0), np.ones(m - n0)])


def circles(m: int = 400, noise: float = 0.1, factor: float = 0.5,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` inside it."""
    m = _size(m)
    noise = _checks.real(noise, "noise", minimum=0)
    if not 0 < _checks.real(factor, "factor") < 1:
        raise InputValueError(f"factor (inner radius / outer radius) must lie in (0, 1), got {factor!r}.")
    rng = np.random.default_rng(_checks.seed(seed, maximum=2**128))
    n0 = m // 2
    outer = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    inner = np.linspace(0, 2 * np.pi, m - n0, endpoint=False)
    points = np.r_[np.c_[np.cos(outer), np.sin(outer)], factor * np.c_[np.cos(inner), np.sin(inner)]]
    points += noise * rng.standard_normal(points.shape)
    return _columns(points, np.r_[np.zeros(n0), np.ones(m - n0)])


def blobs(m: int = 400, distance: float = 4.0, std: float = 1.0,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds of standard deviation ``std``, centred ``distance`` apart on a diagonal."""
    m = _size(m)
    distance = _checks.real(distance, "distance")
    std = _checks.real(std, "std", minimum=0)
    rng = np.random.default_rng(_checks.seed(seed, maximum=2**128))
    n0 = m // 2
    centre = np.full(2, distance / (2 * np.sqrt(2)))
    noise = std * rng.standard_normal((m, 2))
    points = np.r_[noise[:n0] - centre, noise[n0:] + centre]
    return _columns(points, np.r_[np.zeros(n0), np.ones(m - n0)])


class CatVsNonCat(NamedTuple):
    """The course's cat / non-cat set: 209 training and 50 test images of 64 × 64 × 3 pixels.

    ``X_train (12288, 209)`` and ``X_test (12288, 50)`` hold one flattened image per column,
    scaled to [0, 1]; ``Y_train (1, 209)``, ``Y_test (1, 50)`` are 1 for cat, 0 for non-cat;
    ``classes[label]`` is the class name. ``X[:, i].reshape(64, 64, 3)`` is image ``i`` again.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    classes: tuple[str, ...]


#: What a cat / non-cat file is, for the messages.
CAT_FORMAT = ("the cat / non-cat file made by `python -m tinygrad_course data convert train_catvnoncat.h5 "
              "test_catvnoncat.h5` (the arrays train_x, train_y, test_x, test_y, classes)")
_CAT_ARRAYS = ("train_x", "train_y", "test_x", "test_y", "classes")


def _cat_file(path: str | os.PathLike[str] | None, what: str) -> tuple[Path, str]:
    """The file to read, and how to name where it came from in the messages."""
    how = (f"pass load_catvnoncat(path='/path/to/{CAT_FILE}') (the train command: --data-path FILE), "
           f"or set the environment variable {DATA_ENV}=/path/to/{CAT_FILE}")
    if path is None:
        from_env = os.environ.get(DATA_ENV)
        if not from_env:
            raise DataNotFoundError(
                f"the cat / non-cat data is not bundled with tinygrad_course; {how}. The file is the "
                "course's datasets/train_catvnoncat.h5 and test_catvnoncat.h5 converted to one .npz "
                "archive: python -m tinygrad_course data convert train_catvnoncat.h5 test_catvnoncat.h5 "
                f"--out {CAT_FILE}"
            )
        path, source, what = from_env, f"the environment variable {DATA_ENV}", DATA_ENV
    else:
        source = "path"
    file = _checks.path(path, what)
    if file.is_dir():
        file = file / CAT_FILE
    if not file.is_file():
        raise DataNotFoundError(f"no cat / non-cat data at {str(file)!r} (from {source}); {how}.")
    return file, what


def load_catvnoncat(path: str | os.PathLike[str] | None = None) -> CatVsNonCat:
    """Read the cat / non-cat ``.npz`` from ``path``, or from ``$TINYGRAD_COURSE_DATA`` when not given.

    Either may name the file or the folder holding ``catvnoncat.npz``. Applies the course's
    preprocessing: ``X = images.reshape(m, -1).T / 255``, ``Y = labels.reshape(1, -1)``.
    """
    return _load_catvnoncat(path, "load_catvnoncat(path)")


def _check_images_and_labels(images: np.ndarray, labels: np.ndarray, shown: str, names: tuple[str, str],
                             expected: str = "") -> None:
    """RGB images ``(m, height, width, 3)`` of uint8 and one label 0 or 1 per image, or a
    ``DataFormatError`` that names the array (``names``: the file's names for the two) and what it holds."""
    x_name, y_name = names
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise DataFormatError(f"{shown}: {x_name} must be RGB images (m, height, width, 3) of uint8, got "
                              f"{images.dtype} of shape {images.shape}{expected}.")
    if (labels.shape != (images.shape[0],) or labels.dtype.kind not in "biuf"
            or not np.isin(labels, (0, 1)).all()):
        raise DataFormatError(f"{shown}: {y_name} must hold one label 0 or 1 per image ({images.shape[0]}), "
                              f"got {labels.dtype} of shape {labels.shape}{expected}.")


def _load_catvnoncat(path: str | os.PathLike[str] | None, what: str) -> CatVsNonCat:
    """``load_catvnoncat``, naming the argument as ``what`` (the command line says ``--data-path``)."""
    file, what = _cat_file(path, what)
    arrays = _checks.read_npz(file, what, expected=CAT_FORMAT, missing=DataNotFoundError,
                              malformed=DataFormatError)
    missing = set(_CAT_ARRAYS) - set(arrays)
    if missing:
        raise DataFormatError(f"{what}: {str(file)!r} lacks the arrays {', '.join(sorted(missing))} (it has "
                              f"{', '.join(sorted(arrays)) or 'none'}); expected {CAT_FORMAT}.")
    classes = arrays["classes"]
    if classes.dtype.kind != "U" or classes.shape != (2,):
        raise DataFormatError(f"{what}: {str(file)!r}: classes must be two names such as ['non-cat', 'cat'], "
                              f"got {classes.dtype} of shape {classes.shape}.")
    split = {}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_x"], arrays[f"{part}_y"]
        _check_images_and_labels(images, labels, f"{what}: {str(file)!r}", (f"{part}_x", f"{part}_y"))
        # The pixel count spelled out: reshape(0, -1) of an empty set cannot infer it.
        pixels = int(np.prod(images.shape[1:]))
        split[part] = (images.reshape(images.shape[0], pixels).T / 255.0,
                       labels.reshape(1, -1).astype(np.int64))
    return CatVsNonCat(*split["train"], *split["test"], tuple(str(c) for c in classes))


# --------------------------------------------------------------------------- the course's .h5 files

#: The datasets of the course's two HDF5 files, and what each holds.
H5_LAYOUT = {"train": ("train_set_x", "train_set_y"), "test": ("test_set_x", "test_set_y")}
_H5_FORMAT = ("the course's {part}_catvnoncat.h5: the datasets {x} (m, 64, 64, 3) of uint8 pixels, "
              "{y} (m,) of labels 0/1 and list_classes [b'non-cat', b'cat']")


def _read_course_h5(file: Path, part: str, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images, labels and class names of one of the course's .h5 files, checked against its layout."""
    import h5py

    x_name, y_name = H5_LAYOUT[part]
    expected = _H5_FORMAT.format(part=part, x=x_name, y=y_name)
    shown = f"{what}: {str(file)!r}"
    if file.is_dir() or not file.is_file():
        error = DataFormatError if file.is_dir() else DataNotFoundError
        raise error(f"{shown}: {'a folder' if file.is_dir() else 'no such file'}; expected {expected}.")
    try:
        with h5py.File(file, "r") as h5:
            names = sorted(h5.keys())
            missing = [name for name in (x_name, y_name, "list_classes") if name not in h5]
            if missing:
                other = next((p for p in H5_LAYOUT if p != part and H5_LAYOUT[p][0] in h5), None)
                hint = f" It looks like the {other} file: give the train file first, then the test file." \
                    if other else ""
                raise DataFormatError(f"{shown} lacks {', '.join(missing)} (it has "
                                      f"{', '.join(names) or 'nothing'}); expected {expected}.{hint}")
            if not all(isinstance(h5[name], h5py.Dataset) for name in (x_name, y_name, "list_classes")):
                raise DataFormatError(f"{shown}: {x_name}, {y_name} and list_classes must be datasets, not "
                                      f"groups; expected {expected}.")
            images, labels, classes = h5[x_name][()], h5[y_name][()], h5["list_classes"][()]
    except OSError as error:  # h5py's "file signature not found": not an HDF5 file at all
        raise DataFormatError(f"{shown} is not an HDF5 file ({error}); expected {expected}.") from None
    _check_images_and_labels(images, labels, shown, (x_name, y_name), f"; expected {expected}")
    if classes.shape != (2,) or classes.dtype.kind not in "SU":
        raise DataFormatError(f"{shown}: list_classes must be two names such as [b'non-cat', b'cat'], got "
                              f"{classes.dtype} of shape {classes.shape}; expected {expected}.")
    names = np.array([c.decode("ascii") if isinstance(c, bytes) else str(c) for c in classes])
    return images, labels.astype(np.int64), names


def convert_catvnoncat(train: str | os.PathLike[str], test: str | os.PathLike[str],
                       out: str | os.PathLike[str] = CAT_FILE) -> Path:
    """Write the course's ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` as one ``.npz``.

    The arrays are copied unchanged into ``train_x``, ``train_y``, ``test_x``, ``test_y``, and
    ``list_classes`` is decoded from bytes to text into ``classes``, so that ``load_catvnoncat``
    reads the result without pickle. A file that is not in the course's layout is refused with
    ``DataFormatError``. Needs h5py, the optional extra ``h5``. Returns the path written.
    """
    return _convert_catvnoncat(train, test, out, ("convert_catvnoncat(train)", "convert_catvnoncat(test)",
                                                  "convert_catvnoncat(out)"))


def _convert_catvnoncat(train: str | os.PathLike[str], test: str | os.PathLike[str],
                        out: str | os.PathLike[str], what: tuple[str, str, str]) -> Path:
    """``convert_catvnoncat``, naming its arguments as ``what`` (the command line: TRAIN, TEST, --out)."""
    train_file, test_file = _checks.path(train, what[0]), _checks.path(test, what[1])
    target = _checks.output_file(out, what[2], f"a file name for the archive, such as {CAT_FILE}")
    if target.suffix != ".npz":
        raise InputValueError(f"{what[2]}: {str(target)!r} must end in .npz (numpy would add the suffix "
                              f"itself and write another file), such as {CAT_FILE}.")
    try:
        import h5py  # noqa: F401
    except ImportError:
        raise MissingDependencyError("reading the course's .h5 files needs h5py, which is not installed: "
                                     'pip install "tinygrad_course[h5]" (from a clone: pip install -e '
                                     '".[h5]"), or pip install h5py.') from None
    train_x, train_y, train_classes = _read_course_h5(train_file, "train", what[0])
    test_x, test_y, test_classes = _read_course_h5(test_file, "test", what[1])
    if list(train_classes) != list(test_classes):
        raise DataFormatError(f"the two files name their classes differently ({list(train_classes)} and "
                              f"{list(test_classes)}); the course's both hold [b'non-cat', b'cat'].")
    try:
        with _checks.replacing(target) as file:
            np.savez_compressed(file, train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                                classes=train_classes)
    except OSError as error:
        raise FileAccessError(f"{what[2]}: cannot write {str(target)!r}: "
                              f"{error.strerror or error}.") from None
    return target
