"""``to_onnx``: a recorded computation written as an ONNX model, the format every serving engine reads.

The export runs ``fn`` once on the example inputs, with recording on, and walks the graph it
recorded through the public ``grad_fn`` view (``op.name``, ``parents``, ``params``): inputs become
the model's inputs, tensors made by no op (the parameters ``W1``, ``b1``, ... and constants)
become initializers, and each op becomes the ONNX nodes of its entry in ``ops.onnx_names.ONNX``.
Like every tracing exporter it records one run: Python ``if``s and loops are frozen as they went
on the example, and values computed from the example's numbers are stored as constants.

For the number of examples ``m`` it checks instead of assuming: ``fn`` is traced a second time
on ``m + 1`` examples, and the two ONNX graphs must agree node for node and constant for
constant; then the file declares ``m`` a dynamic axis. Where they differ (a constant of shape
``(n, m)``, an index array over the ``m`` examples) the error names the op that bakes the traced
``m`` in, and where ``fn`` fails on ``m + 1`` examples (a reshape to the traced shape) it says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks
from ..autograd import enable_grad
from ..errors import InputTypeError, InputValueError, TinygradCourseError
from ..nn import Module
from ..ops.onnx_names import ONNX, NotExpressible
from ..plots import MissingDependencyError
from ..tensor import Tensor, as_array

#: The ONNX operator set the files use (ONNX Runtime reads it since version 1.14).
OPSET = 18
#: The IR version written: the oldest that opset 18 allows, so older runtimes read the files too.
IR_VERSION = 8
_EXPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class ExportError(InputValueError):
    """A computation that cannot be written as the file asked for (an op ONNX cannot express, ...)."""


def import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise MissingDependencyError(
            'exporting to ONNX needs the onnx package: pip install "tinygrad_course[onnx]" '
            "(it also brings onnxruntime, to run the file)."
        ) from None
    return onnx


# --------------------------------------------------------------------------- tracing


def _inputs(inputs: Any, names: Sequence[str] | None, module: bool) -> list[Tensor]:
    """Fresh leaves holding the example inputs: the trace records, the caller's tensors stay as they were."""
    values = list(inputs) if isinstance(inputs, tuple) else [inputs]
    if module and len(values) != 1:
        raise InputTypeError(f"to_onnx(model, X, path): a model takes one input X of shape (n_x, m), "
                             f"got a tuple of {len(values)}.")
    if names is None:
        names = ["X"] if module else [v.name if isinstance(v, Tensor) and v.name else f"x{i}"
                                      for i, v in enumerate(values)]
    elif isinstance(names, str) or len(names) != len(values) or not all(isinstance(n, str) for n in names):
        raise InputTypeError(f"to_onnx(input_names=...) needs one str per input ({len(values)}), "
                             f"got {names!r:.60}.")
    if len(set(names)) != len(names):
        raise InputValueError(f"to_onnx: the input names must differ, got {list(names)}.")
    leaves = []
    for i, (value, name) in enumerate(zip(values, names, strict=True)):
        array = as_array(value, what=f"to_onnx: input {i}")
        if array.dtype not in _EXPORTED_DTYPES:
            raise ExportError(f"to_onnx: input {i} is {array.dtype}; the export writes float64 and float32 "
                              "(ONNX Runtime computes float16 in float32, so its numbers would differ).")
        leaves.append(Tensor(np.array(array), requires_grad=True, name=name))
    return leaves


def _trace(fn: Callable[..., Any], leaves: list[Tensor], probabilities: bool) -> Tensor:
    with enable_grad():
        out = fn(*leaves)
        if not isinstance(out, Tensor):
            raise InputTypeError(f"to_onnx: fn must return one Tensor, got {type(out).__name__}.")
        if not probabilities:
            return out
        probability = out.sigmoid()   # A[L] = σ(Z[L]), named after the logits: Z2 gives A2
        if out.name and out.name.startswith("Z"):
            probability.name = "A" + out.name[1:]
        return probability


