"""Hostile inputs for everything above the engine: nn (models, state, files), optim, train,
datasets (with corrupt cat / non-cat files made here), viz. Each input works (checked) or raises
one of the library's errors naming the argument, and leaves the model's tensors unchanged."""

from __future__ import annotations

import io
import itertools
import zipfile

import numpy as np
import pytest
from hostile import (
    CATEGORIES,
    COUNTS,
    MINIMUM_TOTAL,
    anything,
    attempt,
    float_arrays,
    hostile_settings,
    numbers,
    register_report,
    tensors,
    wrong_objects,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_course import Tensor, datasets, nn, optim, train, viz
from tinygrad_course.viz import Graph

unique = itertools.count()


@pytest.fixture(autouse=True, scope="module")
def _report(request):
    register_report(request.config)


@pytest.fixture(autouse=True)
def _ieee():
    # inf or NaN in X give inf or NaN out, as in numpy; numpy's warnings about them are not tested.
    with np.errstate(all="ignore"):
        yield


def relu_network(params, X):
    """The course's forward pass in numpy: [LINEAR → RELU] → LINEAR, for an MLP([n_x, h, 1])."""
    A1 = np.maximum(params["W1"] @ X + params["b1"], 0)
    return params["W2"] @ A1 + params["b2"]


def course_cost(Z, Y):
    return float(np.mean(np.logaddexp(0, Z) - Y * Z))


sizes = st.one_of(st.integers(-2, 6), st.sampled_from([2.0, True, "3", None, 10**13]), wrong_objects)
seeds = st.one_of(st.none(), st.integers(-5, 2**32 + 5), st.sampled_from([2**200, 1.5, "1", True]),
                  wrong_objects)
inits = st.one_of(st.sampled_from(["zeros", "small", "scaled", "he", "xavier", "Xavier", ""]), wrong_objects)
matrices = st.one_of(
    float_arrays(st.sampled_from([(3, 4), (4, 3), (3, 0), (3,), (1, 3, 4), (3, 1), ()])),
    hnp.arrays(st.sampled_from([np.int64, np.bool_, np.float32, np.uint8]),
               st.sampled_from([(3, 4), (4, 3)])),
    tensors(st.sampled_from([(3, 4), (4, 3), (3, 2)])), wrong_objects,
)


# --------------------------------------------------------------------------- nn


@hostile_settings(150)
@given(what=st.sampled_from(["Linear", "MLP", "LeakyReLU", "Sequential"]), n_in=sizes, n_out=sizes,
       init=inits, seed=seeds, layer_dims=st.one_of(st.lists(sizes, max_size=4), st.tuples(sizes, sizes),
                                                    wrong_objects),
       activation=st.one_of(st.sampled_from(["relu", "tanh", "sigmoid"]), wrong_objects),
       name=st.one_of(st.text(max_size=2), wrong_objects), slope=st.one_of(numbers, anything))
def test_nn_constructors(what, n_in, n_out, init, seed, layer_dims, activation, name, slope):
    calls = {
        "Linear": lambda: nn.Linear(n_in, n_out, init=init, rng=seed, name=name),
        "MLP": lambda: nn.MLP(layer_dims, hidden_activation=activation, init=init, seed=seed),
        "LeakyReLU": lambda: nn.LeakyReLU(slope),
        "Sequential": lambda: nn.Sequential(nn.Linear(2, 2), n_in),
    }
    ok, model = attempt("nn", calls[what], ["n_in", "n_out", "init", "seed", "rng", "name", "layer_dims",
                                            "hidden_activation", "slope", "layer", "memory"])
    if not ok:
        return
    if what == "Linear":
        assert model.W.shape == (n_out, n_in) and np.array_equal(model.b.data, np.zeros((n_out, 1)))
    elif what == "MLP":
        dims = list(layer_dims)
        assert [p.shape for p in model.parameters()] == [
            shape for k in range(1, len(dims)) for shape in ((dims[k], dims[k - 1]), (dims[k], 1))]
    elif what == "LeakyReLU":
        assert model.slope == float(slope) and np.isfinite(model.slope)
    else:
        pytest.fail("Sequential accepted a layer that is not a Module")


MODEL = nn.MLP([3, 4, 1], init="he", seed=0)


@hostile_settings(150)
@given(X=matrices, state=st.one_of(
    st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "W3", 1]), matrices, max_size=5),
    st.just("full"), st.just("full, NaN"), wrong_objects))
