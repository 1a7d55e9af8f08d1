"""Helpers that turn a forward function and its VJPs into a public function.

Each public differentiable function is a thin wrapper: when no argument is a
:class:`~fgrad._core.Tracer` it calls NumPy directly, otherwise it records one
tape entry through ``bind1``/``bind2``/``bindn``. The wrappers also carry the
NumPy name, used for ``__array_ufunc__``/``__array_function__`` dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._compat import weak_python_scalar_vjps, weak_python_scalars
from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, bind2, bindn, concrete, detach, peek

UFUNC_RULES: dict[Any, Callable[..., Any]] = {}
FUNCTION_RULES: dict[Any, Callable[..., Any]] = {}


class PiecewiseConstant:
    """A function of ``fgrad.numpy`` classed piecewise constant: it returns plain values.

    Its outputs do not move when its array arguments move a little (away from ties and
    jumps), so their derivative is zero and fgrad returns them untraced. ``sample`` is the
    source of a call's arguments, used by its docstring example and by
    ``tests/test_piecewise_constant.py``, which checks the claim by finite differences.
    """

    __slots__ = ("name", "fn", "numpy_fn", "sample")

    def __init__(
        self, name: str, fn: Callable[..., Any], numpy_fn: Callable[..., Any], sample: str
    ) -> None:
        self.name = name
        self.fn = fn
        self.numpy_fn = numpy_fn
        self.sample = sample

    def __repr__(self) -> str:
        return f"PiecewiseConstant({self.name!r})"


PIECEWISE_CONSTANT: dict[str, PiecewiseConstant] = {}
"""Every function classed piecewise constant, by its NumPy name (``linalg.matrix_rank``)."""


def piecewise_constant(
    fn: Callable[..., Any], name: str, numpy_fn: Callable[..., Any], sample: str
) -> None:
    """Class ``fn`` (the fgrad version of ``numpy_fn``) piecewise constant: no gradient.

    Only for outputs that cannot move continuously with the inputs (indices, counts,
    comparisons, rounding, shapes); anything else must differentiate or raise.
    """
    fn.piecewise_constant = True  # type: ignore[attr-defined]
    PIECEWISE_CONSTANT[name] = PiecewiseConstant(name, fn, numpy_fn, sample)


_EXAMPLE_HEADER = """
Examples
--------
>>> import numpy as np
>>> import fgrad
>>> import fgrad.numpy as fnp
"""


def document(fn: Callable[..., Any], summary: str, gradient: str, example: str) -> None:
    """Give ``fn`` a NumPy-style docstring with a gradient note and a doctest."""
    fn.__doc__ = f"{summary}\n\nGradient: {gradient}\n{_EXAMPLE_HEADER}{example.strip()}\n"


def _check_example(name: str, sample: str) -> str:
    return f">>> fgrad.check_grads(fnp.{name}, ({sample},))"


def unary(
    name: str,
    impl: Callable[[Any], Any],
    vjp: Callable[..., Any],
    gradient: str,
    sample: str = "np.array([0.3, -1.2])",
) -> Callable[[Any], Any]:
    """Define a one-argument elementwise primitive ``name``."""
    prim = Primitive(name, impl, (vjp,))

    def fn(x: Any) -> Any:
        if x.__class__ is Tracer:
            return bind1(prim, x, NO_PARAMS)
        return impl(x)

    fn.__name__ = fn.__qualname__ = name
    document(
        fn,
        f"Differentiable ``numpy.{name}``, elementwise.",
        gradient,
        _check_example(name, sample),
    )
    if isinstance(impl, np.ufunc):
        UFUNC_RULES[impl] = fn
    return fn


def binary(
    name: str,
    impl: Callable[[Any, Any], Any],
    vjp_x: Callable[..., Any],
    vjp_y: Callable[..., Any],
    gradient: str,
    sample: str = "np.array([[0.5], [1.5]]), np.array([0.7, 1.1, 2.0])",
    traced_impl: Callable[[Any, Any], Any] | None = None,
) -> Callable[[Any, Any], Any]:
    """Define a two-argument broadcasting primitive ``name``.

    ``traced_impl`` (e.g. ``operator.mul``) evaluates the primitive on traced
    values, which are always NumPy arrays or scalars; Python's operators are
    several times faster than the ufunc on NumPy scalars.
    """
    prim = Primitive(
        name, weak_python_scalars(traced_impl or impl), weak_python_scalar_vjps((vjp_x, vjp_y))
    )
    plain_impl = weak_python_scalars(impl)

    def fn(x: Any, y: Any) -> Any:
        if x.__class__ is Tracer or y.__class__ is Tracer:
            return bind2(prim, x, y, NO_PARAMS)
        return plain_impl(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.primitive = prim  # type: ignore[attr-defined]
    document(
        fn,
        f"Differentiable ``numpy.{name}`` with full broadcasting.",
        gradient,
        _check_example(name, sample),
    )
    if isinstance(impl, np.ufunc):
        UFUNC_RULES[impl] = fn
    return fn


def non_differentiable(
    numpy_fn: Callable[..., Any],
    name: str | None = None,
    sample: str = "np.array([[1.5, -0.5], [2.0, 0.25]])",
) -> Callable[..., Any]:
    """Wrap a piecewise constant NumPy function: its result carries no gradient.

    Differentiation tracers among the arguments are replaced by their values and
    the plain NumPy result is returned. Under ``fgrad.jit`` the call is recorded
    instead (so a replay recomputes it rather than reusing a stale value). The
    function is entered in :data:`PIECEWISE_CONSTANT` (see :func:`piecewise_constant`).
    """
    fn_name = name or numpy_fn.__name__
    fn = plain_values(numpy_fn, fn_name)
    piecewise_constant(fn, fn_name, numpy_fn, sample)
    document(
        fn,
        f"``numpy.{fn_name}`` on the values of traced arrays; the result is a plain NumPy value.",
        "none: the result is piecewise constant or not a function of array values, "
        "so it is returned untraced.",
        f">>> x = {sample}\n"
        f">>> np.array_equal(fnp.{fn_name}(x), np.{fn_name}(x), equal_nan=True)\nTrue",
    )
    if isinstance(numpy_fn, np.ufunc):
        UFUNC_RULES[numpy_fn] = fn
    else:
        FUNCTION_RULES[numpy_fn] = fn
    return fn


def plain_values(numpy_fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``numpy_fn`` applied to the values of its arguments: no gradient, no dispatch entry.

    For masks, counts and indices inside rules: differentiation tracers are
    dropped, while a replaying trace (``fgrad.jit``) records the call so that a
    replay recomputes it from the current inputs instead of reading a value.
    """
    prim = Primitive(name, numpy_fn)
    prim.varying_shape = True

    def fn(*args: Any, **kwargs: Any) -> Any:
        args = tuple(detach(a) for a in args)
        if any(a.__class__ is Tracer for a in args) and not any(
            v.__class__ is Tracer for v in kwargs.values()
        ):
            return bindn(prim, args, kwargs)
        return numpy_fn(*[strip(a) for a in args], **{k: strip(v) for k, v in kwargs.items()})

    fn.__name__ = fn.__qualname__ = name
    return fn


def strip(x: Any) -> Any:
    """``x`` with every tracer (also inside lists and tuples) replaced by its value."""
    if x.__class__ is Tracer:
        return concrete(x)
    if x.__class__ is list or x.__class__ is tuple:
        return x.__class__(strip(v) for v in x)
    return x


def register_function(numpy_fn: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Route ``numpy_fn`` called on a tracer to the differentiable ``fn``."""
    if isinstance(numpy_fn, np.ufunc):
        UFUNC_RULES[numpy_fn] = fn
    else:
        FUNCTION_RULES[numpy_fn] = fn


def shape_of(x: Any) -> tuple[int, ...]:
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def dtype_of(x: Any) -> np.dtype[Any]:
    return np.result_type(peek(x))


def normalize_axes(axis: Any, ndim: int, fn_name: str) -> tuple[int, ...]:
    """Axis argument as a sorted tuple of non-negative ints (``None``: all axes)."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(
                f"{fn_name}: axis {a} is out of bounds for an array of dimension {ndim}"
            )
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{fn_name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def no_out(fn_name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(
            f"fgrad.numpy.{fn_name} does not take out=: writing into an existing array is "
            "in-place assignment, which has no gradient. Use the returned array."
        )
