"""Tensor construction, attributes, operators with numbers and arrays, and the error messages."""

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import Tensor


@pytest.mark.parametrize(
    ("data", "dtype"),
    [(3, np.float64), (2.5, np.float64), (True, np.float64), ([[1, 2], [3, 4]], np.float64),
     (np.arange(3), np.float64), (np.ones(2, dtype=np.float32), np.float32), (np.float32(1.5), np.float32)],
)
def test_construction_gives_float64_unless_float_already(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=dtype))


def test_dtype_argument():
    assert Tensor([1, 2], dtype="float32").dtype == np.float32
    assert Tensor(1.0, dtype=np.float64).dtype == np.float64
    with pytest.raises(tc.InputTypeError, match="expected a float dtype"):
        Tensor(1.0, dtype="int32")
    for unreadable in ("0@", "0)"):  # numpy raises ValueError and SyntaxError for these strings
        with pytest.raises(tc.InputTypeError, match="expected a float dtype"):
            Tensor(1.0, dtype=unreadable)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [("abc", TypeError, "got str"),
     (None, TypeError, "got NoneType"),
     ({"a": 1}, TypeError, "got dict"),
     ([1 + 2j], TypeError, "complex"),
     ([[1, 2], [3]], ValueError, "ragged"),
     ([1, "a"], TypeError, "dtype <U"),
     (np.array([object()]), TypeError, "dtype object")],
)
def test_bad_data_gets_an_error_that_says_what_is_accepted(data, error, message):
    with pytest.raises(error, match=message) as caught:
        Tensor(data)
    assert isinstance(caught.value, tc.TinygradCourseError)


def test_float32_in_float32_out():
    x = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    y = ((x * 2.5 + np.ones((2, 2))) @ x).sigmoid().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_attributes_and_repr():
    t = Tensor([[1.0, 2.0]], requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.size, t.is_leaf, t.grad_fn) == ((1, 2), 2, 2, True, None)
    assert repr(t) == "Tensor([[1., 2.]], name='w', requires_grad=True)"
    s = (t * 2).sum().named("s")
    assert repr(s) == "Tensor(6., name='s', grad_fn=<sum>)"
    assert not s.is_leaf and s.item() == 6.0 and f"{s:.1f}" == "6.0"
    assert t.named("v") is t and t.name == "v"
    assert t.numpy() is t.data


def test_numbers_and_arrays_on_either_side():
    t = Tensor([1.0, 2.0])
    arr = np.array([10.0, 20.0])
    for result, expected in [(2 + t, [3, 4]), (t - 1, [0, 1]), (1 - t, [0, -1]), (3 * t, [3, 6]),
                             (t / 2, [0.5, 1]), (2 / t, [2, 1]), (t**2, [1, 4]), (2**t, [2, 4]),
                             (arr + t, [11, 22]), (arr * t, [10, 40]), (arr - t, [9, 18]), (-t, [-1, -2])]:
        assert isinstance(result, Tensor)
        np.testing.assert_allclose(result.data, expected)
    assert isinstance(np.ones((2, 2)) @ Tensor(np.ones(2)), Tensor)


def test_comparisons_return_boolean_arrays_and_asarray_works():
    t = Tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t > 1.5, [False, True, True])
    np.testing.assert_array_equal(t == Tensor([1.0, 0.0, 3.0]), [True, False, True])
    assert isinstance(t <= 2, np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0, 3.0])
    assert {t: 1}[t] == 1  # hashable by identity


def test_indexing_forms():
    t = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert t[1].shape == (4,) and t[:, 1:3].shape == (3, 2) and t[..., -1].shape == (3,)
    assert t[[0, 0, 2]].shape == (3, 4) and t[t > 5].shape == (6,)
    t[[0, 0]].sum().backward()  # row 0 used twice: its gradient adds up
    np.testing.assert_array_equal(t.grad[0], [2, 2, 2, 2])
    np.testing.assert_array_equal(t.grad[1:], 0)


def test_shape_functions():
    t = Tensor(np.arange(6.0))
    assert t.reshape(2, 3).shape == (2, 3) and t.reshape((3, -1)).shape == (3, 2)
    m = t.reshape(2, 3)
    assert m.T.shape == (3, 2) and m.transpose(1, 0).shape == (3, 2)
    assert tc.concatenate([m, m], axis=1).shape == (2, 6) and tc.stack([t, t]).shape == (2, 6)
    assert tc.where(t > 2, t, 0.0).data.tolist() == [0, 0, 0, 3, 4, 5]
    assert len(m) == 2 and [row.shape for row in m] == [(3,), (3,)]


