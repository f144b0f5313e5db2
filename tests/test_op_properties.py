"""Property tests for every primitive in ``ops.TABLE`` and every composite in ``functional``.

Each op has one entry in ``CASES``: a hypothesis strategy drawing a ``Case`` — a function that
applies the op, and its input tensors (random shapes, broadcastable pairs, values from the
op's domain). Every case must pass, for every draw:

* ``gradcheck``: backward agrees with float64 central differences, and ``x.grad.shape == x.shape``;
* ``gradgradcheck``: second derivatives agree too (away from kinks every op is twice
  differentiable, and the domains keep the values away from kinks);
* float32 in, float32 out, for the values and the gradients.

The tests are parametrized over ``ops.TABLE`` itself, so an op added to the table without an
entry here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from property_cases import assert_float32_in_float32_out, untied_pairs

from tinygrad_course import Tensor, concatenate, functional, maximum, minimum, ops, stack, where
from tinygrad_course.autograd import topological_order
from tinygrad_course.testing import (
    ComputationGraph,
    broadcastable_shapes,
    computation_graphs,
    gradcheck,
    gradgradcheck,
    shapes,
    tensors,
)

# Small tensors: gradcheck perturbs every element, and 64 elements show every broadcasting case.
SMALL = {"max_dims": 3, "max_side": 4}
WIDE = st.floats(-20.0, 20.0)  # saturated sigmoid, tanh and softplus must stay exact too


@dataclass
class Case:
    """``fn(*inputs)`` applies the op under test; ``tags`` say which variant was drawn."""

    text: str
    fn: Callable[..., Tensor]
    inputs: tuple[Tensor, ...]
    tags: frozenset[str] = field(default_factory=frozenset)

    def __repr__(self) -> str:
        values = ", ".join(f"{x.shape}: {x._data.tolist()!r}" for x in self.inputs)
        return f"Case({self.text} at {values})"


def _broadcast_tags(*shapes_: tuple[int, ...]) -> frozenset[str]:
    tags = set()
    if len({len(s) for s in shapes_}) > 1:
        tags.add("missing leading axes")
    result = np.broadcast_shapes(*shapes_)
    for s in shapes_:
        for side, full in zip(s[::-1], result[::-1], strict=False):
            if side == 1 and full > 1:
                tags.add("size-1 axis stretched")
    return frozenset(tags)


def _binary(text: str, fn: Callable[[Tensor, Tensor], Tensor], domain_a: str = "real",
            domain_b: str = "real") -> st.SearchStrategy[Case]:
    @st.composite
    def strategy(draw: Any) -> Case:
        shape_a, shape_b = draw(broadcastable_shapes(2, **SMALL))
        a, b = draw(tensors(shape_a, domain=domain_a)), draw(tensors(shape_b, domain=domain_b))
        return Case(text, fn, (a, b), _broadcast_tags(shape_a, shape_b))
    return strategy()


def _unary(text: str, fn: Callable[[Tensor], Tensor], domain: str | None = "real",
           elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[Case]:
    return tensors(shapes(**SMALL), domain=domain, elements=elements).map(lambda x: Case(text, fn, (x,)))


def _selection(text: str, fn: Callable[[Tensor, Tensor], Tensor]) -> st.SearchStrategy[Case]:
    """maximum / minimum: a and b drawn as one set of distinct values, so they never tie."""
    return untied_pairs(**SMALL).map(lambda ab: Case(text, fn, ab, _broadcast_tags(ab[0].shape, ab[1].shape)))


@st.composite
def _axis(draw: Any, ndim: int) -> tuple[Any, str]:
    """None, one axis (maybe negative) or a tuple of distinct axes, with a tag naming the kind."""
    if ndim == 0:
        return None, "axis=None"
    kind = draw(st.sampled_from(["axis=None", "axis int", "axis tuple"]))
    if kind == "axis=None":
        return None, kind
    if kind == "axis int":
        return draw(st.integers(-ndim, ndim - 1)), kind
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen), kind


def _reduction(name: str, domain: str) -> st.SearchStrategy[Case]:
    @st.composite
    def strategy(draw: Any) -> Case:
        x = draw(tensors(shapes(**SMALL), domain=domain))
        axis, kind = draw(_axis(x.ndim))
        keepdims = draw(st.booleans())
        tags = {kind} | ({"keepdims"} if keepdims else set())
        return Case(f"x.{name}(axis={axis!r}, keepdims={keepdims})",
                    lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), (x,), frozenset(tags))
    return strategy()


@st.composite
def _matmul(draw: Any) -> Case:
    kind = draw(st.sampled_from(["matrix @ matrix", "matrix @ vector", "vector @ matrix", "vector @ vector",
                                 "batched @ batched", "batched @ vector", "vector @ batched"]))
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, min_dims=1, max_dims=2, max_side=3))
    shape_a, shape_b = {
        "matrix @ matrix": ((n, k), (k, m)),        # Z = W @ A: (n[l], n[l-1]) @ (n[l-1], m)
        "matrix @ vector": ((n, k), (k,)),
        "vector @ matrix": ((k,), (k, m)),
        "vector @ vector": ((k,), (k,)),
        "batched @ batched": ((*batch_a, n, k), (*batch_b, k, m)),
        "batched @ vector": ((*batch_a, n, k), (k,)),
        "vector @ batched": ((k,), (*batch_b, k, m)),
    }[kind]
    a, b = draw(tensors(shape_a)), draw(tensors(shape_b))
    return Case(f"a @ b ({kind})", lambda x, y: x @ y, (a, b), frozenset({kind}))


# A permutation (or None: x.T), each axis written as a positive or a negative index; the core bug
# negative axes once hit stays pinned down by test_transpose_with_negative_axes_backpropagates.
@st.composite
def _transpose(draw: Any) -> Case:
    x = draw(tensors(shapes(**SMALL)))
    axes = draw(st.none() | st.permutations(range(x.ndim)).flatmap(
        lambda order: st.tuples(*[st.sampled_from([axis, axis - x.ndim]) for axis in order])))
    if axes is None:
        return Case("x.T", lambda t: t.T, (x,))
    return Case(f"x.transpose{axes}", lambda t: t.transpose(axes), (x,))


@st.composite
def _reshape(draw: Any) -> Case:
    x = draw(tensors(shapes(**SMALL)))
    target = draw(st.sampled_from([(-1,), x.shape[::-1], (1, *x.shape), (*x.shape, 1), (x.size, 1)]))
    return Case(f"x.reshape({target})", lambda t: t.reshape(target), (x,))


@st.composite
def _broadcast_to(draw: Any) -> Case:
    shape, other = draw(broadcastable_shapes(2, **SMALL))
    target = np.broadcast_shapes(shape, other)
    return Case(f"x.broadcast_to({target})", lambda t: t.broadcast_to(target), (draw(tensors(shape)),),
                _broadcast_tags(shape, target))


@st.composite
def _index(draw: Any, shape: tuple[int, ...]) -> tuple[Any, str]:
    """An index for an array of ``shape``, of every kind numpy has, with a tag naming it."""
    kind = draw(st.sampled_from(["slice", "int", "integer array", "boolean mask", "row mask", "mixed"]))
    first = shape[0]
    if kind == "slice":
        steps = st.sampled_from([1, 2, -1, -2])
        index = tuple(slice(draw(st.integers(-n, n)), draw(st.integers(-n, n)), draw(steps)) for n in shape)
        return index, kind
    if kind == "int":
        return tuple(draw(st.integers(-n, n - 1)) for n in shape[: draw(st.integers(1, len(shape)))]), kind
    if kind == "integer array":
        rows = draw(st.lists(st.integers(-first, first - 1), min_size=1, max_size=6))
        repeats = len({r % first for r in rows}) < len(rows)
        return np.array(rows, dtype=np.intp), "integer array with repeats" if repeats else kind
    if kind == "boolean mask":
        return draw(hnp.arrays(np.bool_, shape)), kind
    if kind == "row mask":
        return draw(hnp.arrays(np.bool_, (first,))), "boolean mask"
    rows = np.array(draw(st.lists(st.integers(0, first - 1), min_size=1, max_size=4)), dtype=np.intp)
    return (rows, slice(None, None, -1)) if len(shape) > 1 else (rows,), kind


@st.composite
def _getitem(draw: Any) -> Case:
    x = draw(tensors(shapes(min_dims=1, **SMALL)))
    index, kind = draw(_index(x.shape))
    return Case(f"x[{index!r}]", lambda t: t[index], (x,), frozenset({kind}))


@st.composite
def _scatter_add(draw: Any) -> Case:
    """The adjoint of getitem: g's rows added into zeros of ``shape`` (repeated rows add up)."""
    shape = draw(shapes(min_dims=1, **SMALL))
    if draw(st.booleans()):
        rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
        index: Any = np.array(rows, dtype=np.intp)
        tag = "integer array with repeats" if len(set(rows)) < len(rows) else "integer array"
    else:
        index, tag = slice(draw(st.integers(0, shape[0])), None), "slice"
    x = draw(tensors(np.zeros(shape)[index].shape))
    return Case(f"ops.scatter_add(x, index={index!r}, shape={shape})",
                lambda t: ops.scatter_add(t, index=index, shape=shape), (x,), frozenset({tag}))