def _topological(out: Tensor) -> list[Tensor]:
    """Every tensor behind ``out`` (constants included), each after its parents; no recursion."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(out, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            if tensor.grad_fn is not None:
                stack.extend((p, False) for p in reversed(tensor.grad_fn.parents) if id(p) not in seen)
    return order


# --------------------------------------------------------------------------- building the graph


class _Graph:
    """The ONNX nodes and initializers of one trace; it is also the converters' ``Builder``."""

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        # Every node and initializer in the order made, with the engine node it came from.
        self.made: list[tuple[Any, str]] = []
        self.constants: dict[tuple[str, bytes, tuple[int, ...]], str] = {}
        self.taken: set[str] = set()
        self.dtype = np.dtype(np.float64)
        self.shapes: tuple[tuple[int, ...], ...] = ()
        self.origin = ""
        self.prefix = ""

    def unique(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self.taken:
            candidate, k = f"{name}_{k}", k + 1
        self.taken.add(candidate)
        return candidate

    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        output = self.unique(f"{self.prefix}/{op_type}")
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output], **attributes))
        self.made.append((self.nodes[-1], self.origin))
        return output

    def constant(self, value: float) -> str:
        return self.array(np.asarray(value, dtype=self.dtype))

    def array(self, values: Any, name: str | None = None) -> str:
        """A constant; ``name`` (already unique) for a parameter, else one shared per value."""
        array = np.asarray(values)
        if array.dtype != bool:
            array = array.astype(self.dtype)
        return self._initializer(array, name)

    def ints(self, values: Any) -> str:
        return self._initializer(np.asarray(values, dtype=np.int64), None)

    def _initializer(self, array: np.ndarray, name: str | None) -> str:
        if name is None:
            key = (array.dtype.str, array.tobytes(), array.shape)
            if key in self.constants:           # one initializer for every use of the same 1.0
                return self.constants[key]
            name = self.constants[key] = self.unique("const" if array.ndim else f"{array.item():g}")
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        self.made.append((self.initializers[-1], self.origin))
        return name


def _describe(k: int, tensor: Tensor) -> str:
    node = tensor.grad_fn
    shapes = ", ".join(str(p.shape) for p in node.parents)
    named = f" '{tensor.name}'" if tensor.name else ""
    return f"node {k}{named}: '{node.op.name}' of inputs {shapes} giving {tensor.shape}"


def _constant(tensor: Tensor) -> str:
    return f"the constant{f' {tensor.name!r}' if tensor.name else ''} of shape {tensor.shape}"


def _convert(graph: _Graph, k: int, tensor: Tensor, names: dict[int, str], wanted: str) -> str:
    node = tensor.grad_fn
    entry = ONNX.get(node.op.name)
    graph.origin = _describe(k, tensor)
    if entry is None:
        raise ExportError(f"to_onnx: op '{node.op.name}' has no ONNX entry (in ops.onnx_names.ONNX), at "
                          f"{graph.origin}. Add a converter for it there.")
    if isinstance(entry, NotExpressible):
        raise ExportError(f"to_onnx: op '{node.op.name}' cannot be written in ONNX: {entry.reason} "
                          f"(at {graph.origin}).")
    if tensor.dtype not in _EXPORTED_DTYPES:
        raise ExportError(f"to_onnx: {graph.origin} computes in {tensor.dtype}; the export writes "
                          "float64 and float32.")
    graph.dtype, graph.prefix = tensor.dtype, wanted
    graph.shapes = tuple(p.shape for p in node.parents)
    inputs = []
    for parent in node.parents:
        name = names[id(parent)]
        if parent.dtype != tensor.dtype:    # numpy promotes mixed floats to the wider one first
            name = graph.op("Cast", name, to=graph.onnx.helper.np_dtype_to_tensor_dtype(tensor.dtype))
        inputs.append(name)
    first = len(graph.nodes)
    result = entry(graph, inputs, dict(node.params))
    producers = [n for n in graph.nodes[first:] if result in n.output]
    if not producers:                       # the converter handed back an input or a constant
        result = graph.op("Identity", result)
        producers = [graph.nodes[-1]]
    producers[-1].output[0] = wanted        # the value keeps the engine's name: Z1, A1, ...
    graph.taken.add(wanted)
    for later in graph.nodes[first:]:
        later.input[:] = [wanted if name == result else name for name in later.input]
    return wanted


