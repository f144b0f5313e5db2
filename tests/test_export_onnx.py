"""ONNX export, verified by running the file: ONNX Runtime against the engine's own forward pass.

float64 agrees to 1e-12 and float32 to 1e-5, on fresh inputs (other values, another m) for the
course's models and, as a property, for random computation graphs of the whole op table.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from tinygrad_course import Tensor, ops
from tinygrad_course.autograd import Op
from tinygrad_course.export import OPSET, ExportError, to_onnx
from tinygrad_course.nn import MLP, LeakyReLU, Linear, LogisticRegression, Sequential, Sigmoid
from tinygrad_course.ops import onnx_names
from tinygrad_course.plots import MissingDependencyError
from tinygrad_course.testing import computation_graphs

onnx = pytest.importorskip("onnx", reason="the ONNX tests need the [onnx] extra (onnx, onnxruntime)")
ort = pytest.importorskip("onnxruntime", reason="the ONNX tests need the [onnx] extra (onnx, onnxruntime)")

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def run(path: Path, *inputs: np.ndarray) -> np.ndarray:
    """The file's output in ONNX Runtime (CPU, one thread: the machine is shared)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs, strict=True)))[0]


def assert_same(got: np.ndarray, want: np.ndarray, computed_in: Any = None) -> float:
    """Same shape, dtype and numbers (to the tolerance of the dtype the numbers were computed in,
    the result's unless ``computed_in`` says otherwise); returns the largest difference."""
    assert got.shape == want.shape and got.dtype == want.dtype
    tolerance = max(TOLERANCE[want.dtype], TOLERANCE[np.dtype(computed_in or want.dtype)])
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    return float(np.max(np.abs(got.astype(np.float64) - want), initial=0.0))


def in_float32(model: Any) -> Any:
    """The model with float32 parameters (float32 in, float32 out)."""
    for linear in (layer for layer in [model, *getattr(model, "layers", [])] if isinstance(layer, Linear)):
        linear.W = Tensor(linear.W.data.astype(np.float32), requires_grad=True, name=linear.W.name)
        linear.b = Tensor(linear.b.data.astype(np.float32), requires_grad=True, name=linear.b.name)
    return model


def trained_like(model: Any, seed: int = 0) -> Any:
    """Parameters all non-zero (biases included), as after training."""
    rng = np.random.default_rng(seed)
    model.load_state_dict({name: rng.normal(size=p.shape) for name, p in model.named_parameters()})
    return model


COURSE_MODELS = {
    "MLP relu": lambda: trained_like(MLP([4, 5, 3, 1], "relu", seed=1)),
    "MLP tanh": lambda: trained_like(MLP([2, 4, 1], "tanh", seed=2)),
    "LogisticRegression": lambda: trained_like(LogisticRegression(3)),
    "Sequential": lambda: trained_like(Sequential(Linear(3, 4, rng=0), LeakyReLU(0.01), Linear(4, 2, rng=1),
                                                  Sigmoid(), Linear(2, 1, rng=2))),
}


# --------------------------------------------------------------------------- the table


def test_every_op_of_the_table_has_an_onnx_entry() -> None:
    assert set(onnx_names.ONNX) == set(ops.TABLE)
    for name, entry in onnx_names.ONNX.items():
        assert callable(entry) or (isinstance(entry, onnx_names.NotExpressible) and entry.reason), name


def test_the_onnx_table_imports_without_onnx() -> None:
    code = "import sys, tinygrad_course.ops.onnx_names, tinygrad_course.export; print('onnx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


# --------------------------------------------------------------------------- the course's models


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", COURSE_MODELS)
def test_course_models_run_in_onnx_runtime_for_any_m(kind: str, dtype: type, tmp_path: Path) -> None:
    model = COURSE_MODELS[kind]()
    if dtype is np.float32:
        model = in_float32(model)
    n_x = model.parameters()[0].shape[1]
    rng = np.random.default_rng(1)
    path = to_onnx(model, rng.normal(size=(n_x, 5)).astype(dtype), tmp_path / "model.onnx")
    onnx.checker.check_model(onnx.load(path), full_check=True)
    for m in (1, 7, 300):  # traced on 5 examples, run on other numbers of them
        X = rng.normal(size=(n_x, m)).astype(dtype)
        assert_same(run(path, X), model(X).data)


def test_probabilities_are_sigma_of_the_logits(tmp_path: Path) -> None:
    model = COURSE_MODELS["MLP tanh"]()
    X = np.random.default_rng(2).normal(size=(2, 40)) * 30  # saturated: σ of large |z|
    path = to_onnx(model, X[:, :3], tmp_path / "model.onnx", probabilities=True)
    assert [o.name for o in onnx.load(path).graph.output] == ["A2"]
    assert_same(run(path, X), model.predict_proba(X))