@st.composite
def _clip(draw: Any) -> Case:
    bounds = st.none() | st.integers(-4, 4).map(lambda k: k / 2)  # multiples of ½: kept away from values
    low, high = draw(bounds), draw(bounds)
    if low is None and high is None:
        low = -0.5
    if low is not None and high is not None and low > high:
        low, high = high, low
    x = draw(tensors(shapes(**SMALL), domain="away_from_kinks"))
    return Case(f"x.clip({low}, {high})", lambda t: t.clip(low, high), (x,))


@st.composite
def _where(draw: Any) -> Case:
    shape_c, shape_a, shape_b = draw(broadcastable_shapes(3, **SMALL))
    condition = draw(hnp.arrays(np.bool_, shape_c))
    a, b = draw(tensors(shape_a)), draw(tensors(shape_b))
    return Case(f"where({condition.tolist()!r}, a, b)", lambda x, y: where(condition, x, y), (a, b),
                _broadcast_tags(shape_c, shape_a, shape_b))


@st.composite
def _concatenate(draw: Any) -> Case:
    base = draw(shapes(min_dims=1, **SMALL))
    axis = draw(st.integers(-len(base), len(base) - 1))
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = draw(st.integers(1, 3))
        pieces.append(draw(tensors(tuple(shape))))
    return Case(f"concatenate([...{len(pieces)}], axis={axis})",
                lambda *ts: concatenate(list(ts), axis=axis), tuple(pieces))


