"""Ways of writing a traced value into plain memory: each gives the right gradient or raises.

The silent version of each bug would return a gradient with the stored value's share
missing (``[1, 1, 1]`` instead of ``[3, 1, 1]`` below); every test here would then fail,
either because nothing was raised or because the gradient is compared exactly.
"""

from __future__ import annotations

import array
import inspect
import math
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp

X = np.array([0.5, 1.5, -2.0])
RIGHT_GRADIENT = np.array([3.0, 1.0, 1.0])
"""Gradient of ``sum(x) + 2 * x[0]``: what storing ``2 * x[0]`` into a sum must give."""


def _line() -> int:
    """The caller's line number (used to name the line a store is on)."""
    return sys._getframe(1).f_lineno


def _store_error(action: Callable[[Any], Any], line: int | None = None) -> TypeError:
    """Run ``action(x)`` inside ``grad`` and return the TypeError it must raise.

    NumPy re-raises an error of ``float()`` during an element store as ``ValueError`` with
    the original error chained as its cause: either is accepted, the TypeError is returned.
    """

    def f(x: Any) -> Any:
        action(x)
        return fnp.sum(x)

    with pytest.raises((TypeError, ValueError)) as info:
        fgrad.grad(f)(X)
    error = info.value
    if not isinstance(error, TypeError):
        error = error.__cause__
    assert isinstance(error, TypeError), repr(info.value)
    if line is not None:
        assert f"{__file__}:{line}" in str(error)
    return error


# --- element stores: a[i] = t converts t with float()/int()/complex() ----------------------


def test_element_store_raises_naming_the_line_and_the_alternatives() -> None:
    where: list[int] = []

    def store(x: Any) -> None:
        out = np.zeros(3)
        where.append(_line() + 1)
        out[1] = x[0] * 2

    def f(x: Any) -> Any:
        store(x)
        return fnp.sum(x)

    with pytest.raises((TypeError, ValueError)) as info:
        fgrad.grad(f)(X)
    error = info.value if isinstance(info.value, TypeError) else info.value.__cause__
    message = str(error)
    assert isinstance(error, TypeError)
    assert f"{__file__}:{where[0]}" in message
    assert "grad(" in message and "float()" in message
    for alternative in ("fgrad.numpy.stack", "fgrad.numpy.concatenate", "fgrad.numpy.where"):
        assert alternative in message
    assert "scatter_add" in message and "stop_gradient" in message


def _store_float32(x: Any) -> None:
    out = np.zeros(3, dtype=np.float32)
    out[0] = x[0]


def _store_int(x: Any) -> None:
    out = np.zeros(3, dtype=np.int64)
    out[0] = x[0]


def _store_complex(x: Any) -> None:
    out = np.zeros(3, dtype=np.complex128)
    out[0] = x[0]


def _store_0d(x: Any) -> None:
    out = np.zeros(())
    out[()] = x[0]


def test_flat_iterator_store_raises() -> None:
    """``a.flat[i] = t`` raises too; NumPy replaces the message with its own."""

    def f(x: Any) -> Any:
        out = np.zeros((2, 2))
        out.flat[3] = x[0]
        return fnp.sum(x)

    with pytest.raises(ValueError, match="setting single item"):
        fgrad.grad(f)(X)


def _store_2d_element(x: Any) -> None:
    out = np.zeros((2, 2))
    out[1, 0] = x[0]


def _store_augmented(x: Any) -> None:
    out = np.ones(3)
    out[0] += x[0]


def _store_unpacked(x: Any) -> None:
    out = np.zeros(3)
    out[0], out[1] = x[0], x[1]


def _store_in_comprehension(x: Any) -> None:
    out = np.zeros(3)
    [out.__setitem__(i, 0.0) for i in range(3)]
    for i in range(3):
        out[i] = x[i]


def _store_stdlib_array(x: Any) -> None:
    out = array.array("d", [0.0, 0.0])
    out[0] = x[0]