def test_models_on_wrong_inputs_and_wrong_state(X, state):
    params = MODEL.parameters()
    ok, Z = attempt("nn", lambda: MODEL(X), ["Linear", "Tensor", "operand", "MLP(X)"], params)
    if ok:
        x = X.data if isinstance(X, Tensor) else np.asarray(X, dtype=np.float64)
        np.testing.assert_allclose(Z.data, relu_network(MODEL.state_dict(), x), rtol=1e-6, atol=1e-12)
    if isinstance(state, str):
        state = {k: v * (np.nan if "NaN" in state else 2.0) for k, v in MODEL.state_dict().items()}
    before = MODEL.state_dict()
    ok, _ = attempt("nn", lambda: MODEL.load_state_dict(state),
                    ["load_state_dict", "parameter", "do not fit", "W1", "b1"], params)
    if ok:
        for name, value in MODEL.state_dict().items():
            np.testing.assert_array_equal(value, np.asarray(values_of(state[name]), dtype=np.float64))
        MODEL.load_state_dict(before)


def values_of(x):
    return x.data if isinstance(x, Tensor) else x


# --------------------------------------------------------------------------- nn files


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def model_file(kind: str, cut: float, folder) -> object:
    """A file (or a non-file argument) of the given kind, built in the test's tmp folder."""
    path = folder / f"model{next(unique)}.npz"
    good = io.BytesIO()
    np.savez(good, **MODEL.state_dict())
    contents = {
        "saved": None, "other architecture": None,
        "truncated": good.getvalue()[: int(len(good.getvalue()) * cut)],
        "garbage": bytes(range(256)) * 3, "empty": b"",
        "one array (.npy)": b"", "pickled objects": npz_bytes(W1=np.array([object()], dtype=object)),
        "wrong keys": npz_bytes(weights=np.ones(3)), "wrong shapes": npz_bytes(W1=np.ones((2, 2))),
        "strings": npz_bytes(**{k: np.full(v.shape, "x") for k, v in MODEL.state_dict().items()}),
    }
    if kind == "saved":
        return MODEL.save(path)
    if kind == "other architecture":
        return nn.MLP([3, 5, 2, 1], seed=1).save(path)
    if kind == "one array (.npy)":
        np.save(folder / f"array{next(unique)}.npy", np.ones(3))
        return next(folder.glob("array*.npy"))
    if kind == "missing":
        return folder / "absent.npz"
    if kind == "folder":
        return folder
    if kind in ("None", "int", "bytes"):
        return {"None": None, "int": 5, "bytes": bytes(path)}[kind]
    path.write_bytes(contents[kind])
    return path


FILE_KINDS = ["saved", "other architecture", "truncated", "garbage", "empty", "one array (.npy)",
              "pickled objects", "wrong keys", "wrong shapes", "strings", "missing", "folder", "None", "int",
              "bytes"]


@hostile_settings(120)
@given(kind=st.sampled_from(FILE_KINDS), cut=st.floats(0, 0.999), save_to=st.sampled_from(
    ["file", "folder", "under a file", "None", "int", "empty str"]))