@st.composite
def _stack(draw: Any) -> Case:
    shape = draw(shapes(**SMALL))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    pieces = tuple(draw(tensors(shape)) for _ in range(draw(st.integers(1, 3))))
    return Case(f"stack([...{len(pieces)}], axis={axis})", lambda *ts: stack(list(ts), axis=axis), pieces)


@st.composite
def _leaky_relu(draw: Any) -> Case:
    slope = draw(st.sampled_from([0.01, 0.1, 0.3]))
    x = draw(tensors(shapes(**SMALL), domain="away_from_kinks"))
    return Case(f"x.leaky_relu({slope})", lambda t: t.leaky_relu(slope), (x,))


#: One strategy per op in the op table.
CASES: dict[str, st.SearchStrategy[Case]] = {
    "add": _binary("a + b", lambda a, b: a + b),
    "sub": _binary("a - b", lambda a, b: a - b),
    "mul": _binary("a * b", lambda a, b: a * b),
    "div": _binary("a / b", lambda a, b: a / b, domain_b="nonzero"),
    "pow": _binary("a ** b", lambda a, b: a ** b, domain_a="positive"),
    "neg": _unary("-x", lambda x: -x),
    "matmul": _matmul(),
    "transpose": _transpose(),
    "reshape": _reshape(),
    "broadcast_to": _broadcast_to(),
    "getitem": _getitem(),
    "scatter_add": _scatter_add(),
    "sum": _reduction("sum", "real"),
    "mean": _reduction("mean", "real"),
    "max": _reduction("max", "away_from_kinks"),
    "exp": _unary("x.exp()", lambda x: x.exp()),
    "log": _unary("x.log()", lambda x: x.log(), domain="positive"),
    "sqrt": _unary("x.sqrt()", lambda x: x.sqrt(), domain="positive"),
    "abs": _unary("x.abs()", lambda x: x.abs(), domain="away_from_kinks"),
    "relu": _unary("x.relu()", lambda x: x.relu(), domain="away_from_kinks"),
    "leaky_relu": _leaky_relu(),
    "sigmoid": _unary("x.sigmoid()", lambda x: x.sigmoid(), domain=None, elements=WIDE),
    "tanh": _unary("x.tanh()", lambda x: x.tanh(), domain=None, elements=WIDE),
    "softplus": _unary("x.softplus()", lambda x: x.softplus(), domain=None, elements=WIDE),
    "bce_with_logits": _binary("ops.bce_with_logits(z, y)", ops.bce_with_logits, domain_b="unit_interval"),
    "bce": _binary("ops.bce(a, y)", ops.bce, domain_a="unit_interval", domain_b="unit_interval"),
    "maximum": _selection("maximum(a, b)", maximum),
    "minimum": _selection("minimum(a, b)", minimum),
    "clip": _clip(),
    "where": _where(),
    "concatenate": _concatenate(),
    "stack": _stack(),
    "astype": _unary("x.astype(x.dtype)", lambda x: x.astype(x.dtype)),  # mixed dtypes: test_backward_edges
}

