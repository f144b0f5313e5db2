"""How a numpy call on Tensors is answered: recorded, run on the values, or refused.

``Tensor.__array_ufunc__`` and ``Tensor.__array_function__`` hand numpy's call here (the common
``np.exp(t)`` and ``X * t`` take a shortcut in ``Tensor`` itself). The tables that say what each
numpy function means are in ``ops.numpy_names``; this module applies them:

1. ``out=`` into a Tensor, and in-place ufuncs (``X += t``), are refused with the reason;
2. a function with a rule records the graph and returns a Tensor;
3. a function in ``VALUES`` runs on the values and returns what numpy returns;
4. anything else is refused with an ``InputTypeError`` (a ``TypeError``) naming the function.

It knows a tensor by the type of the one numpy called (``like``): it sits below ``tensor.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import InputTypeError, TinygradCourseError
from .ops import numpy_names

_OTHER_WAYS = ("write it with the functions that have a rule ({supported}) or an Op of your own "
               "(README: \"Your own op\"); for values without a gradient, pass np.asarray(t)")


def array_ufunc(like: Any, ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``ufunc(*inputs, **kwargs)`` (or ``ufunc.<method>``) with a Tensor among the arguments."""
    name = numpy_names.numpy_name(ufunc)
    if method != "__call__":
        raise InputTypeError(
            f"{name}.{method}(...) on a Tensor has no rule: only the call {name}(...) itself records the "
            "graph. For a reduction use np.sum, np.mean or np.max with axis=...; " + _other_ways() + ".")
    values = ufunc in numpy_names.VALUES
    rule = numpy_names.UFUNCS.get(ufunc)
    if rule is None and not values:
        raise _refusal(ufunc, name)
    tensor_type = type(like)
    if kwargs.get("out"):
        _refuse_out(name, kwargs["out"], inputs, tensor_type, allowed=values)
    if values:
        return ufunc(*_unwrapped(inputs, tensor_type), **kwargs)
    if kwargs:
        keywords = ", ".join(f"{key}=..." for key in kwargs)
        raise InputTypeError(f"{name}(..., {keywords}) on a Tensor: only the plain call {name}(a, ...) has "
                             "a rule (out=None is fine); a Tensor keeps its dtype and every element.")
    return rule(*[x if isinstance(x, tensor_type) else like._lift(x) for x in inputs])


def array_function(like: Any, func: Callable[..., Any], types: tuple[type, ...], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """``func(*args, **kwargs)``, a numpy function such as ``np.dot``, with a Tensor among the arguments."""
    tensor_type = type(like)
    if not all(issubclass(t, (tensor_type, np.ndarray)) for t in types):
        return NotImplemented  # another library's arrays: let numpy ask them
    name = numpy_names.numpy_name(func)
    values = func in numpy_names.VALUES
    rule = numpy_names.FUNCTIONS.get(func)
    if rule is None and not values:
        raise _refusal(func, name)
    if "out" in kwargs:
        out = kwargs.pop("out")
        if out is not None:
            _refuse_out(name, out, args, tensor_type, allowed=values)
            kwargs["out"] = out
    if values:
        return func(*_unwrapped(args, tensor_type), **kwargs)
    return _called(rule, name, args, kwargs)


def _called(rule: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return rule(*args, **kwargs)
    except TypeError as error:
        if isinstance(error, TinygradCourseError):
            raise
        try:  # was it the call itself (an argument without a rule), or something inside?
            inspect.signature(rule).bind(*args, **kwargs)
        except TypeError:
            given = [*(["..."] * len(args)), *(f"{key}=..." for key in kwargs)]
            bare = inspect.Parameter.empty  # the parameters without their type hints
            signature = inspect.signature(rule)
            parameters = signature.replace(return_annotation=bare, parameters=[
                p.replace(annotation=bare) for p in signature.parameters.values()])
            raise InputTypeError(
                f"{name}({', '.join(given)}) on a Tensor: the arguments with a rule are {name}{parameters} "
                f"({error}). Others (dtype=, where=, initial=, ...) are refused, not ignored."
            ) from None
        raise


def _refuse_out(name: str, out: Any, inputs: tuple[Any, ...], tensor_type: type, allowed: bool) -> None:
    """``out=``: refused into a Tensor or for a differentiable result; fine for plain values."""
    targets = out if isinstance(out, tuple) else (out,)
    if any(isinstance(t, tensor_type) for t in targets):
        raise InputTypeError(
            f"{name}(..., out=tensor): a Tensor is never written in place (its old values may be saved "
            f"for backward); use the result instead: t = {name}(...).")
    if allowed:
        return
    if any(t is x for t in targets for x in inputs):
        raise InputTypeError(
            f"an in-place {name} (such as X += t or X *= t) would write a result that depends on a Tensor "
            "into the ndarray X, which cannot hold a graph; write X = X + t, a new Tensor, instead.")
    raise InputTypeError(
        f"{name}(..., out=array) with a Tensor argument: an ndarray cannot hold the graph, so the gradient "
        f"would be lost; use the result instead: t = {name}(...).")


def _unwrapped(values: Any, tensor_type: type) -> Any:
    """Tensors replaced by their values, also inside lists and tuples (np.allclose(t, [..]))."""
    if isinstance(values, tensor_type):
        return values.data
    if isinstance(values, (list, tuple)):
        return type(values)(_unwrapped(v, tensor_type) for v in values)
    return values


def _other_ways() -> str:
    return _OTHER_WAYS.format(supported=", ".join(numpy_names.supported()))


def _refusal(function: Any, name: str) -> InputTypeError:
    hint = numpy_names.HINTS.get(function)
    instead = f"write {hint}" if hint else _other_ways()
    return InputTypeError(
        f"{name} has no rule for Tensors: run on the values, it would cut the graph, so it is refused. "
        f"Instead, {instead}.")