def test_nn_files(tmp_path, kind, cut, save_to):
    target = nn.MLP([3, 4, 1], seed=7)
    source = model_file(kind, cut, tmp_path)
    ok, _ = attempt("nn files", lambda: target.load(source),
                    ["load", "saved model", "model file", "do not fit", "path"], target.parameters())
    if ok:
        for name, value in target.state_dict().items():
            np.testing.assert_array_equal(value, MODEL.state_dict()[name])
    blocker = tmp_path / f"blocker{next(unique)}"
    blocker.write_text("a file")
    destination = {"file": tmp_path / f"out{next(unique)}.npz", "folder": tmp_path, "None": None, "int": 3,
                   "under a file": blocker / "model.npz", "empty str": ""}[save_to]
    ok, written = attempt("nn files", lambda: target.save(destination), ["save", "path"],
                          target.parameters())
    if ok:
        assert nn.MLP([3, 4, 1], seed=8).load(written).state_dict().keys() == target.state_dict().keys()


# --------------------------------------------------------------------------- optim


@hostile_settings(120)
@given(kind=st.sampled_from(["SGD", "Momentum", "Adam"]), lr=st.one_of(st.floats(1e-3, 1), numbers, anything),
       beta=st.one_of(st.floats(0.1, 0.99), numbers, anything),
       parameters=st.sampled_from(["list", "tuple", "generator", "one tensor", "empty", "not a tensor",
                                   "constant", "computed", "twice", "None", "int", "str"]))
def test_optim(kind, lr, beta, parameters):
    w = Tensor([[1.0, -2.0]], requires_grad=True)
    given_parameters = {
        "list": [w], "tuple": (w,), "generator": (p for p in [w]), "one tensor": w, "empty": [],
        "not a tensor": [w, 3.0], "constant": [Tensor([1.0])], "computed": [w * 2], "twice": [w, w],
        "None": None, "int": 5, "str": "w",
    }[parameters]
    make = {
        "SGD": lambda: optim.SGD(given_parameters, lr=lr),
        "Momentum": lambda: optim.Momentum(given_parameters, lr=lr, beta=beta),
        "Adam": lambda: optim.Adam(given_parameters, lr=lr, beta1=beta),
    }[kind]
    ok, optimizer = attempt("optim", make, ["parameter", "lr", "beta"], [w])
    if not ok:
        return
    w.grad = np.array([[0.5, 0.5]])
    optimizer.step()
    if kind == "SGD":
        np.testing.assert_allclose(w.data, [[1.0 - lr * 0.5, -2.0 - lr * 0.5]])
    elif kind == "Momentum":
        step = lr * (1 - beta) * 0.5
        np.testing.assert_allclose(w.data, [[1.0 - step, -2.0 - step]])
    else:  # Adam's first step moves every weight by lr (times √ŝ / (√ŝ + ε) ≈ 1)
        np.testing.assert_allclose(w.data, [[1.0 - lr, -2.0 - lr]], rtol=1e-6)


# --------------------------------------------------------------------------- train

X_GOOD, Y_GOOD = datasets.planar_flower(8, seed=3)
X_GOOD = np.r_[X_GOOD, X_GOOD[:1]]  # n_x = 3, to match the model
data_sets = st.sampled_from(["good", "X as (m, n_x)", "Y as (m, 1)", "Y 1-D", "Y = 2", "Y = 0.5", "Y NaN",
                             "X NaN", "X inf", "m differs", "m = 0", "int X", "bool Y", "X str", "Y None",
                             "X huge"])


def data_for(kind):
    X, Y = X_GOOD.copy(), Y_GOOD.copy().astype(np.float64)
    changes = {
        "X as (m, n_x)": lambda: (X.T, Y), "Y as (m, 1)": lambda: (X, Y.T), "Y 1-D": lambda: (X, Y[0]),
        "Y = 2": lambda: (X, np.where(Y == 1, 2.0, 0.0)), "Y = 0.5": lambda: (X, Y * 0.5),
        "Y NaN": lambda: (X, np.where(Y == 1, np.nan, 0.0)), "X NaN": lambda: (X * np.nan, Y),
        "X inf": lambda: (X * np.inf, Y), "m differs": lambda: (X[:, :5], Y),
        "m = 0": lambda: (X[:, :0], Y[:, :0]),
        "int X": lambda: (X.astype(np.int64), Y), "bool Y": lambda: (X, Y.astype(bool)),
        "X str": lambda: ("X", Y), "Y None": lambda: (X, None), "X huge": lambda: (X * 1e200, Y),
    }
    return changes.get(kind, lambda: (X, Y))()