# --------------------------------------------------------------------------- functional composites

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
LABELS = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))  # y ∈ {0, 1}, or soft labels


@st.composite
def _softmax(draw: Any, name: str) -> Case:
    x = draw(tensors(shapes(min_dims=1, **SMALL), domain=None, elements=st.floats(-10, 10)))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    fn = getattr(functional, name)
    return Case(f"{name}(z, axis={axis})", lambda z: fn(z, axis=axis), (x,))


@st.composite
def _loss(draw: Any, name: str, domain: str | None, elements: st.SearchStrategy[float] | None) -> Case:
    """A loss of predictions (differentiated) against fixed labels y, shaped like the course's (1, m)."""
    predictions = draw(tensors(shapes(**SMALL), domain=domain, elements=elements))
    labels = draw(hnp.arrays(np.float64, predictions.shape, elements=LABELS))
    reduction = draw(REDUCTIONS)
    fn = getattr(functional, name)
    return Case(f"{name}(a, y={labels.tolist()!r}, reduction={reduction!r})",
                lambda a: fn(a, labels, reduction=reduction), (predictions,))


@st.composite
def _mse(draw: Any) -> Case:
    p = draw(tensors(shapes(**SMALL)))
    y = draw(tensors(p.shape))
    reduction = draw(REDUCTIONS)
    return Case(f"mse_loss(p, y, reduction={reduction!r})",
                lambda a, b: functional.mse_loss(a, b, reduction=reduction), (p, y))