@pytest.mark.parametrize(
    "store",
    [
        _store_float32,
        _store_int,
        _store_complex,
        _store_0d,
        _store_2d_element,
        _store_augmented,
        _store_unpacked,
        _store_in_comprehension,
        _store_stdlib_array,
    ],
)
def test_every_element_store_raises(store: Callable[[Any], None]) -> None:
    lines, first = inspect.getsourcelines(store)
    _store_error(store, line=first + len(lines) - 1)  # the store is each function's last line


def test_element_store_under_nested_transforms_raises() -> None:
    def f(x: Any) -> Any:
        out = np.zeros(3)
        out[0] = x[0]
        return fnp.sum(x) + 0.0 * out[0]

    for transform in (
        lambda g: fgrad.grad(fgrad.grad(lambda x: fnp.sum(x**2) * 0 + g(x))),
        lambda g: fgrad.jit(fgrad.grad(g)),
        lambda g: fgrad.grad(fgrad.jit(g)),
    ):
        with pytest.raises((TypeError, ValueError)) as info:
            transform(f)(X)
        error = info.value if isinstance(info.value, TypeError) else info.value.__cause__
        assert isinstance(error, TypeError) and "gradient" in str(error)


def test_element_store_under_jit_alone_replays_correctly() -> None:
    """No differentiation: the stored number is a value read, re-checked on replay."""

    def f(x: Any) -> Any:
        out = np.zeros(3)
        out[1] = x[0] * 2
        return fnp.sum(out + x)

    jitted = fgrad.jit(f)
    for point in (X, X + 1.0, X):
        assert jitted(point) == f(point)


# --- storing calls: fill, fromiter, setitem ------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda x: np.zeros(3).fill(x[0]), id="ndarray.fill"),
        pytest.param(lambda x: np.fromiter([x[0], x[1]], float), id="fromiter_list"),
        pytest.param(lambda x: np.fromiter((v for v in x), dtype=float), id="fromiter_generator"),
        pytest.param(lambda x: operator.setitem(np.zeros(3), 0, x[0]), id="operator.setitem"),
        pytest.param(lambda x: np.zeros(3).__setitem__(0, x[0]), id="__setitem__"),
        pytest.param(lambda x: array.array("d", [x[0]]), id="array.array"),
        pytest.param(lambda x: array.array("d").append(x[0]), id="array.append"),
    ],
)
def test_storing_calls_raise(action: Callable[[Any], Any]) -> None:
    error = _store_error(action)
    assert "()" in str(error) and "gradient" in str(error)


# --- whole-array writes: slices, NumPy functions, out= ---------------------------------------


def _slice_store_vector(x: Any) -> None:
    out = np.zeros(3)
    out[1:3] = x[:2]


def _slice_store_scalar(x: Any) -> None:
    out = np.zeros(3)
    out[1:3] = x[0]


def _mask_store(x: Any) -> None:
    out = np.zeros(3)
    out[np.array([True, False, True])] = x[0]


def _augmented_whole(x: Any) -> None:
    out = np.zeros(3)
    out += x


_CONVERTED = "converted to a plain NumPy array"
_WRITES = "writes into an existing array"
_OUT = "out="


