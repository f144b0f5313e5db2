"""The data sets: the flower as the course defines it, the 2-D sets, the cat loader and its errors."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_course import InputValueError
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
    ({"test_y": None}, "the arrays test_y are missing"),
    ({"train_x": np.zeros((4, 8, 8), np.uint8)}, r"train_x must be RGB images \(m, height, width, 3\)"),
    ({"train_y": np.array([0, 1, 2, 1])}, "train_y must hold one label 0 or 1 per image"),
    ({"classes": np.array([0, 1])}, "classes must be two names"),
])
def test_wrong_format_files_are_named(tmp_path, overrides, message):
    with pytest.raises(DataFormatError, match=message):
        load_catvnoncat(write_cats(tmp_path / "cats.npz", **overrides))


def test_a_file_that_is_not_an_archive(tmp_path):
    (tmp_path / "cats.npz").write_bytes(b"\x89HDF\r\n\x1a\n not an npz")
    with pytest.raises(DataFormatError, match=r"is not a cat / non-cat data file"):
        load_catvnoncat(tmp_path / "cats.npz")
    objects = write_cats(tmp_path / "objects.npz", train_x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataFormatError, match="Object arrays cannot be loaded when allow_pickle=False"):
        load_catvnoncat(objects)