FUNCTIONAL_CASES: dict[str, st.SearchStrategy[Case]] = {
    "sigmoid": _unary("sigmoid(z)", functional.sigmoid, domain=None, elements=WIDE),
    "log_sigmoid": _unary("log_sigmoid(z)", functional.log_sigmoid, domain=None, elements=WIDE),
    "softplus": _unary("softplus(z)", functional.softplus, domain=None, elements=WIDE),
    "softmax": _softmax("softmax"),
    "log_softmax": _softmax("log_softmax"),
    "binary_cross_entropy": _loss("binary_cross_entropy", "unit_interval", None),
    "binary_cross_entropy_with_logits": _loss("binary_cross_entropy_with_logits", None, st.floats(-10, 10)),
    "mse_loss": _mse(),
}

ENTRIES = [f"ops.{name}" for name in ops.TABLE] + [f"functional.{name}" for name in FUNCTIONAL_CASES]


def _strategy(entry: str) -> st.SearchStrategy[Case]:
    family, name = entry.split(".")
    cases = CASES if family == "ops" else FUNCTIONAL_CASES
    if name not in cases:
        pytest.fail(f"ops.TABLE has the op {name!r} but CASES in {__name__} has no property entry for it; "
                    "add a strategy that draws inputs for it.")
    return cases[name]


# --------------------------------------------------------------------------- the properties


@pytest.mark.parametrize("name", list(ops.TABLE))
def test_every_op_in_the_table_has_a_property_entry(name: str) -> None:
    assert name in CASES, f"ops.TABLE has {name!r} but CASES has no entry for it"


def test_every_property_entry_names_an_op_in_the_table() -> None:
    assert set(CASES) <= set(ops.TABLE), f"stale entries: {sorted(set(CASES) - set(ops.TABLE))}"


@pytest.mark.parametrize("entry", ENTRIES)
def test_gradients_match_finite_differences_and_keep_input_shapes(entry: str) -> None:
    @given(_strategy(entry))
    def check(case: Case) -> None:
        out = case.fn(*case.inputs)
        if entry.startswith("ops."):
            made_by = {t.grad_fn.op.name for t in topological_order([out]) if t.grad_fn is not None}
            assert entry[4:] in made_by, f"the case for {entry} never applies it (ops used: {made_by})"
        out.backward(gradient=np.random.default_rng(0).standard_normal(out.shape))
        for x in case.inputs:
            assert x.grad.shape == x.shape and x.grad.dtype == np.float64
        assert gradcheck(case.fn, *case.inputs)
    check()


@pytest.mark.parametrize("entry", ENTRIES)
def test_second_derivatives_match_finite_differences(entry: str) -> None:
    @given(_strategy(entry))
    def check(case: Case) -> None:
        # Random directions: the cost of the second-order check stays flat in the input's size.
        assert gradgradcheck(case.fn, *case.inputs, mode="random")
    check()


@pytest.mark.parametrize("entry", ENTRIES)
def test_float32_in_float32_out(entry: str) -> None:
    @given(_strategy(entry))
    def check(case: Case) -> None:
        assert_float32_in_float32_out(case.fn, case.inputs)
    check()


# --------------------------------------------------------------------------- every variant is drawn

VARIANTS: dict[str, set[str]] = {
    **{name: {"size-1 axis stretched", "missing leading axes"}
       for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "broadcast_to")},
    "matmul": {"matrix @ matrix", "matrix @ vector", "vector @ matrix", "vector @ vector",
               "batched @ batched", "batched @ vector", "vector @ batched"},
    **{name: {"axis=None", "axis int", "axis tuple", "keepdims"} for name in ("sum", "mean", "max")},
    "getitem": {"slice", "int", "integer array with repeats", "boolean mask", "mixed"},
    "scatter_add": {"integer array with repeats", "slice"},
}


# Stop at the first draw that has the variant (no shrinking); a fixed seed, the same search each run.
FIRST_HIT = settings(max_examples=2000, derandomize=True, database=None, phases=[Phase.generate])


# --------------------------------------------------------------------------- what each rule reads


