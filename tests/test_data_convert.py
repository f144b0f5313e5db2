"""`python -m tinygrad_course data convert`: the course's two .h5 files to the .npz the loader reads.

The .h5 files are written here, small, in the course's layout (train_set_x (m, 64, 64, 3) uint8,
train_set_y (m,) int64, list_classes [b'non-cat', b'cat']; the same with test_); the layouts it
must refuse are variations of them.
"""

import os
import re

import numpy as np
import pytest

from tinygrad_course.__main__ import main
from tinygrad_course.datasets import DataFormatError, convert_catvnoncat, load_catvnoncat
from tinygrad_course.errors import MissingDependencyError

h5py = pytest.importorskip("h5py", reason="the converter needs the optional extra 'h5' (h5py)")

CLASSES = np.array([b"non-cat", b"cat"], dtype="S7")


def course_h5(path, part, m, seed, **replace):
    """One of the course's files: images, labels and list_classes as its datasets name them."""
    rng = np.random.default_rng(seed)
    datasets = {f"{part}_set_x": rng.integers(0, 256, (m, 64, 64, 3), dtype=np.uint8),
                f"{part}_set_y": rng.integers(0, 2, m).astype(np.int64), "list_classes": CLASSES}
    datasets.update(replace)
    with h5py.File(path, "w") as file:
        for name, value in datasets.items():
            if value is not None:
                file.create_dataset(name, data=value)
    return datasets


def test_the_converted_file_loads_as_the_course_prepares_it(tmp_path, capsys):
    train = course_h5(tmp_path / "train_catvnoncat.h5", "train", 5, seed=0)
    test = course_h5(tmp_path / "test_catvnoncat.h5", "test", 3, seed=1)
    out = tmp_path / "data" / "catvnoncat.npz"
    files = [str(tmp_path / "train_catvnoncat.h5"), str(tmp_path / "test_catvnoncat.h5")]
    assert main(["data", "convert", *files, "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {out}: use it with --data-path {out}")
    cats = load_catvnoncat(out)
    # The course's preprocessing: X = images.reshape(m, -1).T / 255, Y = labels.reshape(1, -1).
    np.testing.assert_array_equal(cats.X_train, train["train_set_x"].reshape(5, -1).T / 255)
    np.testing.assert_array_equal(cats.Y_train, train["train_set_y"].reshape(1, -1))
    np.testing.assert_array_equal(cats.X_test, test["test_set_x"].reshape(3, -1).T / 255)
    np.testing.assert_array_equal(cats.Y_test, test["test_set_y"].reshape(1, -1))
    assert cats.classes == ("non-cat", "cat")
    with np.load(out, allow_pickle=False) as arrays:      # the layout of shared/data/catvnoncat.npz
        assert sorted(arrays) == ["classes", "test_x", "test_y", "train_x", "train_y"]
        assert arrays["classes"].dtype == np.dtype("<U7") and arrays["train_x"].dtype == np.uint8


def test_labels_stored_as_floats_0_and_1_are_read_as_the_loader_reads_them(tmp_path):
    """One check for images and labels serves the .h5 files and the .npz: 0.0 / 1.0 are labels too."""
    labels = np.array([0.0, 1.0, 1.0, 0.0])
    train_path, test_path = write_pair(tmp_path, train={"train_set_y": labels})
    cats = load_catvnoncat(convert_catvnoncat(train_path, test_path, tmp_path / "cats.npz"))
    assert cats.Y_train.dtype == np.int64
    np.testing.assert_array_equal(cats.Y_train, [[0, 1, 1, 0]])


def write_pair(tmp_path, train=None, test=None):
    course_h5(tmp_path / "train.h5", "train", 4, seed=0, **(train or {}))
    course_h5(tmp_path / "test.h5", "test", 2, seed=1, **(test or {}))
    return tmp_path / "train.h5", tmp_path / "test.h5"


@pytest.mark.parametrize(("train", "test", "message"), [
    ({"train_set_y": None}, None, r"TRAIN: '.*train\.h5' lacks train_set_y \(it has list_classes, "
                                  r"train_set_x\); expected the course's train_catvnoncat\.h5: the datasets "
                                  r"train_set_x"),
    ({"train_set_x": np.zeros((4, 64, 64), np.uint8)}, None,
     r"TRAIN: .*: train_set_x must be RGB images \(m, height, width, 3\) of uint8, got uint8 of shape "
     r"\(4, 64, 64\)"),
    ({"train_set_x": np.zeros((4, 64, 64, 3))}, None, r"train_set_x must be RGB images .* got float64"),
    (None, {"test_set_y": np.full(2, 3)}, r"TEST: .*: test_set_y must hold one label 0 or 1 per image \(2\)"),
    (None, {"list_classes": np.array([b"cat"])}, r"TEST: .*: list_classes must be two names"),
    (None, {"list_classes": np.array([b"dog", b"cat"])}, r"the two files name their classes differently"),
])
def test_a_file_not_in_the_courses_layout_is_refused(tmp_path, capsys, train, test, message):
    train_path, test_path = write_pair(tmp_path, train, test)
    out = tmp_path / "cats.npz"
    assert main(["data", "convert", str(train_path), str(test_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert re.search(message, err), err
    assert not out.exists()


def test_the_two_files_given_the_wrong_way_round_are_named(tmp_path):
    train_path, test_path = write_pair(tmp_path)
    with pytest.raises(DataFormatError, match=r"convert_catvnoncat\(train\): .*test\.h5' lacks train_set_x, "
                                              r"train_set_y .* It looks like the test file: give the train "
                                              r"file first, then the test file\."):
        convert_catvnoncat(test_path, train_path, tmp_path / "cats.npz")


def test_a_file_that_is_not_hdf5_or_not_there_or_an_output_that_is_not_npz(tmp_path):
    train_path, test_path = write_pair(tmp_path)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an HDF5 file")
    with pytest.raises(DataFormatError, match=r"convert_catvnoncat\(test\): '.*junk\.h5' is not an HDF5"):
        convert_catvnoncat(train_path, junk, tmp_path / "cats.npz")
    with pytest.raises(FileNotFoundError, match=r"convert_catvnoncat\(train\): '.*nowhere\.h5': no such"):
        convert_catvnoncat(tmp_path / "nowhere.h5", test_path, tmp_path / "cats.npz")
    with pytest.raises(ValueError, match=r"convert_catvnoncat\(out\): '.*cats\.zip' must end in \.npz"):
        convert_catvnoncat(train_path, test_path, tmp_path / "cats.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.h5", "test.h5", "train.h5"]


def test_the_archive_follows_the_umask(tmp_path):
    train_path, test_path = write_pair(tmp_path)
    old = os.umask(0o027)
    try:
        written = convert_catvnoncat(train_path, test_path, tmp_path / "cats.npz")
    finally:
        os.umask(old)
    assert oct(written.stat().st_mode & 0o777) == oct(0o640)


def test_without_h5py_the_install_command_is_given(tmp_path, block_import):
    block_import("h5py")
    with pytest.raises(MissingDependencyError, match=r'needs h5py, which is not installed: pip install '
                                                     r'"tinygrad_course\[h5\]"'):
        convert_catvnoncat(tmp_path / "train.h5", tmp_path / "test.h5", tmp_path / "cats.npz")