def _build(onnx: Any, out: Tensor, leaves: list[Tensor], parameters: dict[int, str],
           output_name: str) -> _Graph:
    graph = _Graph(onnx)
    names: dict[int, str] = {id(leaf): graph.unique(leaf.name) for leaf in leaves}
    graph.unique(output_name)
    count = 0
    for tensor in _topological(out):
        if id(tensor) in names:
            continue
        if tensor.grad_fn is None:
            if tensor.dtype not in _EXPORTED_DTYPES:
                raise ExportError(f"to_onnx: {_constant(tensor)} is "
                                  f"{tensor.dtype}; the export writes float64 and float32.")
            graph.origin = _constant(tensor)
            graph.dtype = tensor.dtype
            label = graph.unique(parameters.get(id(tensor)) or tensor.name or "c")
            names[id(tensor)] = graph.array(tensor.data, name=label)
            continue
        count += 1
        wanted = output_name if tensor is out else graph.unique(tensor.name or tensor.grad_fn.op.name)
        names[id(tensor)] = _convert(graph, count, tensor, names, wanted)
    if out.grad_fn is None:
        if id(out) not in {id(leaf) for leaf in leaves}:
            raise ExportError("to_onnx: fn's output does not depend on its inputs (no op was recorded "
                              "between them), so there is nothing to compute.")
        graph.origin = "the output, which is the input itself"
        graph.nodes.append(onnx.helper.make_node("Identity", [names[id(out)]], [output_name]))
    return graph


# --------------------------------------------------------------------------- the m axis


def _with_one_more_example(leaves: list[Tensor], batch_axis: int) -> list[Tensor]:
    """The inputs with their first example repeated at the end: ``m + 1`` examples."""
    longer = []
    for leaf in leaves:
        data = leaf.data
        if data.ndim:
            data = np.concatenate([data, data.take([0], axis=batch_axis)], axis=batch_axis)
        longer.append(Tensor(data, requires_grad=True, name=leaf.name))
    return longer


def _first_difference(traced: _Graph, longer: _Graph) -> str | None:
    """Where the graph traced on m + 1 examples differs from the one traced on m, if anywhere."""
    for (first, origin), (second, _) in zip(traced.made, longer.made, strict=False):
        if first.SerializeToString() != second.SerializeToString():
            return origin
    return None if len(traced.made) == len(longer.made) else "the number of recorded operations"


def _check_batch_axis(leaves: list[Tensor], batch_axis: Any) -> int | None:
    if batch_axis is None:
        return None
    if isinstance(batch_axis, bool) or not isinstance(batch_axis, (int, np.integer)):
        raise InputTypeError(f"to_onnx(batch_axis=...) must be an int or None, got {batch_axis!r:.40}.")
    for leaf in leaves:
        if leaf.ndim and not -leaf.ndim <= batch_axis < leaf.ndim:
            raise InputValueError(f"to_onnx(batch_axis={batch_axis}) is not an axis of input '{leaf.name}' "
                                  f"of shape {leaf.shape}; pass batch_axis=None to fix every shape.")
        if leaf.ndim and leaf.shape[batch_axis] == 0:
            raise InputValueError(f"to_onnx: input '{leaf.name}' has no examples (shape {leaf.shape}).")
    return int(batch_axis)


def _value_info(onnx: Any, name: str, tensor: Tensor, dynamic: Sequence[bool]) -> Any:
    dims = ["m" if grows else n for n, grows in zip(tensor.shape, dynamic, strict=True)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(tensor.dtype), dims)


# --------------------------------------------------------------------------- the public function