def test_the_file_reads_in_the_course_names(tmp_path: Path) -> None:
    model = COURSE_MODELS["MLP relu"]()
    saved = onnx.load(to_onnx(model, np.ones((4, 2)), tmp_path / "model.onnx"))
    assert [(o.domain, o.version) for o in saved.opset_import] == [("", OPSET)]
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in saved.graph.initializer}
    state = model.state_dict()
    assert set(state) <= set(initializers)
    for name, value in state.items():
        np.testing.assert_array_equal(initializers[name], value)
    (X,) = saved.graph.input
    assert X.name == "X" and [d.dim_value or d.dim_param for d in X.type.tensor_type.shape.dim] == [4, "m"]
    (Z,) = saved.graph.output
    assert Z.name == "Z3" and [d.dim_value or d.dim_param for d in Z.type.tensor_type.shape.dim] == [1, "m"]
    assert [n.op_type for n in saved.graph.node] == ["MatMul", "Add", "Relu"] * 2 + ["MatMul", "Add"]


def test_float32_input_to_a_float64_model_is_cast_as_numpy_promotes(tmp_path: Path) -> None:
    model = COURSE_MODELS["MLP tanh"]()
    X = np.random.default_rng(3).normal(size=(2, 6)).astype(np.float32)
    path = to_onnx(model, X, tmp_path / "model.onnx")
    assert "Cast" in [n.op_type for n in onnx.load(path).graph.node]
    assert_same(run(path, X), model(X).data)


# --------------------------------------------------------------------------- any function of tensors