def test_reductions_and_ties():
    t = Tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 1.0]], requires_grad=True)
    assert t.max().item() == 5.0
    t.max().backward()
    np.testing.assert_array_equal(t.grad, [[0, 0.5, 0.5], [0, 0, 0]])  # ties share evenly
    assert t.sum(axis=0).shape == (3,) and t.mean(axis=1, keepdims=True).shape == (2, 1)


def test_matmul_shape_error_names_both_shapes_and_the_course_layout():
    W = Tensor(np.ones((4, 3)))
    with pytest.raises(tc.ShapeError, match=r"\(4, 3\) @ \(2, 5\).*W is \(n\[l\], n\[l-1\]\)"):
        W @ np.ones((2, 5))


def test_broadcast_error_names_the_op_and_both_shapes():
    with pytest.raises(tc.ShapeError, match=r"add: cannot apply to shapes \(2, 3\) and \(4,\)"):
        Tensor(np.ones((2, 3))) + np.ones(4)


def test_bad_index_and_axis_errors():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(tc.IndexingError, match="getitem"):
        t[5]
    with pytest.raises(tc.ShapeError, match="sum"):
        t.sum(axis=3)
    with pytest.raises(tc.InputTypeError, match="axis must be"):
        t.sum(axis="0")
    with pytest.raises(tc.InputValueError, match="one element"):
        t.item()
    with pytest.raises(tc.InputValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(tc.InputTypeError, match="0-d"):
        len(Tensor(1.0))


def test_backward_errors_say_why_and_what_to_do():
    with pytest.raises(tc.GradientError, match="requires_grad=True"):
        Tensor(1.0).backward()
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(tc.GradientError, match=r"only on a scalar.*shape \(2, 3\).*J = L.mean\(\)"):
        (x * 2).backward()
    with pytest.raises(tc.ShapeError, match=r"shape \(2, 3\), got shape \(3,\)"):
        (x * 2).backward(gradient=np.ones(3))
    with pytest.raises(tc.GradientError, match="not used"):
        tc.grad(x.sum(), [x, Tensor(1.0, requires_grad=True)])
    with pytest.raises(tc.GradientError, match="does not require grad"):
        tc.grad(x.sum(), Tensor(1.0))


def test_loss_errors():
    from tinygrad_course import functional as F

    with pytest.raises(tc.ShapeError, match=r"\(1, 4\).*\(4,\).*Y.reshape\(1, 4\)"):
        F.binary_cross_entropy_with_logits(np.zeros((1, 4)), np.zeros(4))
    with pytest.raises(tc.InputValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy_with_logits(np.zeros((1, 2)), [[0.0, 2.0]])
    with pytest.raises(tc.InputValueError, match="reduction"):
        F.mse_loss(np.zeros(2), np.zeros(2), reduction="avg")


def test_an_axis_out_of_range_names_the_op_the_shape_and_the_valid_axes():
    t = Tensor([[1.0, 2.0]])
    with pytest.raises(tc.ShapeError, match=r"sum: axis=5 is out of range for a tensor of shape \(1, 2\); "
                                            r"its axes are 0 to 1, or −2 to −1"):
        t.sum(axis=5)
    with pytest.raises(tc.ShapeError, match=r"a 0-d tensor has no axes: use axis=None"):
        Tensor(1.0).mean(axis=2)


def test_an_int_too_large_for_float64_says_so():
    with pytest.raises(tc.InputValueError, match="an int of 401 digits, too large for a float64"):
        Tensor(10**400)


# --------------------------------------------------------------------------- indexing: masks and errors


def test_a_tensor_used_as_an_index_is_refused_with_the_two_correct_spellings():
    # Tensors hold floats: Tensor([True, False, True]) is [1., 0., 1.], which numpy would read as
    # the indices 1, 0, 1 (giving [20, 10, 20]). PyTorch refuses float tensors as indices, so do we.
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    for index in (Tensor([True, False, True]), Tensor([0.0, 2.0]), Tensor(1.0), (Tensor(0.0), 1)):
        with pytest.raises(tc.IndexingError, match=r"x\[x > 0\].*np\.array\(\[0, 2\]\)") as raised:
            x[index]
        assert isinstance(raised.value, IndexError)
    np.testing.assert_array_equal(x[np.array([True, False, True])].data, [10, 30])  # a mask works
    np.testing.assert_array_equal(x[x > 15].data, [20, 30])
    np.testing.assert_array_equal(x[np.array([0, 2])].data, [10, 30])


@pytest.mark.parametrize(("data", "index"), [
    ([1.0, 2.0], 5),                    # out of range
    ([1.0, 2.0], (0, 0)),               # too many indices
    ([1.0, 2.0], (Ellipsis, Ellipsis)),  # two ellipses
    (1.0, 0),                           # a 0-d tensor has no axis to index
    ([1.0, 2.0], [True]),               # a boolean list of the wrong length
    ([1.0, 2.0], 0.5),                  # not an integer
])
def test_index_errors_are_index_errors_as_in_numpy(data, index):
    with pytest.raises(IndexError):
        np.asarray(data)[index]
    with pytest.raises(tc.IndexingError, match="getitem") as raised:
        Tensor(data)[index]
    assert isinstance(raised.value, IndexError) and isinstance(raised.value, tc.TinygradCourseError)


# --------------------------------------------------------------------------- broadcast_to


@pytest.mark.parametrize(("shape", "target"), [((1,), ()), ((1, 1), (1,)), ((3,), (3, 1)), ((2,), (3,)),
                                               ((1,), (-1,))])
def test_broadcast_to_refuses_every_broadcast_numpy_refuses(shape, target):
    with pytest.raises(ValueError):
        np.broadcast_to(np.zeros(shape), target)
    with pytest.raises(tc.ShapeError, match="broadcast_to"):
        Tensor(np.zeros(shape)).broadcast_to(target)


def test_broadcast_to_adds_axes_on_the_left_and_stretches_size_1_axes():
    t = Tensor([[1.0], [2.0]], requires_grad=True)
    out = t.broadcast_to((3, 2, 4))
    np.testing.assert_array_equal(out.data, np.broadcast_to(t.data, (3, 2, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [[12.0], [12.0]])


# --------------------------------------------------------------------------- who owns the values


def test_a_tensor_copies_the_callers_array_so_an_optimizer_step_leaves_it_alone():
    W0 = np.ones(3)
    W = Tensor(W0, requires_grad=True)
    (W * 2).sum().backward()
    tc.optim.SGD([W], lr=0.1).step()
    np.testing.assert_array_equal(W0, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(W.data, [0.8, 0.8, 0.8])
    for source in (W0[::2], np.ones(3, dtype=np.float32), Tensor([1.0, 2.0])):  # a view, float32, a Tensor
        assert not np.shares_memory(Tensor(source).data, np.asarray(source))


def test_from_numpy_shares_the_array_as_torch_from_numpy_does():
    W0 = np.ones(3, dtype=np.float32)
    W = Tensor.from_numpy(W0, requires_grad=True, name="W")
    assert W.data is W0 and W.requires_grad and W.name == "W" and W.dtype == np.float32
    (W * 2).sum().backward()
    tc.optim.SGD([W], lr=0.25).step()
    np.testing.assert_array_equal(W0, [0.5, 0.5, 0.5])   # shared: the step is seen through W0


@pytest.mark.parametrize("data", [[1.0, 2.0], np.arange(3), 2.0, Tensor([1.0])])
def test_from_numpy_takes_only_float_ndarrays(data):
    with pytest.raises(tc.InputTypeError, match=r"from_numpy\(\).*float64, float32 or float16"):
        Tensor.from_numpy(data)


def test_a_0d_result_detached_shares_its_array_like_any_other() -> None:
    # 0-d results are held as numpy scalars inside the engine; the user sees arrays, shared as usual.
    x = Tensor(2.0, requires_grad=True)
    y = x * 3.0
    alias = y.detach()
    alias.data[...] = 7.0
    assert type(y.data) is np.ndarray and y.item() == 7.0
    assert type((x * 3.0).numpy()) is np.ndarray and type(np.asarray(x * 3.0)) is np.ndarray


def test_a_0d_gradient_is_an_array() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    z = y * 3.0
    z.backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 12.0
    assert type(y.grad) is np.ndarray and y.grad == 3.0