@hostile_settings(150)
@given(kind=data_sets, what=st.sampled_from(["fit", "predict", "accuracy", "evaluate"]),
       lr=st.one_of(st.floats(1e-3, 1.0), st.sampled_from([None, 0, -1, np.nan, 1e300, "0.1"])),
       iterations=st.one_of(st.integers(0, 3), st.sampled_from([-1, 2.0, None, True])),
       loss=st.sampled_from(["default", "not callable", "returns a number", "returns a vector"]),
       model=st.sampled_from(["MLP", "not a model", "Sequential"]))
def test_train(kind, what, lr, iterations, loss, model):
    X, Y = data_for(kind)
    net = nn.MLP([3, 4, 1], init="he", seed=1)
    start = net.state_dict()
    given_model = {"MLP": net, "not a model": "net", "Sequential": nn.Sequential(nn.Linear(3, 1))}[model]
    before = {"W": given_model.layers[0].W.data.copy(), "b": given_model.layers[0].b.data.copy()} \
        if model == "Sequential" else None
    losses = {"default": train.binary_cross_entropy_with_logits, "not callable": "bce",
              "returns a number": lambda Z, Y: 0.5, "returns a vector": lambda Z, Y: Z}
    calls = {
        "fit": lambda: train.fit(given_model, X, Y, loss=losses[loss], lr=lr, iterations=iterations,
                                 progress=False),
        "predict": lambda: train.predict(given_model, X),
        "accuracy": lambda: train.accuracy(given_model, X, Y),
        "evaluate": lambda: train.evaluate(given_model, X, Y, loss=losses[loss]),
    }
    ok, result = attempt("train", calls[what], ["X", "Y", "lr", "iterations", "loss", "model", "Module",
                                                 "classifier", "diverged", "optimizer", "record_every"],
                         net.parameters())
    if not ok:
        return
    x = np.asarray(X, dtype=np.float64)
    Z0 = relu_network(start, x) if given_model is net else before["W"] @ x + before["b"]
    if what == "fit":
        assert kind in ("good", "int X", "bool Y", "X huge")
        assert len(result.costs) == (1 if iterations else 0)
        if iterations:
            expected = course_cost(Z0, np.asarray(Y, dtype=float))
            np.testing.assert_allclose(result.costs[0], expected, rtol=1e-9)
    elif what == "predict":
        np.testing.assert_array_equal(result, (Z0 > 0).astype(np.int64))
    elif what == "accuracy":
        assert result == np.mean((Z0 > 0) == np.asarray(Y))
    else:
        np.testing.assert_allclose(result, course_cost(Z0, np.asarray(Y, dtype=float)), rtol=1e-9)
    if what != "fit":
        for name, value in net.state_dict().items():
            np.testing.assert_array_equal(value, start[name])


# --------------------------------------------------------------------------- datasets


@hostile_settings(150)
@given(name=st.sampled_from(["planar_flower", "moons", "circles", "blobs"]),
       m=st.one_of(st.integers(-2, 30), st.sampled_from([10**12, 4.0, "8", None, True])),
       seed=seeds, extra=st.one_of(st.floats(0, 0.9), numbers, anything))
def test_datasets(name, m, seed, extra):
    keyword = {"planar_flower": None, "moons": "noise", "circles": "factor", "blobs": "std"}[name]
    generate = getattr(datasets, name)
    arguments = {"m": m, "seed": seed} | ({keyword: extra} if keyword else {})
    ok, result = attempt("datasets", lambda: generate(**arguments), ["m", "seed", "noise", "factor", "std"])
    if ok:
        X, Y = result
        assert X.shape == (2, m) and Y.shape == (1, m)
        assert np.isfinite(X).all() and set(np.unique(Y)) <= {0, 1}
        if seed is not None:  # the same seed draws the same points
            np.testing.assert_array_equal(generate(**arguments)[0], X)


