"""Declaring a function of fgrad's NumPy: one place for its name, namespace, dispatch and class.

A rule module defines each public function once and declares it with :func:`export`
(as a decorator, or through the factories :func:`unary`, :func:`binary` and
:func:`non_differentiable`, which build the function from a forward and its VJPs).
The declaration records:

* the NumPy name (``"tanh"``, ``"linalg.inv"``), which gives the namespace it is
  exported from (``fgrad.numpy``, ``fgrad.numpy.linalg``) and the NumPy function whose
  ``__array_function__``/``__array_ufunc__`` calls on tracers are routed to it;
* its differentiability class: ``"differentiable"`` (VJP rules, checked by
  ``tests/test_numpy_grads.py``), ``"piecewise_constant"`` (plain values out, checked by
  ``tests/test_piecewise_constant.py``) or ``"numpy"`` (NumPy's own object re-exported:
  array creation, dtypes, constants).

``fgrad.numpy`` and ``fgrad.numpy.linalg`` are built from :data:`DECLARATIONS`, the one
source of their export lists.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from fgrad._compat import weak_python_scalar_vjps, weak_python_scalars
from fgrad._core import NO_PARAMS, Primitive, Tracer, bind1, bind2, bindn, detach
from fgrad._rules import batching
from fgrad._rules.array_likes import accepting_array_likes, convert_array_likes
from fgrad._rules.helpers import strip

F = TypeVar("F", bound=Callable[..., Any])

Differentiability = Literal["differentiable", "piecewise_constant", "numpy"]

UFUNC_RULES: dict[Any, Callable[..., Any]] = {}
"""NumPy ufunc -> fgrad function, for ``Tracer.__array_ufunc__``."""
FUNCTION_RULES: dict[Any, Callable[..., Any]] = {}
"""NumPy function -> fgrad function, for ``Tracer.__array_function__``."""


class Declaration(NamedTuple):
    """One exported name: what :func:`export` recorded."""

    name: str
    """Full NumPy-style name, ``"linalg.inv"``."""
    namespace: str
    """``"numpy"``, ``"numpy.linalg"``, ``"nn"``, ``"lax"``...: the fgrad module exporting it."""
    fn: Any
    differentiability: Differentiability
    numpy_fns: tuple[Any, ...]
    """The NumPy functions routed to ``fn`` on tracers (empty when NumPy lacks them)."""
    sample: str | None
    """Source of sample arguments (piecewise constant functions: the test's inputs)."""


SCIPY_STATS = ("norm", "multivariate_normal", "t", "beta", "gamma")
"""The distributions of ``fgrad.scipy.stats``, each a namespace ``scipy.stats.<name>``."""
NAMESPACES: tuple[str, ...] = (
    "numpy",
    "numpy.linalg",
    "numpy.fft",
    "nn",
    "lax",
    # filled only when fgrad.scipy is imported (it needs SciPy)
    "scipy.special",
    "scipy.linalg",
    *(f"scipy.stats.{name}" for name in SCIPY_STATS),
)
DECLARATIONS: dict[str, dict[str, Declaration]] = {namespace: {} for namespace in NAMESPACES}
"""Every exported name, by namespace and short name."""


def numpy_object(name: str) -> Any:
    """NumPy's object called ``name`` (``"linalg.inv"``), or ``None`` if this NumPy lacks it.

    Examples
    --------
    >>> numpy_object("linalg.inv") is np.linalg.inv, numpy_object("no_such_function")
    (True, None)
    """
    obj: Any = np
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def export(
    name: str,
    *,
    differentiability: Differentiability = "differentiable",
    namespace: str | None = None,
    dispatch: bool = True,
    aliases: Sequence[str] = (),
    sample: str | None = None,
    converts_array_likes: bool = False,
) -> Callable[[F], F]:
    """Declare the decorated function as fgrad's version of NumPy's ``name``.

    ``name`` is NumPy's name relative to ``numpy`` (``"linalg.inv"``); its prefix picks
    the namespace (``fgrad.numpy.linalg``) unless ``namespace`` is given. With
    ``dispatch``, NumPy's function of that name (and of each alias) called on a tracer
    is routed to this one. ``aliases`` are other NumPy names of the same function
    (``"around"`` for ``round``), exported and dispatched too. A differentiable function
    is exported wrapped to accept lists of traced values (``array_likes``), unless it
    ``converts_array_likes`` itself.

    Examples
    --------
    >>> @export("cube", namespace="nn", dispatch=False)
    ... def cube(x):
    ...     return x * x * x
    >>> DECLARATIONS["nn"].pop("cube").differentiability
    'differentiable'
    """

    def declare(fn: F) -> F:
        full_names = (name, *aliases)
        found_fns = [numpy_object(n) if dispatch else None for n in full_names]
        exported: Any = fn
        if (
            differentiability == "differentiable"
            and not converts_array_likes
            and any(f is not None for f in found_fns)
        ):
            exported = accepting_array_likes(fn, next(f for f in found_fns if f is not None))
        for full_name, found in zip(full_names, found_fns):
            prefix, _, short = full_name.rpartition(".")
            space = namespace or ("numpy." + prefix if prefix else "numpy")
            numpy_fns = () if found is None else (found,)
            for numpy_fn in numpy_fns:
                rules = UFUNC_RULES if isinstance(numpy_fn, np.ufunc) else FUNCTION_RULES
                rules[numpy_fn] = exported
            DECLARATIONS[space][short] = Declaration(
                full_name, space, exported, differentiability, numpy_fns, sample
            )
        return fn

    return declare


def reexport_numpy(*names: str) -> None:
    """Export NumPy's own objects (array creation, dtypes, constants) from ``fgrad.numpy``;
    a dotted name (``"fft.fftfreq"``) goes to its namespace (``fgrad.numpy.fft``)."""
    for name in names:
        prefix, _, short = name.rpartition(".")
        space = "numpy." + prefix if prefix else "numpy"
        DECLARATIONS[space][short] = Declaration(name, space, numpy_object(name), "numpy", (), None)


def exports(namespace: str) -> dict[str, Any]:
    """Name -> object of everything exported from ``namespace``, the module's ``globals``."""
    return {short: d.fn for short, d in DECLARATIONS[namespace].items()}


def missing(namespace: str, name: str) -> str:
    """The message for ``fgrad.<namespace>.<name>`` that does not exist, with a way forward.

    Examples
    --------
    >>> missing("numpy", "inv").partition(": ")[2]
    'NumPy has it as numpy.linalg.inv, so use fgrad.numpy.linalg.inv'
    """
    message = f"module 'fgrad.{namespace}' has no attribute {name!r}"
    if name.startswith("__"):
        return message
    for other, entries in DECLARATIONS.items():
        if name in entries and other != namespace:
            return (
                f"{message}: NumPy has it as numpy.{entries[name].name}, so use "
                f"fgrad.{other}.{name}"
            )
    numpy_name = namespace.partition(".")[2] + "." + name if "." in namespace else name
    if numpy_object(numpy_name.lstrip(".")) is not None:
        return (
            f"{message}: fgrad has no differentiable version of numpy.{numpy_name.lstrip('.')} "
            "yet. Call NumPy's on plain values (fgrad.stop_gradient(x)) if no gradient must "
            "flow through it, or write it with fgrad.custom_vjp."
        )
    return message


def piecewise_constant() -> dict[str, Declaration]:
    """Every function classed piecewise constant, by NumPy name (``"linalg.matrix_rank"``)."""
    return {
        d.name: d
        for entries in DECLARATIONS.values()
        for d in entries.values()
        if d.differentiability == "piecewise_constant"
    }


def _caller_module() -> str:
    return sys._getframe(2).f_globals["__name__"]


_EXAMPLE_HEADER = """
Examples
--------
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
    aliases: Sequence[str] = (),
) -> Callable[[Any], Any]:
    """Define and export a one-argument elementwise primitive ``name``."""
    prim = Primitive(name, impl, (vjp,), batch=batching.elementwise)
    numpy_fn = numpy_object(name)

    def fn(x: Any) -> Any:
        if x.__class__ is Tracer:
            return bind1(prim, x, NO_PARAMS)
        if (x.__class__ is list or x.__class__ is tuple) and numpy_fn is not None:
            (x,), _ = convert_array_likes(numpy_fn, (x,), {})
            if x.__class__ is Tracer:
                return bind1(prim, x, NO_PARAMS)
        return impl(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = _caller_module()
    fn.primitive = prim  # type: ignore[attr-defined]
    document(
        fn,
        f"Differentiable ``numpy.{name}``, elementwise.",
        gradient,
        _check_example(name, sample),
    )
    return export(name, aliases=aliases, converts_array_likes=True)(fn)


def binary(
    name: str,
    impl: Callable[[Any, Any], Any],
    vjp_x: Callable[..., Any],
    vjp_y: Callable[..., Any],
    gradient: str,
    sample: str = "np.array([[0.5], [1.5]]), np.array([0.7, 1.1, 2.0])",
    traced_impl: Callable[[Any, Any], Any] | None = None,
    aliases: Sequence[str] = (),
) -> Callable[[Any, Any], Any]:
    """Define and export a two-argument broadcasting primitive ``name``.

    ``traced_impl`` (e.g. ``operator.mul``) evaluates the primitive on traced
    values, which are always NumPy arrays or scalars; Python's operators are
    several times faster than the ufunc on NumPy scalars.
    """
    prim = Primitive(
        name,
        weak_python_scalars(traced_impl or impl),
        weak_python_scalar_vjps((vjp_x, vjp_y)),
        batch=batching.elementwise,
    )
    plain_impl = weak_python_scalars(impl)

    def fn(x: Any, y: Any) -> Any:
        if x.__class__ is Tracer or y.__class__ is Tracer:
            return bind2(prim, x, y, NO_PARAMS)
        return plain_impl(x, y)

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = _caller_module()
    fn.primitive = prim  # type: ignore[attr-defined]
    document(
        fn,
        f"Differentiable ``numpy.{name}`` with full broadcasting.",
        gradient,
        _check_example(name, sample),
    )
    return export(name, aliases=aliases)(fn)


def non_differentiable(
    numpy_fn: Callable[..., Any],
    name: str | None = None,
    sample: str = "np.array([[1.5, -0.5], [2.0, 0.25]])",
    aliases: Sequence[str] = (),
    reference: str | None = None,
    batch: Callable[..., tuple[Any, bool]] | None = None,
) -> Callable[..., Any]:
    """Export a piecewise constant NumPy function: its result carries no gradient.

    Only for outputs that cannot move continuously with the inputs (indices, counts,
    comparisons, rounding, shapes); anything else must differentiate or raise.
    Differentiation tracers among the arguments are replaced by their values and
    the plain NumPy result is returned. Under ``fgrad.jit`` the call is recorded
    instead (so a replay recomputes it rather than reusing a stale value).
    ``sample`` is the source of a call's arguments, used by the docstring example and
    by ``tests/test_piecewise_constant.py``, which checks the class by finite differences.
    ``reference`` is what the example compares with (default ``np.<name>``); ``batch`` is
    the ``vmap`` rule (default: elementwise for a ufunc, else once per example).
    """
    fn_name = name or numpy_fn.__name__
    fn = plain_values(numpy_fn, fn_name, batch)
    fn.__module__ = _caller_module()
    document(
        fn,
        f"``numpy.{fn_name}`` on the values of traced arrays; the result is a plain NumPy value.",
        "none: the result is piecewise constant or not a function of array values, "
        "so it is returned untraced.",
        f">>> args = ({sample},)\n"
        f">>> repr(fnp.{fn_name}(*args)) == repr({reference or 'np.' + fn_name}(*args))\nTrue",
    )
    return export(fn_name, differentiability="piecewise_constant", aliases=aliases, sample=sample)(
        fn
    )


def plain_values(
    numpy_fn: Callable[..., Any],
    name: str,
    batch: Callable[..., tuple[Any, bool]] | None = None,
) -> Callable[..., Any]:
    """``numpy_fn`` applied to the values of its arguments: no gradient, no dispatch entry.

    For masks, counts and indices inside rules: differentiation tracers are
    dropped, while a replaying trace (``fgrad.jit``) records the call so that a
    replay recomputes it from the current inputs instead of reading a value.
    """
    if batch is None and isinstance(numpy_fn, np.ufunc):
        batch = batching.elementwise
    prim = Primitive(name, numpy_fn, varying_shape=True, batch=batch)

    def fn(*args: Any, **kwargs: Any) -> Any:
        args = tuple(detach(a) for a in args)
        if any(a.__class__ is Tracer for a in args) and not any(
            v.__class__ is Tracer for v in kwargs.values()
        ):
            return bindn(prim, args, kwargs)
        return numpy_fn(*[strip(a) for a in args], **{k: strip(v) for k, v in kwargs.items()})

    fn.__name__ = fn.__qualname__ = name
    fn.primitive = prim  # type: ignore[attr-defined]
    return fn
