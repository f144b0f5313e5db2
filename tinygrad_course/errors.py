"""The library's exceptions: one root class, each also a matching built-in.

Catch ``TinygradCourseError`` for anything this library raises on purpose; catch ``TypeError``,
``ValueError`` or ``IndexError`` as you would for numpy. Every message names what was wrong and what was
expected. ``ReplayWarning`` is the one warning kept here (it is not an error).
"""

from __future__ import annotations


class TinygradCourseError(Exception):
    """Root of every error this library raises on purpose."""


class InputTypeError(TinygradCourseError, TypeError):
    """An argument of the wrong type (a string where numbers were expected, ...)."""


class InputValueError(TinygradCourseError, ValueError):
    """An argument of the right type but an unusable value (NaN labels, ragged lists, ...)."""


class ShapeError(InputValueError):
    """Shapes that do not fit the operation (``W @ A`` with mismatched inner sizes, ...)."""


class ArchitectureError(InputValueError):
    """Parameters (a dict or a saved file) that belong to a model of another shape."""


class IndexingError(TinygradCourseError, IndexError):
    """An index that does not fit the tensor (out of range, too many indices, two ``...``), or a
    Tensor used as an index; numpy and PyTorch raise ``IndexError`` for the same mistakes."""


class GradientError(TinygradCourseError, RuntimeError):
    """``backward()`` cannot run as asked (non-scalar output, no ``requires_grad``, ...)."""


class InPlaceModificationError(GradientError):
    """A tensor saved for backward was changed in place between forward and backward."""


class AnomalyError(GradientError):
    """Under ``detect_anomaly()``: an operation produced NaN or inf."""


class FileAccessError(TinygradCourseError, OSError):
    """A file that cannot be written or read where asked (a folder or a file in the way, ...)."""


class MissingDependencyError(TinygradCourseError, ImportError):
    """An optional dependency is not installed (matplotlib for the plots, h5py for ``data convert``)."""


class ReplayWarning(UserWarning):
    """``record_step``: a step runs eagerly instead of being replayed (hooks, ``no_grad()``,
    ``detect_anomaly()``, or a value computed inside ``fn`` that a replay would freeze)."""
