"""The engine's modes: whether operations are recorded (``no_grad``, ``enable_grad``) and whether
NaN and inf are caught where they appear (``detect_anomaly``).

Each mode is a ContextVar read by ``graph.Op`` on every forward and by ``backward.propagate``.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from .._checks import flag
from ..errors import InputTypeError

F = TypeVar("F", bound=Callable[..., Any])

# ContextVars are per thread and per asyncio task, so one thread's no_grad() never leaks into
# another's training loop, and one thread's detect_anomaly() never raises in another.
_grad_enabled: ContextVar[bool] = ContextVar("tinygrad_course_grad_enabled", default=True)
_anomaly_enabled: ContextVar[bool] = ContextVar("tinygrad_course_anomaly_enabled", default=False)


def is_grad_enabled() -> bool:
    """True when new operations are recorded into the graph (the default)."""
    return _grad_enabled.get()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` or after ``set_detect_anomaly(True)``."""
    return _anomaly_enabled.get()


def set_detect_anomaly(enabled: bool) -> None:
    """Turn NaN/inf detection on or off for this thread (off by default: it costs time)."""
    _anomaly_enabled.set(flag(enabled, "set_detect_anomaly(enabled)"))


class _Mode:
    """Context manager and decorator that sets a mode, then restores the previous one."""

    variable: ContextVar[bool]
    enabled: bool

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        # Previous values per thread: one instance may be entered by several threads at once.
        self._previous: dict[int, list[bool]] = {}
        # `@no_grad` (bare) and `@no_grad()` both decorate.
        return self if func is None else self(func)

    def __enter__(self) -> None:
        self._previous.setdefault(threading.get_ident(), []).append(self.variable.get())
        self.variable.set(self.enabled)

    def __exit__(self, *exc_info: object) -> None:
        self.variable.set(self._previous[threading.get_ident()].pop())

    def __call__(self, func: F) -> F:
        mode = type(self)
        if inspect.isasyncgenfunction(func):
            raise InputTypeError(f"{mode.__name__} cannot decorate the async generator {func.__name__}(): "
                                 f"write `with {mode.__name__}():` inside its body instead.")
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(mode, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with mode():  # modes are per asyncio task: this holds while the body runs
                    return await func(*args, **kwargs)

            return coroutine  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _wrap_generator(mode: type[_Mode], func: Callable[..., Any]) -> Callable[..., Any]:
    """The mode holds while the generator's body runs, and the caller's mode between its yields."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = func(*args, **kwargs)  # a generator runs nothing until the first next()
        try:
            with mode():
                value = next(inner)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with mode():
                        inner.close()
                    raise
                except BaseException as error:
                    with mode():
                        value = inner.throw(error)
                else:
                    with mode():
                        value = inner.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


class no_grad(_Mode):
    """Record nothing: results don't require grad. Use for evaluation and parameter updates."""

    variable, enabled = _grad_enabled, False


class enable_grad(_Mode):
    """Record operations again, even inside ``no_grad()``."""

    variable, enabled = _grad_enabled, True


class detect_anomaly(_Mode):
    """Raise ``AnomalyError`` at the first NaN or inf, naming the op and your line that made it.

    Inside this block every op remembers the source line that created it (outside, nothing is
    captured, so normal runs pay nothing), and numpy's own floating-point warnings give way to
    the error, which names the operation.
    """

    variable, enabled = _anomaly_enabled, True
