"""tinygrad_course: a small, exact automatic-differentiation engine for the
"Neural Networks and Deep Learning" course.

>>> from tinygrad_course import Tensor
>>> a, b, c = Tensor(5.0, name="a"), Tensor(3.0, name="b"), Tensor(2.0, name="c")
"""

from . import datasets, functional, nn, ops, optim, testing, train, viz
from .autograd import (
    detect_anomaly,
    enable_grad,
    grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    record_step,
    set_detect_anomaly,
)
from .errors import (
    AnomalyError,
    FileAccessError,
    GradientError,
    IndexingError,
    InPlaceModificationError,
    InputTypeError,
    InputValueError,
    ReplayWarning,
    ShapeError,
    TinygradCourseError,
)
from .tensor import Tensor
from .tensor_functions import concatenate, maximum, minimum, stack, where

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "FileAccessError",
    "GradientError",
    "InPlaceModificationError",
    "IndexingError",
    "InputTypeError",
    "InputValueError",
    "ReplayWarning",
    "ShapeError",
    "Tensor",
    "TinygradCourseError",
    "concatenate",
    "datasets",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "ops",
    "optim",
    "record_step",
    "set_detect_anomaly",
    "stack",
    "testing",
    "train",
    "viz",
    "where",
]