def to_onnx(
    fn: Callable[..., Any],
    inputs: Any,
    path: str | os.PathLike[str],
    *,
    probabilities: bool = False,
    batch_axis: int | None = -1,
    input_names: Sequence[str] | None = None,
    output_name: str | None = None,
) -> Path:
    """Write what ``fn`` computes on ``inputs`` to an ONNX file (opset ``OPSET``); returns its path.

    ``fn`` is a model (``MLP``, ``Sequential``, ``LogisticRegression``: input ``X`` of shape
    ``(n_x, m)``, output the logits ``Z[L]``, or ``A[L] = σ(Z[L])`` with ``probabilities=True``)
    or any function of tensors made of the op table's ops; ``inputs`` is one array or Tensor, or
    a tuple of them. The model's parameters become initializers under its names (``W1``,
    ``b1``, ...). ``batch_axis`` is the axis of every input that counts the examples (the
    course's ``m``, last); the file then accepts any ``m``, after a second trace on ``m + 1``
    examples has shown that nothing depends on it. ``batch_axis=None`` fixes every shape.
    The inputs are named ``X`` for a model, else by ``input_names``, the tensors' names or
    ``x0, x1, ...``; the output by ``output_name`` or its tensor's name (``Z2``; ``A2`` for
    the probabilities).
    """
    onnx = import_onnx()
    if not callable(fn):
        raise InputTypeError(f"to_onnx(fn, ...): fn must be a model or a function of tensors, "
                             f"got {fn!r:.60}.")
    probabilities = _checks.flag(probabilities, "to_onnx(probabilities=...)")
    target = _checks.output_file(path, "to_onnx(path)", "a file name such as model.onnx")
    module = isinstance(fn, Module)
    parameters = {id(t): name for name, t in fn.named_parameters()} if module else {}
    leaves = _inputs(inputs, input_names, module)
    axis = _check_batch_axis(leaves, batch_axis)
    out = _trace(fn, leaves, probabilities)
    taken = {leaf.name for leaf in leaves} | set(parameters.values())
    if output_name is None:
        output_name = out.name or ("A" if probabilities else "Z")
        output_name = f"{output_name}_out" if output_name in taken else output_name
    elif not isinstance(output_name, str) or not output_name or output_name in taken:
        raise InputValueError(f"to_onnx(output_name=...) must be a non-empty str that no input or parameter "
                              f"has, got {output_name!r:.40}.")
    graph = _build(onnx, out, leaves, parameters, output_name)
    grows = [False] * out.ndim
    if axis is not None:
        longer_leaves = _with_one_more_example(leaves, axis)
        try:
            longer_out = _trace(fn, longer_leaves, probabilities)
        except TinygradCourseError as error:
            raise ExportError(f"to_onnx: fn fails on m + 1 examples along batch_axis={axis}, so the file "
                              f"cannot take any m ({error}). Pass batch_axis=None to fix every "
                              "shape.") from None
        longer = _build(onnx, longer_out, longer_leaves, parameters, output_name)
        difference = _first_difference(graph, longer)
        if difference is not None:
            raise ExportError(f"to_onnx: the trace depends on the number of examples m at {difference}: its "
                              f"ONNX form differs between m and m + 1 (batch_axis={axis}). Pass "
                              "batch_axis=None to export for the traced shapes only.")
        grows = [a != b for a, b in zip(out.shape, longer_out.shape, strict=True)]
    helper = onnx.helper
    graph_inputs = [_value_info(onnx, leaf.name, leaf, [axis is not None and i == axis % leaf.ndim
                                                        for i in range(leaf.ndim)]) for leaf in leaves]
    title = fn.describe() if module else getattr(fn, "__name__", type(fn).__name__)
    onnx_graph = helper.make_graph(graph.nodes, title, graph_inputs,
                                   [_value_info(onnx, output_name, out, grows)], graph.initializers,
                                   doc_string=f"{title}, exported by tinygrad_course")
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tinygrad_course", ir_version=IR_VERSION)
    onnx.checker.check_model(model, full_check=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(model.SerializeToString())
    return target
