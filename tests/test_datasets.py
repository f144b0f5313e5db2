"""The data sets: the flower as the course defines it, the 2-D sets, the cat loader and its errors."""

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_course import FileAccessError, InputTypeError, InputValueError
from tinygrad_course._checks import read_npz
from tinygrad_course.datasets import (
    DataFormatError,
    DataNotFoundError,
    blobs,
    circles,
    load_catvnoncat,
    moons,
    planar_flower,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "catvnoncat.npz"
needs_cats = pytest.mark.skipif(
    not DATA.is_file(), reason=f"the course's cat / non-cat data is not at {DATA} (see shared/data/README.md)"
)


def test_planar_flower_follows_the_courses_definition():
    X, Y = planar_flower()
    np.random.seed(1)  # the course's load_planar_dataset, written out from its definition
    N, a = 200, 4
    rows, labels = [], []
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        rows.append(np.c_[r * np.sin(t), r * np.cos(t)])
        labels.append(np.full(N, j))
    np.testing.assert_array_equal(X, np.concatenate(rows).T)
    np.testing.assert_array_equal(Y, np.concatenate(labels).reshape(1, -1))
    assert X.shape == (2, 400) and Y.shape == (1, 400)


def test_planar_flower_size_and_seed():
    X, Y = planar_flower(m=10, seed=3)
    assert X.shape == (2, 10) and Y.tolist() == [[0] * 5 + [1] * 5]
    assert not np.array_equal(planar_flower(seed=3)[0], planar_flower(seed=4)[0])
    with pytest.raises(InputValueError, match=r"m .* must be an even integer"):
        planar_flower(m=401)


@pytest.mark.parametrize("make", [moons, circles, blobs])
def test_two_dimensional_sets_are_seeded_balanced_and_in_the_courses_layout(make):
    X, Y = make(m=101, seed=5)
    assert X.shape == (2, 101) and Y.shape == (1, 101)
    assert set(np.unique(Y)) == {0, 1} and abs(int(Y.sum()) - 50) <= 1
    np.testing.assert_array_equal(make(m=101, seed=5)[0], X)
    assert not np.array_equal(make(m=101, seed=6)[0], X)
    assert np.isfinite(X).all()


def test_circles_are_concentric_and_blobs_are_apart():
    X, Y = circles(m=400, noise=0.0, factor=0.5)
    radius = np.hypot(*X)
    np.testing.assert_allclose(radius[Y[0] == 0], 1.0)
    np.testing.assert_allclose(radius[Y[0] == 1], 0.5)
    X, Y = blobs(m=400, distance=10.0, std=0.1)
    assert np.all(X[:, Y[0] == 0].sum(axis=0) < 0) and np.all(X[:, Y[0] == 1].sum(axis=0) > 0)


@needs_cats
def test_cat_loader_flattens_and_scales_as_the_course():
    cats = load_catvnoncat(DATA)
    assert cats.X_train.shape == (12288, 209) and cats.Y_train.shape == (1, 209)
    assert cats.X_test.shape == (12288, 50) and cats.Y_test.shape == (1, 50)
    assert cats.classes == ("non-cat", "cat")
    assert int(cats.Y_train.sum()) == 72 and int(cats.Y_test.sum()) == 33
    # The assignment's checks of the flattening, on the pixel values before dividing by 255.
    np.testing.assert_allclose(cats.X_train[0:5, 0] * 255, [17, 31, 56, 22, 33])
    second_train = [196, 192, 190, 193, 186, 182, 188, 179, 174, 213]
    np.testing.assert_allclose(cats.X_train[0:10, 1] * 255, second_train)
    np.testing.assert_allclose(cats.X_test[0:10, 1] * 255, [115, 110, 111, 137, 129, 129, 155, 146, 145, 159])
    assert round(cats.X_train.sum() * 255) == 264542077


@needs_cats
def test_cat_loader_reads_the_environment_variable_file_or_folder(monkeypatch):
    monkeypatch.setenv("TINYGRAD_COURSE_DATA", str(DATA))
    assert load_catvnoncat().X_test.shape == (12288, 50)
    monkeypatch.setenv("TINYGRAD_COURSE_DATA", str(DATA.parent))
    assert load_catvnoncat().Y_test.shape == (1, 50)


def test_missing_cat_data_names_both_ways_to_supply_it(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYGRAD_COURSE_DATA", raising=False)
    with pytest.raises(DataNotFoundError) as error:
        load_catvnoncat()
    assert "load_catvnoncat(path=" in str(error.value) and "TINYGRAD_COURSE_DATA=" in str(error.value)
    with pytest.raises(FileNotFoundError, match=r"no cat / non-cat data at .*absent\.npz' \(from path\)"):
        load_catvnoncat(tmp_path / "absent.npz")
    monkeypatch.setenv("TINYGRAD_COURSE_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="from the environment variable TINYGRAD_COURSE_DATA"):
        load_catvnoncat()


def write_cats(path, **overrides):
    arrays = {"train_x": np.zeros((4, 8, 8, 3), np.uint8), "train_y": np.array([0, 1, 0, 1]),
              "test_x": np.zeros((2, 8, 8, 3), np.uint8), "test_y": np.array([1, 0]),
              "classes": np.array(["non-cat", "cat"])}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_a_small_file_in_the_format_loads(tmp_path):
    cats = load_catvnoncat(write_cats(tmp_path / "cats.npz"))
    assert cats.X_train.shape == (192, 4) and cats.Y_test.tolist() == [[1, 0]]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"test_y": None}, "lacks the arrays test_y"),
    ({"train_x": np.zeros((4, 8, 8), np.uint8)}, r"train_x must be RGB images \(m, height, width, 3\)"),
    ({"train_y": np.array([0, 1, 2, 1])}, "train_y must hold one label 0 or 1 per image"),
    ({"classes": np.array([0, 1])}, "classes must be two names"),
])
def test_wrong_format_files_are_named(tmp_path, overrides, message):
    with pytest.raises(DataFormatError, match=message):
        load_catvnoncat(write_cats(tmp_path / "cats.npz", **overrides))