@pytest.mark.parametrize(
    ("action", "phrase"),
    [
        pytest.param(_slice_store_vector, _CONVERTED, id="slice_vector"),
        pytest.param(_slice_store_scalar, _CONVERTED, id="slice_scalar"),
        pytest.param(_mask_store, _CONVERTED, id="mask"),
        pytest.param(_augmented_whole, _OUT, id="plain+=traced"),
        pytest.param(lambda x: np.copyto(np.zeros(3), x), _WRITES, id="copyto"),
        pytest.param(lambda x: np.put(np.zeros(3), [0], x[0]), _WRITES, id="put"),
        pytest.param(lambda x: np.zeros(3).put([0], x[0]), _CONVERTED, id="ndarray.put"),
        pytest.param(lambda x: np.place(np.zeros(3), X > 0, x[:2]), _WRITES, id="place"),
        pytest.param(lambda x: np.putmask(np.zeros(3), X > 0, x), _WRITES, id="putmask"),
        pytest.param(
            lambda x: np.put_along_axis(np.zeros(3), np.array([0]), x[:1], 0),
            _WRITES,
            id="put_along_axis",
        ),
        pytest.param(
            lambda x: np.fill_diagonal(np.zeros((2, 2)), x[0]), _CONVERTED, id="fill_diag"
        ),
        pytest.param(lambda x: np.add(X, x, out=np.zeros(3)), _OUT, id="ufunc_out"),
        pytest.param(lambda x: np.sum(x, out=np.zeros(())), _OUT, id="sum_out"),
        pytest.param(lambda x: np.asarray(x), _CONVERTED, id="asarray"),
        pytest.param(lambda x: np.array(x), _CONVERTED, id="array"),
        pytest.param(lambda x: np.array([x[0], x[1]]), _CONVERTED, id="array_of_list"),
        pytest.param(lambda x: np.full(3, x[0]), _CONVERTED, id="full"),
        pytest.param(lambda x: np.float32(x[0]), _CONVERTED, id="float32"),
    ],
)
def test_whole_array_writes_raise(action: Callable[[Any], Any], phrase: str) -> None:
    assert phrase in str(_store_error(action))


# --- explicit reads keep working, and do not touch the gradient ---------------------------------


def test_explicit_reads_of_a_loss_keep_working() -> None:
    seen: list[Any] = []

    def f(x: Any) -> Any:
        loss = fnp.sum(x) + 2 * x[0]
        seen.append(float(loss))
        seen.append(int(loss))
        seen.append(complex(loss).real)
        seen.append(f"{loss:.3f}")
        seen.append("%f" % loss)  # noqa: UP031
        seen.append(math.exp(loss))
        seen.append(round(loss, 3))
        seen.append(np.float64(loss))
        seen.append(loss.item())
        if loss > 1:
            seen.append("branch")
        out = np.zeros(3)
        out[0] = float(loss)
        out[1] = fgrad.stop_gradient(loss)
        out[2] = loss.item()
        seen.append(out)
        return loss

    np.testing.assert_array_equal(fgrad.grad(f)(X), RIGHT_GRADIENT)
    value = float(np.sum(X) + 2 * X[0])
    assert seen[0] == value and seen[1] == int(value) and seen[2] == value
    assert seen[3] == f"{value:.3f}" and seen[4] == "%f" % value  # noqa: UP031
    assert seen[5] == math.exp(value) and float(seen[6]) == round(value, 3)
    assert seen[7] == value and type(seen[7]) is np.float64 and seen[8] == value
    np.testing.assert_array_equal(seen[-1], [value, value, value])


# --- the functional ways of building the array give the right gradient --------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: fnp.stack([0.0, x[0] * 2, 0.0]), id="stack"),
        pytest.param(lambda x: fnp.array([0.0, x[0] * 2, 0.0]), id="array"),
        pytest.param(
            lambda x: fnp.concatenate([np.zeros(1), fnp.reshape(x[0] * 2, (1,)), np.zeros(1)]),
            id="concatenate",
        ),
        pytest.param(
            lambda x: fnp.where(np.arange(3) == 1, x[0] * 2, np.zeros(3)),
            id="where",
        ),
        pytest.param(
            lambda x: np.zeros(3) + fnp.scatter_add(x[0] * 2, (3,), 1),
            id="scatter_add",
        ),
    ],
)
def test_functional_alternatives_give_the_right_gradient(build: Callable[[Any], Any]) -> None:
    grad = fgrad.grad(lambda x: fnp.sum(build(x) + x))(X)
    np.testing.assert_array_equal(grad, RIGHT_GRADIENT)