def cat_arrays(kind):
    rng = np.random.default_rng(0)
    arrays = {
        "train_x": rng.integers(0, 256, (3, 4, 4, 3), dtype=np.uint8), "train_y": np.array([0, 1, 1]),
        "test_x": rng.integers(0, 256, (2, 4, 4, 3), dtype=np.uint8), "test_y": np.array([1, 0]),
        "classes": np.array(["non-cat", "cat"]),
    }
    changes = {
        "missing key": lambda: arrays.pop("test_y"),
        "float images": lambda: arrays.update(train_x=np.ones((3, 4, 4, 3))),
        "grey images": lambda: arrays.update(test_x=np.zeros((2, 4, 4), np.uint8)),
        "labels 2": lambda: arrays.update(train_y=np.array([0, 2, 1])),
        "labels too few": lambda: arrays.update(test_y=np.array([1])),
        "labels as strings": lambda: arrays.update(test_y=np.array(["a", "b"])),
        "labels (1, m)": lambda: arrays.update(train_y=np.array([[0, 1, 1]])),
        "three classes": lambda: arrays.update(classes=np.array(["a", "b", "c"])),
        "bytes classes": lambda: arrays.update(classes=np.array([b"a", b"b"])),
        "no images": lambda: arrays.update(train_x=np.zeros((0, 4, 4, 3), np.uint8),
                                           train_y=np.zeros(0, int)),
    }
    changes.get(kind, lambda: None)()
    return arrays


CAT_KINDS = ["good", "missing key", "float images", "grey images", "labels 2", "labels too few",
             "labels as strings", "labels (1, m)", "three classes", "bytes classes", "no images", "truncated",
             "garbage", "empty", "npy", "bad zip member", "folder with it", "folder without it", "missing",
             "int", "None"]


@hostile_settings(120)
@given(kind=st.sampled_from(CAT_KINDS), cut=st.floats(0, 0.999))
def test_catvnoncat_files(tmp_path, monkeypatch, kind, cut):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    folder = tmp_path / f"case{next(unique)}"
    folder.mkdir()
    path = folder / datasets.CAT_FILE
    good = npz_bytes(**cat_arrays("good"))
    if kind == "truncated":
        path.write_bytes(good[: int(len(good) * cut)])
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "npy":
        np.save(folder / "x.npy", np.ones(3))
        (folder / "x.npy").rename(path)
    elif kind == "bad zip member":  # a valid zip whose member is not a .npy array
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("train_x.npy", b"not an array")
    elif kind not in ("folder without it", "missing", "int", "None"):
        path.write_bytes(npz_bytes(**cat_arrays("good" if kind == "folder with it" else kind)))
    argument = {"folder with it": folder, "folder without it": folder, "missing": folder / "absent.npz",
                "int": 7, "None": None}.get(kind, path)
    ok, data = attempt("cat/non-cat files", lambda: datasets.load_catvnoncat(argument),
                       ["cat / non-cat", "path", "DATA", "classes", "_x", "_y"])
    if not ok:  # numpy's own advice for a bad file is to unpickle it: never passed on
        assert "allow_pickle" not in str(data) and "pickle.load" not in str(data), str(data)
        assert not str(data).endswith(".."), str(data)
    if ok:
        arrays = cat_arrays("no images" if kind == "no images" else "good")
        images = arrays["train_x"]
        expected = images.reshape(images.shape[0], 4 * 4 * 3).T / 255
        np.testing.assert_array_equal(data.X_train, expected)
        np.testing.assert_array_equal(data.Y_train, arrays["train_y"].reshape(1, -1))
        assert data.classes == ("non-cat", "cat")


# --------------------------------------------------------------------------- viz


def lesson_graph():
    a, b, c = (Tensor(v, requires_grad=True, name=n) for v, n in ((5.0, "a"), (3.0, "b"), (2.0, "c")))
    return (3 * (a + b * c)).named("J"), a