def _rules_on(case: Case, name: str, which: int | str | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The op's VJPs at the case, then again with the value ``which`` (an input or "out") all NaN."""
    op = ops.TABLE[name]
    made = next(t for t in topological_order([case.fn(*case.inputs)]) if t.grad_fn and t.grad_fn.op is op)
    params = made.grad_fn.params
    out, inputs = made._data, [p._data for p in made.grad_fn.parents]
    g = np.random.default_rng(0).standard_normal(out.shape)

    def rules(out: np.ndarray, inputs: list[np.ndarray]) -> list[np.ndarray]:
        with np.errstate(all="ignore"):
            if op.vjp_each is not None:
                return [np.asarray(op.vjp_each(i, g, out, *inputs, **params)) for i in range(len(inputs))]
            return [np.asarray(rule(g, out, *inputs, **params)) for rule in op.vjps]

    def nan(value: np.ndarray) -> np.ndarray:
        return np.full_like(value, np.nan)

    changed = [nan(x) if i == which else x for i, x in enumerate(inputs)]
    return rules(out, inputs), rules(nan(out) if which == "out" else out, changed)


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", list(ops.TABLE))
def test_saves_names_every_value_the_backward_rules_read(name: str) -> None:
    """Only a change to a saved value is an in-place error, so a value read but not listed is a bug."""
    saves = ops.TABLE[name].saves
    assert saves is not None, f"ops.{name} must list what its VJPs read: saves=(input positions, 'out')"

    @given(CASES[name])
    def check(case: Case) -> None:
        n_inputs = len(next(t for t in topological_order([case.fn(*case.inputs)])
                            if t.grad_fn and t.grad_fn.op.name == name).grad_fn.parents)
        for which in ["out", *range(n_inputs)]:
            if which not in saves:
                before, after = _rules_on(case, name, which)
                assert _same(before, after), f"ops.{name}'s rules read {which!r}, missing from saves={saves}"
    check()


@pytest.mark.parametrize("name", [name for name, op in ops.TABLE.items() if op.saves])
def test_saves_names_only_values_the_backward_rules_read(name: str) -> None:
    """A value listed but never read would make a harmless change an error (the false alarm of issue 10)."""
    for which in ops.TABLE[name].saves:
        find(CASES[name], lambda case, which=which: not _same(*_rules_on(case, name, which)),
             settings=FIRST_HIT)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_strategy_reaches_every_variant(name: str) -> None:
    for tag in sorted(VARIANTS[name]):
        # find() raises NoSuchExample if no draw has the variant; the one it finds must run.
        found = find(CASES[name], lambda case, tag=tag: tag in case.tags, settings=FIRST_HIT)
        assert isinstance(found.fn(*found.inputs), Tensor)


# --------------------------------------------------------------------------- compositions

# The one property over random compositions: more examples than the single-op properties, since
# each graph mixes several ops, shapes and fan-outs.
@settings(max_examples=8 * settings.default.max_examples)
@given(computation_graphs())
def test_random_graphs_backpropagate_exactly_to_second_order(graph: ComputationGraph) -> None:
    assert gradgradcheck(graph, *graph.inputs)  # orders 1 and 2, every element of every input


# --------------------------------------------------------------------------- known core bugs


@pytest.mark.parametrize(("shape", "axes"), [((3, 4), (-1, 0)), ((2, 3, 4), (0, -1, 1))])
def test_transpose_with_negative_axes_backpropagates(shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
    x = np.arange(float(np.prod(shape))).reshape(shape) / 10
    assert gradcheck(lambda t: t.transpose(axes), x)


def test_pow_exponent_gradient_at_a_zero_base() -> None:
    a, b = Tensor([0.0, 1.0], requires_grad=True), Tensor(2.0, requires_grad=True)
    (a ** b).sum().backward()
    # d/db Σ aᵇ = 0²·ln 0 (→ 0 as a → 0⁺) + 1²·ln 1 = 0
    assert b.grad == 0.0