# As many examples as the profile says: 60 under CI ("ci"), 20 while developing ("dev").
@given(computation_graphs(max_nodes=6))
def test_random_computation_graphs_run_the_same_in_onnx_runtime(graph: Any) -> None:
    rng = np.random.default_rng(len(graph))
    fresh = [np.asarray(x.data * rng.uniform(0.9, 1.1, x.shape)) for x in graph.inputs]
    with tempfile.TemporaryDirectory() as folder:
        path = to_onnx(graph, graph.inputs, Path(folder) / "graph.onnx", batch_axis=None)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        for dtype in (np.float64, np.float32):
            values = [v.astype(dtype) for v in fresh]
            with np.errstate(all="ignore"):  # fresh values may leave an op's domain: NaN on both sides
                want = graph(*[Tensor(v) for v in values]).data
            if dtype is np.float32:
                path = to_onnx(graph, tuple(values), Path(folder) / "graph32.onnx", batch_axis=None)
            # A graph may cast its float32 result to float64 at the end (astype): the numbers
            # were still computed in float32, where ONNX Runtime's tanh may differ in the last bit.
            assert_same(run(path, *values), want, computed_in=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stable_ops_keep_their_relative_precision_where_onnx_runtimes_own_lose_it(dtype: type,
                                                                                  tmp_path: Path) -> None:
    # ONNX Runtime's Sigmoid gives σ(−50) = 0, its Softplus overflows at 800 and LeakyRelu rounds
    # the slope to float32: the file spells out the engine's formulas instead (ops/onnx_names.py).
    z = np.concatenate([np.linspace(-700, 700, 57), [-40.0, -1e-9, 0.0, 1e-9, 800.0]]).astype(dtype)
    for name, fn in (("sigmoid", lambda t: t.sigmoid()), ("softplus", lambda t: t.softplus()),
                     ("leaky_relu", lambda t: t.leaky_relu(0.01)),
                     ("bce_with_logits", lambda t: ops.bce_with_logits(t, t * 0 + 0.25))):
        path = to_onnx(fn, z, tmp_path / f"{name}.onnx")
        with np.errstate(over="ignore"):  # float32 overflows to inf at 800, on both sides
            want = fn(Tensor(z)).data
        np.testing.assert_allclose(run(path, z), want, rtol=TOLERANCE[np.dtype(dtype)], atol=0, err_msg=name)


def test_a_float64_clip_after_relu_starts_an_onnx_runtime_session(tmp_path: Path) -> None:
    # ONNX Runtime 1.32's Relu-Clip fusion refuses float64 Clip bounds: the file uses Max and Min.
    x = np.linspace(-3, 3, 13)
    path = to_onnx(lambda t: t.relu().clip(-1.0, 0.5), x, tmp_path / "clip.onnx")
    assert_same(run(path, x), np.clip(np.maximum(x, 0), -1.0, 0.5))


def test_bce_keeps_log_1_minus_a_exact_for_tiny_a(tmp_path: Path) -> None:
    a, y = np.array([1e-20, 1e-9, 0.3, 0.999]), np.array([0.0, 0.0, 1.0, 0.5])
    path = to_onnx(ops.bce, (a, y), tmp_path / "bce.onnx")
    np.testing.assert_allclose(run(path, a, y), ops.bce(Tensor(a), Tensor(y)).data, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- the m axis and what is refused


def test_a_trace_that_bakes_in_the_traced_m_is_refused_naming_where(tmp_path: Path) -> None:
    X = np.arange(6.0).reshape(2, 3)
    with pytest.raises(ExportError, match=r"depends on the number of examples m at node 1: 'getitem'"):
        to_onnx(lambda t: t[[1, 0]] * 2, X, tmp_path / "f.onnx")   # an integer-array index: positions
    with pytest.raises(ExportError, match=r"at the constant .*of shape \(3,\)"):
        to_onnx(lambda t: t * Tensor(np.arange(t.shape[1])), X, tmp_path / "f.onnx")
    with pytest.raises(ExportError, match=r"fails on m \+ 1 examples .*batch_axis=None"):
        to_onnx(lambda t: t.reshape((3, 2)), X, tmp_path / "f.onnx")
    assert not (tmp_path / "f.onnx").exists()
    path = to_onnx(lambda t: t[[1, 0]] * 2, X, tmp_path / "f.onnx", batch_axis=None)  # the traced shape only
    assert_same(run(path, X + 1), (Tensor(X + 1)[[1, 0]] * 2).data)


def test_basic_indexing_takes_any_m(tmp_path: Path) -> None:
    X = np.arange(12.0).reshape(3, 4)
    indexings = [lambda t: t[0], lambda t: t[1:, ::-1], lambda t: t[..., None, -1], lambda t: t[:, 1:3],
                 lambda t: t[None, -2:, ::2]]
    for k, fn in enumerate(indexings):
        path = to_onnx(fn, X, tmp_path / f"index{k}.onnx")
        for m in (1, 4, 9):
            fresh = np.arange(3.0 * m).reshape(3, m)
            assert_same(run(path, fresh), fn(Tensor(fresh)).data)


def test_an_op_without_an_onnx_entry_is_named_with_its_node(tmp_path: Path) -> None:
    cube = Op("cube", "³", lambda a: a**3, lambda g, out, a: g * 3 * a * a)
    with pytest.raises(ExportError, match=r"op 'cube' has no ONNX entry .*node 2: 'cube' of inputs \(3,\)"):
        to_onnx(lambda x: cube(x.exp()), np.ones(3), tmp_path / "f.onnx")


def test_an_op_marked_not_expressible_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setitem(onnx_names.ONNX, "tanh", onnx_names.NotExpressible("no such operator in ONNX"))
    with pytest.raises(ExportError, match=r"'tanh' cannot be written in ONNX: no such operator in ONNX "
                                          r"\(at node 3 'A1': 'tanh' of inputs \(4, 2\)"):
        to_onnx(MLP([2, 4, 1], "tanh"), np.ones((2, 2)), tmp_path / "f.onnx")


def test_the_identity_exports_and_a_constant_output_is_refused(tmp_path: Path) -> None:
    X = np.arange(4.0).reshape(2, 2)
    assert_same(run(to_onnx(lambda x: x, X, tmp_path / "same.onnx"), X[:, :1]), X[:, :1])
    with pytest.raises(ExportError, match="does not depend on its inputs"):
        to_onnx(lambda x: Tensor(1.0), X, tmp_path / "f.onnx")


def test_bad_arguments_get_library_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_course.errors import InputTypeError, InputValueError

    model, X = MLP([2, 1]), np.ones((2, 3))
    with pytest.raises(InputTypeError, match="one input X"):
        to_onnx(model, (X, X), tmp_path / "f.onnx")
    with pytest.raises(InputTypeError, match="must return one Tensor"):
        to_onnx(lambda x: x.data, X, tmp_path / "f.onnx")
    with pytest.raises(ExportError, match="float16"):
        to_onnx(model, X.astype(np.float16), tmp_path / "f.onnx")
    with pytest.raises(InputValueError, match=r"batch_axis=2\) is not an axis of input 'X' of shape \(2, 3"):
        to_onnx(model, X, tmp_path / "f.onnx", batch_axis=2)
    monkeypatch.setitem(sys.modules, "onnx", None)  # as where the [onnx] extra is not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "tinygrad_course\[onnx\]"'):
        to_onnx(model, X, tmp_path / "f.onnx")


def readme_examples() -> list[str]:
    """The python blocks of the README's section "Outgrowing tinygrad_course", in order."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Outgrowing tinygrad_course\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_onnx_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # it writes flower.onnx
    (onnx_example, *_) = readme_examples()
    assert "to_onnx(" in onnx_example and "assert np.allclose" in onnx_example
    exec(onnx_example, {})
    assert (tmp_path / "flower.onnx").is_file()


def test_the_readme_examples_run_with_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch", reason="PyTorch is not installed (never a dependency); the README's "
                                        "second example uses it")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for example in readme_examples():  # one session, as a reader runs them
        exec(example, namespace)
    assert capsys.readouterr().out == "['0.weight', '0.bias', '2.weight', '2.bias']\n"