@hostile_settings(150)
@given(what=st.sampled_from(["graph", "save", "explain", "steps", "Tensor.graph"]),
       target=st.sampled_from(["J", "constant", "not a tensor"]),
       backward=st.one_of(st.booleans(), anything),
       highlight=st.sampled_from(["none", "a", "other", "list", "int"]),
       max_nodes=st.one_of(st.none(), st.integers(-1, 40), st.sampled_from([3.0, "10", True])),
       rankdir=st.one_of(st.none(), st.sampled_from(["LR", "TB", "lr", "XY", ""]), wrong_objects),
       title=st.one_of(st.none(), st.text(max_size=5), wrong_objects),
       suffix=st.sampled_from([".dot", ".gv", ".txt", "", ".jpg", "/"]),
       path_kind=st.sampled_from(["path", "str", "None", "int", "bytes", "under a file"]),
       file=st.sampled_from(["none", "buffer", "str"]))
def test_viz(tmp_path, what, target, backward, highlight, max_nodes, rankdir, title, suffix, path_kind, file):
    J, a = lesson_graph()
    t = {"J": J, "constant": Tensor([1.0, 2.0]) * 2, "not a tensor": 5.0}[target]
    marked = {"none": None, "a": a, "other": Tensor(1.0), "list": [a, "b"], "int": 4}[highlight]
    params = [J, a]
    mentions = ["Tensor", "backward", "highlight", "max_nodes", "rankdir", "title", "legend", "format",
                "suffix", "path", "file", "save", "folder", "requires_grad"]
    if what in ("graph", "Tensor.graph"):
        draw = (lambda: viz.graph(t, backward=backward, highlight=marked, max_nodes=max_nodes,
                                  rankdir=rankdir, title=title)) if what == "graph" else (
            lambda: J.graph(backward=backward, max_nodes=max_nodes, rankdir=rankdir, title=title))
        ok, picture = attempt("viz", draw, mentions, params)
        if ok:
            assert isinstance(picture, Graph) and picture.source.startswith("digraph")
            drawn = J if what == "Tensor.graph" else t
            assert isinstance(drawn, Tensor) and (title is None or isinstance(title, str))
            assert drawn.requires_grad or not backward  # the backward view needs a gradient to show
    elif what == "save":
        picture = viz.graph(J)
        blocker = tmp_path / f"blocker{next(unique)}"
        blocker.write_text("x")
        name = f"g{next(unique)}{suffix}"
        path = {"path": tmp_path / name, "str": str(tmp_path / name), "None": None, "int": 1,
                "bytes": bytes(tmp_path / name), "under a file": blocker / "g.dot"}[path_kind]
        ok, written = attempt("viz", lambda: picture.save(path), mentions, params)
        if ok:
            assert written.read_text(encoding="utf-8") == picture.source
    elif what == "explain":
        out = {"none": None, "buffer": io.StringIO(), "str": "explain.txt"}[file]
        ok, _ = attempt("viz", lambda: viz.explain(t, file=out if out is not None else io.StringIO()),
                        mentions, params)
        if ok:
            assert out is None or out.getvalue().startswith("dJ/dJ = 1")
    else:
        ok, frames = attempt("viz", lambda: viz.steps(t, max_nodes=max_nodes, rankdir=rankdir,
                                                      max_steps=max_nodes if max_nodes is not None else 200),
                             mentions, params)
        if ok:
            assert len(frames) == 6 and all(f.caption.startswith("Step") for f in frames)


# --------------------------------------------------------------------------- the total


def test_the_suite_tried_at_least_a_thousand_hostile_inputs():
    """Runs last; only meaningful when the whole hostile suite ran (not with -k or one file)."""
    if set(CATEGORIES) - set(COUNTS):
        pytest.skip(f"not every hostile category ran: missing {sorted(set(CATEGORIES) - set(COUNTS))}")
    assert sum(COUNTS.values()) >= MINIMUM_TOTAL, dict(COUNTS)