EXPECTED = ("expected the cat / non-cat file made by `python -m tinygrad_course data convert "
            "train_catvnoncat.h5 test_catvnoncat.h5` (the arrays train_x, train_y, test_x, test_y, classes).")


def refused(path, *, argument="load_catvnoncat(path)"):
    """The DataFormatError of loading ``path``, checked to name the argument, the file and the format."""
    with pytest.raises(DataFormatError) as error:
        load_catvnoncat(path)
    message = str(error.value)
    assert message.startswith(f"{argument}: {str(path)!r} ")
    assert message.endswith(EXPECTED) and not message.endswith("..")
    assert "pickle=" not in message and "pickle.load" not in message  # never an invitation to unpickle
    return message


@pytest.mark.parametrize(("contents", "problem"), [
    (b"\x89HDF\r\n\x1a\n not an npz", "is not a .npz archive (a zip of .npy arrays); "),
    (b"hello, this is text", "is not a .npz archive (a zip of .npy arrays); "),
    (b"", "is empty (0 bytes), not a .npz archive (a zip of .npy arrays); "),
    (pickle.dumps({"train_x": 1}), "is not a .npz archive (a zip of .npy arrays) (it looks like a Python "
                                   "pickle, which is never loaded: it can run code); "),
])
def test_a_file_that_is_not_an_archive_gets_a_plain_message(tmp_path, contents, problem):
    (tmp_path / "cats.npz").write_bytes(contents)
    message = refused(tmp_path / "cats.npz")
    assert f"'{tmp_path / 'cats.npz'}' {problem}" in message


def test_object_arrays_are_refused_without_suggesting_unsafe_loading(tmp_path):
    objects = write_cats(tmp_path / "objects.npz", train_x=np.array([{"a": 1}], dtype=object))
    message = refused(objects)
    assert "holds 'train_x' as an array of Python objects (dtype object), which is never loaded" in message


def test_single_arrays_foreign_members_and_truncated_files(tmp_path):
    single = tmp_path / "single.npz"
    with open(single, "wb") as file:
        np.save(file, np.ones(3))
    assert "holds a single .npy array, not a .npz archive" in refused(single)
    foreign = tmp_path / "foreign.npz"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("train_x.npy", b"not an array")
    assert "holds 'train_x.npy', which is not a .npy array" in refused(foreign)
    good = write_cats(tmp_path / "good.npz").read_bytes()
    for cut in (0.1, 0.5, 0.9, 0.99):
        (tmp_path / "cut.npz").write_bytes(good[: int(len(good) * cut)])
        assert "is truncated or damaged" in refused(tmp_path / "cut.npz")


def test_missing_arrays_are_listed_with_what_the_file_has(tmp_path):
    message = refused(write_cats(tmp_path / "cats.npz", test_y=None, classes=None))
    assert "lacks the arrays classes, test_y (it has test_x, train_x, train_y); " in message


def test_a_bad_file_from_the_environment_variable_names_the_variable(tmp_path, monkeypatch):
    (tmp_path / "cats.npz").write_bytes(b"junk")
    monkeypatch.setenv("TINYGRAD_COURSE_DATA", str(tmp_path / "cats.npz"))
    with pytest.raises(DataFormatError, match=r"^TINYGRAD_COURSE_DATA: '.*cats\.npz' is not a \.npz archive"):
        load_catvnoncat()


# --------------------------------------------------------------------------- the shared .npz reader


def test_read_npz_reads_what_numpy_savez_writes(tmp_path):
    arrays = {"fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)), "scalar": np.array(3.5),
              "empty": np.zeros((0, 4)), "text": np.array(["x", "yy"]), "flags": np.array([True, False]),
              "records": np.zeros(2, dtype=[("x", "f8"), ("y", "i4")]), "complex": np.array([1 + 2j])}
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "a.npz", **arrays)
        read = read_npz(tmp_path / "a.npz", "test(path)")
        assert read.keys() == arrays.keys()
        for name, array in arrays.items():
            assert read[name].dtype == array.dtype
            np.testing.assert_array_equal(read[name], array)


def test_read_npz_errors_name_the_argument_the_path_and_what_was_expected(tmp_path):
    with pytest.raises(FileAccessError,
                       match=r"^save\(path\): '.*absent\.npz': no such file; expected an \.npz"):
        read_npz(tmp_path / "absent.npz", "save(path)")
    with pytest.raises(DataNotFoundError, match="no such file; expected a model"):
        read_npz(tmp_path / "absent.npz", "load(path)", expected="a model", missing=DataNotFoundError)
    with pytest.raises(FileAccessError, match=r"^load\(path\): '.*' is a folder; expected a file: an \.npz"):
        read_npz(tmp_path, "load(path)")
    with pytest.raises(InputTypeError, match=r"load\(path\) must be a file path"):
        read_npz(3, "load(path)")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(InputValueError, match=r"^load\(path\): '.*junk\.npz' is not a \.npz archive .*; "
                                              r"expected a model file\.$"):
        read_npz(tmp_path / "junk.npz", "load(path)", expected="a model file.")


def test_read_npz_checks_a_header_before_allocating_its_array(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("W.npy", header.getvalue() + bytes(16))
    with pytest.raises(InputValueError, match=r"'W' claims shape \(1000000000000,\) of float64 "
                                              r"\(8000000000000 bytes\), but its member holds \d+ bytes"):
        read_npz(tmp_path / "huge.npz", "load(path)")
