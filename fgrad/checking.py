"""``check_grads``: compare fgrad's derivatives with centred finite differences.

Method (the classic gradient check): in float64, each partial derivative is
estimated by the centred difference ``(f(x + h) - f(x - h)) / 2h`` at steps
``h`` and ``h/2``, combined by Richardson extrapolation to cancel the ``h**2``
error term. Reverse mode is checked element by element against these
estimates, forward mode along a random direction. The discrepancy is reported
as the relative error ``|a - n| / max(|a|, |n|, tiny)``: below ``1e-7`` is a
correct gradient for smooth functions, above ``1e-2`` almost certainly a bug.
For ``order > 1`` the derivative functions themselves are checked again.

Complex arguments and outputs are checked as pairs of real numbers, under JAX's
convention (``docs/complex.md``): the real and the imaginary part of each complex
input element are perturbed separately, and for a real projection
``p(x) = Re(sum(u * f(x)))`` of the output (with complex weights ``u`` on complex
output leaves) fgrad's ``vjp(u)`` must equal ``dp/dRe(z) - i dp/dIm(z)``. Forward
mode moves complex inputs along complex directions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import concrete, fun_name, user_site
from fgrad.transforms import _jvp, _vjp
from fgrad.tree import keystr, tree_flatten, tree_flatten_with_path, tree_map, tree_unflatten

__all__ = [
    "check_grads",
    "gradient_errors",
    "GradientCheckError",
    "DEFAULT_STEP",
    "DEFAULT_RTOL",
    "DEFAULT_TINY",
]

DEFAULT_STEP = 1e-3
"""Finite-difference step ``h`` (the extrapolation also uses ``h/2``)."""
DEFAULT_RTOL = 1e-7
"""Largest accepted relative error."""
DEFAULT_TINY = 1e-4
"""Floor of the denominator: below it, differences count in absolute terms."""


class GradientCheckError(AssertionError):
    """An fgrad derivative disagrees with finite differences."""


def _widest(value: np.ndarray) -> np.ndarray:
    """``value`` in float64, or complex128 if it is complex."""
    return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)


def _as_float64(tree: Any, argnum: int, fun: Any) -> Any:
    paths_leaves, treedef = tree_flatten_with_path(tree)
    converted = []
    for path, leaf in paths_leaves:
        value = np.asarray(concrete(leaf))
        if value.dtype.kind not in "fc":
            raise TypeError(
                f"check_grads({fun_name(fun)}): argument {argnum}{keystr(path)} has dtype "
                f"{value.dtype}, but only floating-point and complex arguments can be checked "
                f"(at {user_site()}). Pass floats (e.g. x.astype(float) or 1.0 instead of 1)."
            )
        converted.append(_widest(value))
    return tree_unflatten(treedef, converted)


def _flat_output(out: Any) -> list[np.ndarray]:
    return [_widest(np.asarray(concrete(leaf))) for leaf in tree_flatten(out)[0]]


def _random_like(rng: np.random.Generator, value: Any) -> np.ndarray:
    """Standard normal numbers shaped like ``value``; complex ones for a complex value."""
    shape = np.shape(value)
    if np.iscomplexobj(value):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _relative_error(analytic: np.ndarray, numeric: np.ndarray, tiny: float) -> np.ndarray:
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), tiny)
    return np.abs(analytic - numeric) / scale


def _richardson(central: Callable[[float], Any], step: float) -> Any:
    coarse = central(step)
    fine = central(step / 2)
    return [(4 * f - c) / 3 for f, c in zip(fine, coarse)]


def _report(
    label: str, analytic: np.ndarray, numeric: np.ndarray, rtol: float, tiny: float
) -> float:
    err = _relative_error(analytic, numeric, tiny)
    err = np.where(np.isnan(err), np.inf, err)
    worst = float(err.max()) if err.size else 0.0
    if not worst <= rtol:
        at = np.unravel_index(int(np.argmax(err)), err.shape)
        raise GradientCheckError(
            f"{label}: relative error {worst:.3e} exceeds rtol={rtol:.1e} at index "
            f"{tuple(int(i) for i in at)}: fgrad gives {analytic[at]!r}, finite differences "
            f"give {numeric[at]!r}"
        )
    return worst


def _check_reverse(
    fun: Callable[..., Any],
    named: Any,
    args: list[Any],
    projection: list[np.ndarray],
    out_tree: Any,
    label: str,
    step: float,
    rtol: float,
    tiny: float,
) -> dict[str, float]:
    _, pullback = _vjp(fun, args, False, "check_grads", named)
    cotangent = tree_unflatten(out_tree, projection)
    analytic_all = pullback(cotangent)
    errors = {}

    def projected(call_args: list[Any]) -> float:
        outputs = _flat_output(fun(*call_args))
        return float(sum(np.vdot(np.conj(u), o).real for u, o in zip(projection, outputs)))

    for a, arg in enumerate(args):
        paths_leaves, treedef = tree_flatten_with_path(arg)
        leaves = [leaf for _, leaf in paths_leaves]
        analytic_leaves = tree_flatten(analytic_all[a])[0]
        for k, (path, leaf) in enumerate(paths_leaves):
            numeric = np.zeros(leaf.shape, dtype=leaf.dtype)
            flat = numeric.reshape(-1)
            # A complex element is two real inputs: dp/dRe - i dp/dIm is its cotangent.
            parts = (1.0, -1j) if leaf.dtype.kind == "c" else (1.0,)
            for j in range(leaf.size):
                for part in parts:

                    def central(
                        h: float,
                        j: int = j,
                        k: int = k,
                        a: int = a,
                        leaf: np.ndarray = leaf,
                        leaves: list[Any] = leaves,
                        treedef: Any = treedef,
                        direction: complex = np.conj(part),
                    ) -> list[float]:
                        values = []
                        for sign in (1.0, -1.0):
                            shifted = leaf.copy()
                            shifted.reshape(-1)[j] += sign * h * direction
                            new_leaves = list(leaves)
                            new_leaves[k] = shifted
                            call_args = list(args)
                            call_args[a] = tree_unflatten(treedef, new_leaves)
                            values.append(projected(call_args))
                        return [(values[0] - values[1]) / (2 * h)]

                    flat[j] += part * _richardson(central, step)[0]
            analytic = _widest(np.asarray(concrete(analytic_leaves[k])))
            where = f"argument {a}{keystr(path)}"
            errors[where] = _report(
                f"{label}, reverse mode, {where}", analytic, numeric, rtol, tiny
            )
    return errors


def _check_forward(
    fun: Callable[..., Any],
    named: Any,
    args: list[Any],
    direction: list[Any],
    label: str,
    step: float,
    rtol: float,
    tiny: float,
) -> dict[str, float]:
    _, tangent_out = _jvp(fun, tuple(args), tuple(direction), "check_grads", named)
    analytic = _flat_output(tangent_out)

    def central(h: float) -> list[np.ndarray]:
        plus = [tree_map(lambda x, v: x + h * v, a, d) for a, d in zip(args, direction)]
        minus = [tree_map(lambda x, v: x - h * v, a, d) for a, d in zip(args, direction)]
        return [
            (p - m) / (2 * h) for p, m in zip(_flat_output(fun(*plus)), _flat_output(fun(*minus)))
        ]

    numeric = _richardson(central, step)
    errors = {}
    for o, (a_leaf, n_leaf) in enumerate(zip(analytic, numeric)):
        where = f"output leaf {o}"
        errors[where] = _report(f"{label}, forward mode, {where}", a_leaf, n_leaf, rtol, tiny)
    return errors


def check_grads(
    fun: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("rev", "fwd"),
    eps: float = DEFAULT_STEP,
    rtol: float = DEFAULT_RTOL,
    tiny: float = DEFAULT_TINY,
    seed: int = 0,
) -> None:
    """Check ``fun``'s derivatives up to ``order`` against finite differences.

    Parameters
    ----------
    fun : callable
        Function of the positional ``args`` returning a pytree of float arrays.
    args : sequence
        Pytrees of floating-point or complex arrays; they are converted to float64
        (complex128). Complex inputs are perturbed in their real and imaginary parts.
    order : int
        Highest order of derivative to check (1 or more).
    modes : sequence of {"rev", "fwd"}
        ``"rev"`` checks every element of every argument's VJP (for a random
        output projection); ``"fwd"`` checks the JVP along a random direction.
    eps : float
        Finite-difference step (Richardson extrapolation also uses ``eps/2``).
    rtol : float
        Largest accepted relative error ``|a - n| / max(|a|, |n|, tiny)``.
    tiny : float
        Denominator floor, so that entries near zero are compared absolutely.
    seed : int
        Seed of the random projections and directions.

    Raises
    ------
    GradientCheckError
        Naming the order, mode, argument path, index and both values.

    Examples
    --------
    >>> fgrad.check_grads(lambda x, y: fnp.sin(x) * y, (np.array([0.5, 1.0]), 2.0))
    >>> fgrad.check_grads(lambda z: fnp.abs(z) * fnp.exp(z), (np.array([0.5 + 1j, -1j]),))
    >>> bad = fgrad.custom_vjp(fnp.sin)
    >>> bad.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.sin(x),))
    >>> fgrad.check_grads(bad, (np.array([0.5]),), order=1)
    Traceback (most recent call last):
    ...
    fgrad.checking.GradientCheckError: order 1, reverse mode, argument 0: relative error ...
    """
    gradient_errors(fun, args, order, modes, eps, rtol, tiny, seed)


def gradient_errors(
    fun: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("rev", "fwd"),
    eps: float = DEFAULT_STEP,
    rtol: float = DEFAULT_RTOL,
    tiny: float = DEFAULT_TINY,
    seed: int = 0,
) -> dict[str, float]:
    """Relative errors of ``fun``'s derivatives against finite differences.

    Same parameters as :func:`check_grads`. Raises
    :class:`GradientCheckError` at the first check over ``rtol``; otherwise
    returns the worst relative error of every check, keyed by order, mode and
    argument path.

    Examples
    --------
    >>> from fgrad.checking import gradient_errors
    >>> errors = gradient_errors(fnp.exp, (np.array([0.5, 1.0]),), order=1)
    >>> sorted(errors)
    ['order 1 fwd output leaf 0', 'order 1 rev argument 0']
    >>> max(errors.values()) < 1e-9
    True
    """
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1, got {order}")
    unknown = set(modes) - {"rev", "fwd"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; use 'rev' and/or 'fwd'")
    if not callable(fun):
        raise TypeError(
            f"check_grads expects a function to check, got {type(fun).__name__} {fun!r:.60}"
        )
    args64 = [_as_float64(a, i, fun) for i, a in enumerate(args)]
    rng = np.random.default_rng(seed)
    out_leaves, out_tree = tree_flatten(fun(*args64))
    projection = [_random_like(rng, concrete(o)) for o in out_leaves]
    direction = [tree_map(lambda x: _random_like(rng, x), a) for a in args64]
    return _check(
        fun,
        fun,
        args64,
        order,
        "order 1",
        tuple(modes),
        projection,
        out_tree,
        direction,
        eps,
        rtol,
        tiny,
        rng,
    )


def _check(
    fun: Callable[..., Any],
    named: Any,
    args: list[Any],
    order: int,
    label: str,
    modes: tuple[str, ...],
    projection: list[np.ndarray],
    out_tree: Any,
    direction: list[Any],
    eps: float,
    rtol: float,
    tiny: float,
    rng: np.random.Generator,
) -> dict[str, float]:
    level = label.count("order")
    errors: dict[str, float] = {}
    if "rev" in modes:
        reverse = _check_reverse(fun, named, args, projection, out_tree, label, eps, rtol, tiny)
        for k, v in reverse.items():
            errors[f"{label} rev {k}"] = v
    if "fwd" in modes:
        for k, v in _check_forward(fun, named, args, direction, label, eps, rtol, tiny).items():
            errors[f"{label} fwd {k}"] = v
    if level >= order:
        return errors
    cotangent = tree_unflatten(out_tree, projection)
    derived: list[tuple[str, Callable[..., Any]]] = []
    if "rev" in modes:
        derived.append(
            ("rev", lambda *xs: _vjp(fun, xs, False, "check_grads", named)[1](cotangent))
        )
    if "fwd" in modes:
        derived.append(
            ("fwd", lambda *xs: _jvp(fun, xs, tuple(direction), "check_grads", named)[1])
        )
    for mode, g in derived:
        g_leaves, g_tree = tree_flatten(g(*args))
        g_projection = [_random_like(rng, concrete(o)) for o in g_leaves]
        g_direction = [tree_map(lambda x: _random_like(rng, x), a) for a in args]
        errors.update(
            _check(
                g,
                named,
                args,
                order,
                f"order {level + 1} (of the {mode}-mode derivative, {label})",
                modes,
                g_projection,
                g_tree,
                g_direction,
                eps,
                rtol,
                tiny,
                rng,
            )
        )
    return errors
