"""Optimizers as pure functions, in the style of optax.

The simplest loop needs no optimizer state at all::

    params = sgd_update(params, fgrad.grad(loss)(params, x, y), lr=0.1)

Stateful methods are :class:`GradientTransformation` pairs of pure functions:
``init(params) -> state`` and ``update(grads, state, params=None) ->
(updates, new_state)``; :func:`apply_updates` adds the updates to the
parameters. States are NamedTuples of arrays (pytrees) that start with a step
``count``. Nothing is ever modified in place: inputs are left untouched, and
every returned array (new parameters, updates, states) is read-only.

Names, argument orders and values follow optax: code written for optax runs with
``optax`` replaced by ``fgrad.optim`` and ``jnp`` by ``fgrad.numpy``. Optimizers
:func:`sgd`, :func:`adam`, :func:`adamw`, :func:`lion`, :func:`rmsprop`, :func:`adagrad`;
building blocks :func:`chain`, :func:`scale`, :func:`scale_by_adam`,
:func:`scale_by_lion`, :func:`scale_by_schedule`, :func:`scale_by_learning_rate`,
:func:`add_decayed_weights`, :func:`clip_by_global_norm`, :func:`identity`; wrappers
:func:`masked`, :func:`multi_transform`, :func:`inject_hyperparams` and
:class:`MultiSteps` (gradient accumulation). (:func:`rmsprop` and :func:`adagrad` keep
PyTorch's ``eps`` placement, see their docstrings.)

Every ``learning_rate`` is a float or a *schedule*, a function ``step -> lr``
evaluated at the number of updates done so far (0 for the first). optax's schedules:
:func:`constant_schedule`, :func:`linear_schedule`, :func:`polynomial_schedule`,
:func:`exponential_decay`, :func:`cosine_decay_schedule`,
:func:`piecewise_constant_schedule`, :func:`warmup_cosine_decay_schedule`,
:func:`warmup_exponential_decay_schedule`, :func:`join_schedules`; or any function of
an integer. fgrad's older :func:`constant`, :func:`linear` and :func:`cosine` take
optax's leading arguments in optax's order and stay; :func:`exponential`, whose
arguments are in another order than :func:`exponential_decay`'s, warns
(``DeprecationWarning``). Schedules receive the state's ``count`` (a 0-d integer
array); the built-in ones compute with ``fgrad.numpy``, so under :func:`fgrad.jit`
neither they nor the optimizers read the count in Python and a training step replays
without re-tracing.

Examples
--------
>>> from fgrad import optim
>>> def loss(params):
...     return fnp.sum((params["w"] - 3.0) ** 2)
>>> params = {"w": np.zeros(2)}
>>> opt = optim.chain(optim.clip_by_global_norm(10.0), optim.adam(optim.linear(0.1, 0.01, 200)))
>>> state = opt.init(params)
>>> for _ in range(200):
...     updates, state = opt.update(fgrad.grad(loss)(params), state, params)
...     params = optim.apply_updates(params, updates)
>>> np.round(params["w"], 2)
array([3., 3.])
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np

import fgrad.numpy as fnp
from fgrad.tree import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)
from fgrad.values import Tracer, peek

__all__ = [
    "AdagradState",
    "AdamState",
    "ClipState",
    "EmptyState",
    "GradientTransformation",
    "InjectHyperparamsState",
    "MaskedNode",
    "MaskedState",
    "MultiSteps",
    "MultiStepsState",
    "MultiTransformState",
    "RmsPropState",
    "ScaleByAdamState",
    "ScaleByLionState",
    "ScaleByScheduleState",
    "Schedule",
    "SgdState",
    "WeightDecaySchedule",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "constant",
    "constant_schedule",
    "cosine",
    "cosine_decay_schedule",
    "exponential",
    "exponential_decay",
    "identity",
    "inject_hyperparams",
    "join_schedules",
    "linear",
    "linear_schedule",
    "lion",
    "masked",
    "multi_transform",
    "piecewise_constant_schedule",
    "polynomial_schedule",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_schedule",
    "sgd",
    "sgd_update",
    "skip_large_updates",
    "skip_not_finite",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

Schedule: TypeAlias = Callable[[Any], Any]
"""A learning-rate schedule: ``schedule(step) -> learning rate``, where ``step`` is an
``int`` or a 0-d integer array (an optimizer state's ``count``)."""
ScalarOrSchedule: TypeAlias = float | Schedule


# --------------------------------------------------------------------------- helpers


def _readonly(x: Any) -> Any:
    """``x``, a freshly computed value, as a read-only array.

    A tracer passes through, made a 0-d array where its value is a NumPy scalar (``x[...]``,
    recorded), so that a ``fgrad.jit`` replay returns what an eager call returns.
    """
    if x.__class__ is np.ndarray:
        x.setflags(write=False)
        return x
    if x.__class__ is Tracer:
        return x if peek(x).__class__ is np.ndarray else x[...]
    out = np.asarray(x)
    out.setflags(write=False)
    return out


def _leaves_alike(where: str, treedef: Any, tree: Any, rest: tuple[Any, ...]) -> list[list[Any]]:
    """The leaves of each tree of ``rest``, which must have the structure ``treedef``."""
    columns = []
    for other in rest:
        other_leaves, other_treedef = tree_flatten(other)
        if other_treedef != treedef:
            try:
                tree_map(lambda *_: None, tree, *rest)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
            raise ValueError(f"{where}: structure {other_treedef} differs from {treedef}")
        columns.append(other_leaves)
    return columns


class _Irregular(Exception):
    """Raised by :func:`_map_arrays` for trees it leaves to the general path."""


def _same_sorted_keys(tree: dict[Any, Any], rest: Sequence[Any]) -> list[Any]:
    """The keys of ``tree``, sorted, after checking that each of ``rest`` is a dict of them."""
    for other in rest:
        if other.__class__ is not dict or other.keys() != tree.keys():
            raise _Irregular
    try:
        return sorted(tree)
    except TypeError:
        raise _Irregular from None


def _map_arrays(f: Callable[..., Any], tree: Any, rest: Sequence[Any]) -> Any:
    """:func:`_map` for the common case, in one walk: trees of dicts, lists, tuples and
    ``None`` whose corresponding leaves are NumPy arrays of one shape.

    Builds what the general path builds (dicts in sorted key order, read-only leaves);
    raises :class:`_Irregular` for anything else, before or after computing some leaves.
    """
    cls = tree.__class__
    if cls is np.ndarray:
        shape = tree.shape
        for other in rest:
            if other.__class__ is not np.ndarray or other.shape != shape:
                raise _Irregular
        return _readonly(f(tree, *rest))
    if cls is dict:
        return {
            k: _map_arrays(f, tree[k], [other[k] for other in rest])
            for k in _same_sorted_keys(tree, rest)
        }
    if cls is list or cls is tuple:
        n = len(tree)
        for other in rest:
            if other.__class__ is not cls or len(other) != n:
                raise _Irregular
        mapped = [_map_arrays(f, x, [other[i] for other in rest]) for i, x in enumerate(tree)]
        return mapped if cls is list else tuple(mapped)
    if tree is None:
        for other in rest:
            if other is not None:
                raise _Irregular
        return None
    raise _Irregular


def _map_pair(f: Callable[[Any, Any], Any], tree: Any, other: Any) -> Any:
    """:func:`_map_arrays` for one other tree, with array leaves handled in their container."""
    cls = tree.__class__
    if cls is dict:
        out = {}
        for k in _same_sorted_keys(tree, (other,)):
            a, b = tree[k], other[k]
            if a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.shape == b.shape:
                out[k] = _readonly(f(a, b))
            else:
                out[k] = _map_pair(f, a, b)
        return out
    if cls is list or cls is tuple:
        if other.__class__ is not cls or len(other) != len(tree):
            raise _Irregular
        items = []
        for a, b in zip(tree, other):
            if a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.shape == b.shape:
                items.append(_readonly(f(a, b)))
            else:
                items.append(_map_pair(f, a, b))
        return items if cls is list else tuple(items)
    return _map_arrays(f, tree, (other,))


def _map(where: str, f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    try:
        return _map_pair(f, tree, rest[0]) if len(rest) == 1 else _map_arrays(f, tree, rest)
    except _Irregular:
        pass
    leaves, treedef = tree_flatten(tree)
    columns = _leaves_alike(where, treedef, tree, rest)
    return tree_unflatten(treedef, [_readonly(f(*xs)) for xs in zip(leaves, *columns)])


def _count(value: int) -> Any:
    return _readonly(np.asarray(value, dtype=np.int64))


def _next(count: Any) -> Any:
    return _readonly(count + 1)


def _scalar(value: Any, leaf: Any) -> Any:
    """A scalar to combine with ``leaf`` without promoting its dtype.

    A Python number, traced or not (a dynamic ``fgrad.jit`` argument), is returned as it
    is: it combines with ``leaf`` as a Python number does. Anything else (a 0-d array or
    NumPy scalar, traced or not) is cast to the leaf's floating dtype, so that eager code
    and a ``fgrad.jit`` replay compute the same thing on the same operand types.
    """
    if value.__class__ in _PYTHON_REALS:
        return value
    if value.__class__ is Tracer and peek(value).__class__ in _PYTHON_REALS:
        return value
    return fnp.astype(value, _float_dtype(leaf))


def _float_dtype(leaf: Any) -> np.dtype[Any]:
    dtype = np.result_type(peek(leaf))
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _fresh(x: Any) -> Any:
    """A copy of ``x`` that :func:`_readonly` may freeze without touching the caller's array."""
    return x if x.__class__ is Tracer else np.array(x)


_PYTHON_REALS = (int, float)


def _real(
    value: object,
    name: str,
    fn: str,
    *,
    low: float,
    high: float = math.inf,
    traced_arrays: bool = False,
    keep_arrays: bool = False,
) -> Any:
    """``value`` checked to be a finite real number in ``[low, high]``.

    Python numbers, NumPy scalars and 0-d real arrays give a Python float. A traced value
    (under ``fgrad.jit``) is checked on the value it was traced with and returned as it
    is: a traced Python number always (it behaves as the number would), a traced array
    only with ``traced_arrays`` (values combined with the parameters through
    :func:`_scalar`, which casts them to each parameter's dtype). With ``keep_arrays``
    (implies ``traced_arrays``), NumPy scalars and 0-d arrays are returned as they are
    too, so eager code computes with them exactly as a ``fgrad.jit`` replay does.
    """
    traced_arrays = traced_arrays or keep_arrays
    plain = peek(value)
    if value.__class__ is Tracer and plain.__class__ not in _PYTHON_REALS and not traced_arrays:
        raise TypeError(
            f"{fn}: {name} is a traced array here; pass it as a Python float (a Python "
            "number argument of a jitted function is traced as the number it is)"
        )
    if isinstance(plain, np.ndarray) and plain.ndim == 0 and plain.dtype.kind in "iuf":
        plain = plain[()]
    if isinstance(plain, (bool, np.bool_)) or not isinstance(plain, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {value!r}")
    v = float(plain)
    if not (math.isfinite(v) and low <= v <= high):
        raise ValueError(f"{fn}: {name} must be finite and in [{low}, {high}], got {value!r}")
    if value.__class__ is Tracer or (keep_arrays and value.__class__ not in _PYTHON_REALS):
        return value
    return v


def _open_unit(value: object, name: str, fn: str, keep_arrays: bool = False) -> Any:
    v = _real(value, name, fn, low=0.0, high=1.0, keep_arrays=keep_arrays)
    if float(np.asarray(peek(v))) == 1.0:
        raise ValueError(f"{fn}: {name} must be in [0, 1), got {value!r}")
    return v


def _positive(value: object, name: str, fn: str) -> Any:
    v = _real(value, name, fn, low=0.0)
    if float(peek(v)) == 0.0:
        raise ValueError(f"{fn}: {name} must be > 0, got {value!r}")
    return v


def _int(value: object, name: str, fn: str, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{fn}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _steps(value: object, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return int(value)


def _schedule(learning_rate: object, fn: str) -> Any:
    if callable(learning_rate):
        return learning_rate
    return _real(learning_rate, "learning_rate", fn, low=0.0, keep_arrays=True)


def _lr(schedule: Any, count: Any) -> Any:
    if callable(schedule):
        return schedule(count)
    return schedule


def _check_state(state: object, cls: type, fn: str) -> None:
    if not isinstance(state, cls):
        raise TypeError(
            f"{fn}.update: state must be the {cls.__name__} made by {fn}(...).init(params), "
            f"got {type(state).__name__}"
        )


def _step(step: Any, fn: str) -> Any:
    value: Any = peek(step)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        negative = bool(np.any(value < 0))
    else:
        try:
            negative = operator.index(value) < 0
        except TypeError:
            raise TypeError(f"{fn} schedule: step must be an integer, got {step!r}") from None
    if negative:
        raise ValueError(f"{fn} schedule: step must be >= 0, got {value!r}")
    return step


def _schedule_value(step: Any, value: Any) -> Any:
    """A Python float for an integer step; an array for an array step (e.g. a state's count)."""
    if isinstance(step, np.ndarray) or step.__class__ is Tracer:
        return value
    return float(value)


# --------------------------------------------------------------------------- stateless


def sgd_update(params: Any, grads: Any, lr: Any) -> Any:
    """One plain gradient-descent step: ``p - lr * g`` for every leaf.

    Parameters
    ----------
    params : pytree
        Current parameters.
    grads : pytree
        Gradients with the same structure, e.g. from :func:`fgrad.grad`.
    lr : float or 0-d array
        Step size; an array is cast to each parameter's dtype (as a float is).

    Returns
    -------
    pytree
        New parameters with read-only leaves; the inputs are not modified.

    Raises
    ------
    ValueError
        If the structures differ (the message gives the path).

    Examples
    --------
    >>> from fgrad import optim
    >>> params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    >>> grads = {"w": np.array([10.0, -10.0]), "b": np.array(1.0)}
    >>> new = optim.sgd_update(params, grads, lr=0.1)
    >>> new
    {'b': array(0.4), 'w': array([0., 3.])}
    >>> new["w"].flags.writeable, params["w"].tolist()
    (False, [1.0, 2.0])
    """
    step = _real(lr, "lr", "sgd_update", low=-math.inf, traced_arrays=True)
    if step.__class__ is float:
        return _map("sgd_update: params and grads differ", lambda p, g: p - step * g, params, grads)
    return _map(
        "sgd_update: params and grads differ",
        lambda p, g: p - _scalar(step, g) * g,
        params,
        grads,
    )


def apply_updates(params: Any, updates: Any) -> Any:
    """Add updates to parameters: ``p + u`` for every leaf.

    Returns
    -------
    pytree
        New parameters with read-only leaves, cast back to each parameter's
        dtype; the inputs are not modified.

    Raises
    ------
    ValueError
        If the structures differ (the message gives the path).

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.apply_updates((np.ones(2), 1.0), (np.array([0.5, -0.5]), np.array(2.0)))
    (array([1.5, 0.5]), array(3.))
    """

    def add(p: Any, u: Any) -> Any:
        out = p + u
        if out.__class__ is Tracer:
            return out
        dtype = np.result_type(peek(p))
        return out.astype(dtype, copy=False) if dtype.kind == "f" else out

    return _map("apply_updates: params and updates differ", add, params, updates)


# --------------------------------------------------------------------------- schedules


def constant(value: float) -> Schedule:
    """Schedule returning ``value`` at every step.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.constant(0.1)(1000)
    0.1
    """
    v = _real(value, "value", "constant", low=-math.inf)

    def schedule(step: Any) -> Any:
        _step(step, "constant")
        return v

    return schedule


def linear(init_value: float, end_value: float, transition_steps: int) -> Schedule:
    """Schedule going linearly from ``init_value`` to ``end_value``, then constant.

    ``lr(step) = init + (end - init) * min(step, transition_steps) / transition_steps``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.linear(0.1, 0.01, transition_steps=100)
    >>> [round(lr(s), 4) for s in (0, 50, 100, 1000)]
    [0.1, 0.055, 0.01, 0.01]
    """
    a = _real(init_value, "init_value", "linear", low=-math.inf)
    b = _real(end_value, "end_value", "linear", low=-math.inf)
    n = _steps(transition_steps, "transition_steps", "linear")

    def schedule(step: Any) -> Any:
        return _schedule_value(step, a + (b - a) * fnp.minimum(_step(step, "linear"), n) / n)

    return schedule


def exponential(init_value: float, decay_rate: float, transition_steps: int) -> Schedule:
    """Deprecated: use :func:`exponential_decay` (optax's name and argument order).

    Schedule ``init_value * decay_rate ** (step / transition_steps)``. Its second and
    third arguments are in the other order than optax's
    ``exponential_decay(init_value, transition_steps, decay_rate)``, so a call by position
    written for one means another schedule for the other: every call warns
    (``DeprecationWarning``). Keyword calls keep working until its removal.

    Warns
    -----
    DeprecationWarning
        Always, naming :func:`exponential_decay`.

    Examples
    --------
    >>> import warnings
    >>> from fgrad import optim
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     lr = optim.exponential(0.1, decay_rate=0.5, transition_steps=10)
    >>> caught[0].category.__name__, "exponential_decay" in str(caught[0].message)
    ('DeprecationWarning', True)
    >>> [round(lr(s), 4) for s in (0, 10, 20, 5)]
    [0.1, 0.05, 0.025, 0.0707]
    >>> optim.exponential_decay(0.1, transition_steps=10, decay_rate=0.5)(20)
    0.025
    """
    warnings.warn(
        "fgrad.optim.exponential(init_value, decay_rate, transition_steps) is deprecated: "
        "use fgrad.optim.exponential_decay(init_value, transition_steps, decay_rate), "
        "optax's name and argument order (note: transition_steps comes before decay_rate)",
        DeprecationWarning,
        stacklevel=2,
    )
    a = _real(init_value, "init_value", "exponential", low=-math.inf)
    rate = _positive(decay_rate, "decay_rate", "exponential")
    n = _steps(transition_steps, "transition_steps", "exponential")

    def schedule(step: Any) -> Any:
        return _schedule_value(step, a * rate ** (_step(step, "exponential") / n))

    return schedule


def cosine(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` over ``decay_steps``.

    ``lr(step) = init * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)`` with
    ``t = min(step, decay_steps) / decay_steps``; constant afterwards.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.cosine(0.1, decay_steps=100, alpha=0.1)
    >>> [round(lr(s), 4) for s in (0, 50, 100, 200)]
    [0.1, 0.055, 0.01, 0.01]
    """
    a = _real(init_value, "init_value", "cosine", low=-math.inf)
    n = _steps(decay_steps, "decay_steps", "cosine")
    floor = _real(alpha, "alpha", "cosine", low=0.0, high=1.0)

    def schedule(step: Any) -> Any:
        t = fnp.minimum(_step(step, "cosine"), n) / n
        return _schedule_value(step, a * ((1 - floor) * 0.5 * (1 + fnp.cos(math.pi * t)) + floor))

    return schedule


# --------------------------------------------------------------------------- optax schedules


def _any_step(step: Any, fn: str) -> Any:
    value = peek(step)
    if isinstance(value, np.ndarray):
        ok = value.dtype.kind in "iuf"
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if not ok:
        raise TypeError(f"{fn}: step must be a real number or an array of them, got {step!r}")
    return step


def _schedule_out(step: Any, value: Any) -> Any:
    """A Python float for a number step; an array for an array step (a state's ``count``)."""
    if step.__class__ is Tracer or isinstance(step, np.ndarray) or value.__class__ is Tracer:
        return value
    return float(value)


def _hyper_value(value: object, name: str, fn: str) -> Any:
    """A schedule constant: a real number (traced Python numbers and arrays stay traced)."""
    return _real(value, name, fn, low=-math.inf, traced_arrays=True)


def constant_schedule(value: float) -> Schedule:
    """Schedule returning ``value`` at every step (``optax.constant_schedule``).

    Parameters
    ----------
    value : float
        The value; a traced value (under :func:`fgrad.jit`) is returned as it is.

    Returns
    -------
    callable
        ``schedule(step) -> value``.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.constant_schedule(0.1)(1000)
    0.1
    """
    v = _hyper_value(value, "value", "constant_schedule")

    def schedule(step: Any) -> Any:
        _any_step(step, "constant_schedule")
        return v

    return schedule


def polynomial_schedule(
    init_value: float,
    end_value: float,
    power: float,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
    """Polynomial transition from ``init_value`` to ``end_value`` (``optax.polynomial_schedule``).

    With ``t = clip(step - transition_begin, 0, transition_steps)``::

        lr(step) = (init_value - end_value) * (1 - t / transition_steps) ** power + end_value

    As in optax, ``transition_steps <= 0`` gives the constant ``init_value`` and a
    negative ``transition_begin`` counts as 0.

    Parameters
    ----------
    init_value, end_value : float
        Values before ``transition_begin`` and after ``transition_begin + transition_steps``.
    power : float
        Exponent of the transition (1 is linear).
    transition_steps : int
        Length of the transition.
    transition_begin : int, default=0
        Steps during which the value stays ``init_value``.

    Returns
    -------
    callable
        ``schedule(step)``: a float for a number step, an array for an array step.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.polynomial_schedule(1.0, 0.01, power=2, transition_steps=100,
    ...                                transition_begin=5)
    >>> [round(lr(s), 4) for s in (0, 5, 6, 104, 105, 110)]
    [1.0, 1.0, 0.9803, 0.0101, 0.01, 0.01]
    """
    fn = "polynomial_schedule"
    init = _hyper_value(init_value, "init_value", fn)
    end = _hyper_value(end_value, "end_value", fn)
    exponent = power if power.__class__ is int else _hyper_value(power, "power", fn)
    steps = _int(transition_steps, "transition_steps", fn)
    begin = max(_int(transition_begin, "transition_begin", fn), 0)
    if steps <= 0:
        return constant_schedule(init)

    def schedule(step: Any) -> Any:
        t = fnp.clip(_any_step(step, fn) - begin, 0, steps)
        return _schedule_out(step, (init - end) * (1 - t / steps) ** exponent + end)

    return schedule


def linear_schedule(
    init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """Linear transition from ``init_value`` to ``end_value`` (``optax.linear_schedule``).

    :func:`polynomial_schedule` with ``power=1``: ``init_value`` until
    ``transition_begin``, then linear over ``transition_steps`` steps, then ``end_value``.

    Parameters
    ----------
    init_value, end_value : float
    transition_steps : int
        ``<= 0`` gives the constant ``init_value`` (as in optax).
    transition_begin : int, default=0

    Returns
    -------
    callable
        ``schedule(step)``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.linear_schedule(0.1, 0.01, transition_steps=100, transition_begin=10)
    >>> [round(lr(s), 4) for s in (0, 10, 60, 110, 1000)]
    [0.1, 0.1, 0.055, 0.01, 0.01]
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: dict[int, float] | None = None
) -> Schedule:
    """``init_value`` times every scale whose boundary the step has reached (optax's).

    Parameters
    ----------
    init_value : float
    boundaries_and_scales : dict of int to float, optional
        ``{step: scale}``: from ``step`` on, the value is multiplied by ``scale`` (>= 0).

    Returns
    -------
    callable
        ``schedule(step)``.

    Raises
    ------
    ValueError
        If a scale is negative.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.5})
    >>> [lr(s) for s in (0, 99, 100, 250)]
    [1.0, 1.0, 0.1, 0.05]
    """
    fn = "piecewise_constant_schedule"
    init = _hyper_value(init_value, "init_value", fn)
    pieces = []
    for boundary, factor in sorted((boundaries_and_scales or {}).items()):
        _int(boundary, f"boundaries_and_scales key {boundary!r}", fn)
        pieces.append(
            (int(boundary), _real(factor, f"boundaries_and_scales[{boundary!r}]", fn, low=0.0))
        )

    def schedule(step: Any) -> Any:
        _any_step(step, fn)
        value = init
        for boundary, factor in pieces:
            if step.__class__ is Tracer or isinstance(step, np.ndarray):
                value = fnp.where(step >= boundary, value * factor, value)
            elif step >= boundary:
                value = value * factor
        return _schedule_out(step, value)

    return schedule


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    """Exponential decay (``optax.exponential_decay``, same arguments in the same order).

    With ``d = step - transition_begin`` and ``p = d / transition_steps`` (``floor(p)``
    with ``staircase``): ``lr = init_value`` while ``d <= 0``, then
    ``init_value * decay_rate ** p``, bounded by ``end_value`` if given (a lower bound
    when ``decay_rate < 1``, an upper bound otherwise). As in optax,
    ``transition_steps <= 0`` or ``decay_rate == 0`` give the constant ``init_value`` and
    a negative ``transition_begin`` counts as 0.

    Parameters
    ----------
    init_value : float
    transition_steps : int
    decay_rate : float
        ``>= 0``.
    transition_begin : int, default=0
    staircase : bool, default=False
    end_value : float, optional

    Returns
    -------
    callable
        ``schedule(step)``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.exponential_decay(1.0, transition_steps=10, decay_rate=0.5,
    ...                              staircase=True, end_value=0.2)
    >>> [lr(s) for s in (0, 9, 10, 25, 40)]
    [1.0, 1.0, 0.5, 0.25, 0.2]
    """
    fn = "exponential_decay"
    init = _hyper_value(init_value, "init_value", fn)
    steps = _int(transition_steps, "transition_steps", fn)
    rate = _real(decay_rate, "decay_rate", fn, low=0.0, traced_arrays=True)
    begin = max(_int(transition_begin, "transition_begin", fn), 0)
    if not isinstance(staircase, bool):
        raise TypeError(f"{fn}: staircase must be a bool, got {staircase!r}")
    end = None if end_value is None else _hyper_value(end_value, "end_value", fn)
    if steps <= 0 or rate == 0:
        return constant_schedule(init)
    bound = fnp.maximum if rate < 1.0 else fnp.minimum

    def schedule(step: Any) -> Any:
        elapsed = _any_step(step, fn) - begin
        p = elapsed / steps
        if staircase:
            p = fnp.floor(p)
        value = fnp.where(elapsed <= 0, init, init * fnp.power(rate, p))
        if end is not None:
            value = bound(value, end)
        return _schedule_out(step, value)

    return schedule


def cosine_decay_schedule(
    init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0
) -> Schedule:
    """Cosine decay from ``init_value`` to ``alpha * init_value`` (optax's).

    With ``t = min(step, decay_steps)``::

        lr = init_value * ((1 - alpha) * (0.5 * (1 + cos(pi * t / decay_steps))) ** exponent
                           + alpha)

    Parameters
    ----------
    init_value : float
    decay_steps : int
        Positive.
    alpha : float, default=0.0
        Final multiplier.
    exponent : float, default=1.0

    Returns
    -------
    callable
        ``schedule(step)``.

    Raises
    ------
    ValueError
        If ``decay_steps`` is not positive.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.cosine_decay_schedule(0.1, decay_steps=100, alpha=0.1)
    >>> [round(lr(s), 4) for s in (0, 50, 100, 200)]
    [0.1, 0.055, 0.01, 0.01]
    """
    fn = "cosine_decay_schedule"
    init = _hyper_value(init_value, "init_value", fn)
    steps = _int(decay_steps, "decay_steps", fn, low=1)
    floor = _hyper_value(alpha, "alpha", fn)
    power = _hyper_value(exponent, "exponent", fn)

    def schedule(step: Any) -> Any:
        t = fnp.minimum(_any_step(step, fn), steps)
        cosine = 0.5 * (1 + fnp.cos(math.pi * t / steps))
        return _schedule_out(step, init * ((1 - floor) * cosine**power + floor))

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """One schedule after another (``optax.join_schedules``).

    ``schedules[i + 1]`` takes over at ``boundaries[i]`` and is called with the steps
    since that boundary. On a number step only the active schedule is called; on an
    array step (a state's ``count``, under :func:`fgrad.jit`) every schedule is, each at
    ``max(step - boundary, 0)``, and the active value is selected, so no read of the
    step is needed.

    Parameters
    ----------
    schedules : sequence of callables
    boundaries : sequence of int
        One fewer than ``schedules``.

    Returns
    -------
    callable
        ``schedule(step)``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.join_schedules(
    ...     [optim.constant_schedule(1.0), optim.linear_schedule(1.0, 0.0, 10)], [5])
    >>> [lr(s) for s in (0, 4, 5, 10, 20)]
    [1.0, 1.0, 1.0, 0.5, 0.0]
    """
    fn = "join_schedules"
    parts = list(schedules)
    bounds = [_int(b, f"boundaries[{i}]", fn) for i, b in enumerate(boundaries)]
    for i, part in enumerate(parts):
        if not callable(part):
            raise TypeError(f"{fn}: schedules[{i}] must be a callable, got {part!r:.80}")
    if not parts or len(bounds) != len(parts) - 1:
        raise ValueError(
            f"{fn}: needs one boundary fewer than schedules, got {len(parts)} schedules and "
            f"{len(bounds)} boundaries"
        )

    def schedule(step: Any) -> Any:
        if step.__class__ is Tracer or isinstance(step, np.ndarray):
            value = parts[0](step)
            for boundary, part in zip(bounds, parts[1:]):
                value = fnp.where(step < boundary, value, part(fnp.maximum(step - boundary, 0)))
            return value
        for boundary, part in zip(reversed(bounds), reversed(parts[1:])):
            if step >= boundary:
                return part(step - boundary)
        return parts[0](step)

    return schedule


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    """Linear warmup to ``peak_value``, then cosine decay to ``end_value`` (optax's).

    Parameters
    ----------
    init_value, peak_value : float
    warmup_steps : int
    decay_steps : int
        Length of the whole schedule, warmup included (as in optax): the cosine part
        lasts ``decay_steps - warmup_steps`` steps, which must be positive.
    end_value : float, default=0.0
    exponent : float, default=1.0

    Returns
    -------
    callable
        ``schedule(step)``.

    Raises
    ------
    ValueError
        If ``decay_steps <= warmup_steps``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110,
    ...                                         end_value=0.1)
    >>> [round(lr(s), 4) for s in (0, 5, 10, 60, 110, 200)]
    [0.0, 0.5, 1.0, 0.55, 0.1, 0.1]
    """
    fn = "warmup_cosine_decay_schedule"
    peak = _hyper_value(peak_value, "peak_value", fn)
    end = _hyper_value(end_value, "end_value", fn)
    warmup = _int(warmup_steps, "warmup_steps", fn)
    total = _int(decay_steps, "decay_steps", fn)
    if total - warmup <= 0:
        raise ValueError(
            f"{fn}: decay_steps ({total}) must be greater than warmup_steps ({warmup}); "
            "decay_steps is the length of the whole schedule, warmup included"
        )
    alpha = 0.0 if peak == 0.0 else end / peak
    return join_schedules(
        [
            linear_schedule(init_value, peak, warmup),
            cosine_decay_schedule(peak, total - warmup, alpha, exponent),
        ],
        [warmup],
    )


def warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    """Linear warmup to ``peak_value``, then :func:`exponential_decay` from it (optax's).

    Parameters
    ----------
    init_value, peak_value : float
    warmup_steps : int
    transition_steps, decay_rate, transition_begin, staircase, end_value
        As in :func:`exponential_decay`, counted from the end of the warmup.

    Returns
    -------
    callable
        ``schedule(step)``.

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.warmup_exponential_decay_schedule(0.0, 1.0, warmup_steps=4,
    ...                                              transition_steps=2, decay_rate=0.5)
    >>> [lr(s) for s in (0, 2, 4, 6, 8)]
    [0.0, 0.5, 1.0, 0.5, 0.25]
    """
    warmup = _int(warmup_steps, "warmup_steps", "warmup_exponential_decay_schedule")
    return join_schedules(
        [
            linear_schedule(init_value, peak_value, warmup),
            exponential_decay(
                peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
            ),
        ],
        [warmup],
    )


# --------------------------------------------------------------------------- transformations


class GradientTransformation(NamedTuple):
    """An optimizer: a pair of pure functions ``(init, update)``.

    Attributes
    ----------
    init : callable
        ``init(params) -> state``.
    update : callable
        ``update(grads, state, params=None) -> (updates, new_state)``; add
        the updates to the parameters with :func:`apply_updates`.

    Examples
    --------
    >>> from fgrad import optim
    >>> def scale_by(factor):
    ...     return optim.GradientTransformation(
    ...         lambda params: (),
    ...         lambda grads, state, params=None: (grads * factor, state))
    >>> opt = optim.chain(scale_by(2.0), optim.sgd(0.1))
    >>> updates, state = opt.update(np.array([1.0]), opt.init(np.zeros(1)))
    >>> updates
    array([-0.2])
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class SgdState(NamedTuple):
    """State of :func:`sgd`: step count and momentum buffer (``None`` without momentum).

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.sgd(0.1, momentum=0.9).init({"w": np.ones(2)})
    SgdState(count=array(0), trace={'w': array([0., 0.])})
    """

    count: Any
    trace: Any


class AdamState(NamedTuple):
    """State of :func:`adam` and :func:`adamw`: step count, first and second moments.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.adam(1e-3).init(np.ones(2))
    AdamState(count=array(0), mu=array([0., 0.]), nu=array([0., 0.]))
    """

    count: Any
    mu: Any
    nu: Any


class RmsPropState(NamedTuple):
    """State of :func:`rmsprop`: step count and running mean of squared gradients.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.rmsprop(1e-3).init(np.ones(1))
    RmsPropState(count=array(0), nu=array([0.]))
    """

    count: Any
    nu: Any


class AdagradState(NamedTuple):
    """State of :func:`adagrad`: step count and sum of squared gradients.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.adagrad(0.1).init(np.ones(1))
    AdagradState(count=array(0), sum_of_squares=array([0.]))
    """

    count: Any
    sum_of_squares: Any


class ClipState(NamedTuple):
    """State of :func:`clip_by_global_norm`: just the step count.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.clip_by_global_norm(1.0).init(np.ones(1))
    ClipState(count=array(0))
    """

    count: Any


def _zeros_like(params: Any, fn: str, dtype: Any = None, allocate: bool = True) -> Any:
    """Zeros shaped like ``params`` (float64 for integer leaves, or ``dtype``), after checking
    that every leaf is an array of numbers; with ``allocate=False``, only the check."""
    target = None if dtype is None else np.dtype(dtype)
    paths_leaves, treedef = tree_flatten_with_path(params)
    zeros = []
    for path, p in paths_leaves:
        value = peek(p)
        dtype = None if isinstance(value, (str, bytes)) else np.asarray(value).dtype
        if dtype is None or dtype.kind not in "biuf":
            what = f"dtype {dtype}" if dtype is not None else f"a {type(value).__name__}"
            if dtype is None:
                what += f" ({value!r:.40})"
            raise TypeError(
                f"{fn}.init: params{keystr(path)} is {what}, not an array of numbers. Keep "
                "settings that are not parameters out of params, or mark the dataclass field "
                "static: fgrad.tree.register_dataclass(cls, static=(...))."
            )
        zeros_dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        if target is not None:
            zeros_dtype = target
        if allocate:
            zeros.append(_readonly(np.zeros(np.shape(value), zeros_dtype)))
    return tree_unflatten(treedef, zeros) if allocate else None


def sgd(
    learning_rate: ScalarOrSchedule, momentum: float | None = None, nesterov: bool = False
) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum (``optax.sgd``).

    Without momentum (``momentum=None``, the default, as in optax) the update is
    ``-lr * g`` and the state holds no buffer (``trace=None``). With momentum,
    ``t = g + momentum * t`` and the update is ``-lr * t``, or
    ``-lr * (g + momentum * t)`` with ``nesterov=True`` (as in optax and PyTorch).

    Parameters
    ----------
    learning_rate : float or schedule
    momentum : float, optional
        In ``[0, 1)``; ``None`` for none.
    nesterov : bool, default=False

    Returns
    -------
    GradientTransformation
        With state :class:`SgdState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.sgd(0.1, momentum=0.9)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.array([1.0]), state)
    >>> u2, state = opt.update(np.array([1.0]), state)
    >>> u1, u2
    (array([-0.1]), array([-0.19]))
    >>> optim.sgd(0.1).init(np.zeros(1))
    SgdState(count=array(0), trace=None)
    """
    schedule = _schedule(learning_rate, "sgd")
    mu = None if momentum is None else _open_unit(momentum, "momentum", "sgd", keep_arrays=True)
    if not isinstance(nesterov, bool):
        raise TypeError(f"sgd: nesterov must be a bool, got {nesterov!r}")

    def init(params: Any) -> SgdState:
        return SgdState(_count(0), _zeros_like(params, "sgd", allocate=mu is not None))

    def update(grads: Any, state: SgdState, params: Any = None) -> tuple[Any, SgdState]:
        _check_state(state, SgdState, "sgd")
        lr = _lr(schedule, state.count)
        where = "sgd.update: grads differ from the state"
        if mu is None:
            updates = _map(where, lambda g: -_scalar(lr, g) * g, grads)
            return updates, SgdState(_next(state.count), None)
        trace = _map(where, lambda g, t: g + _scalar(mu, t) * t, grads, state.trace)
        if nesterov:
            updates = _map(
                where, lambda g, t: -_scalar(lr, g) * (g + _scalar(mu, t) * t), grads, trace
            )
        else:
            updates = _map(where, lambda t: -_scalar(lr, t) * t, trace)
        return updates, SgdState(_next(state.count), trace)

    return GradientTransformation(init, update)


def _adam_direction(
    grads: Any,
    state: Any,
    hyper: tuple[Any, Any, Any, Any],
    where: str,
    mu_dtype: Any = None,
    nesterov: bool = False,
) -> tuple[Any, Any, Any]:
    """New moments and the bias-corrected direction ``m_hat / (sqrt(v_hat + eps_root) + eps)``.

    The moments are optax's ``(1 - b) * g + b * m``; ``hyper`` is ``(b1, b2, eps, eps_root)``,
    each a Python float or an array (cast to each leaf's dtype by :func:`_scalar`).
    """
    b1, b2, eps, eps_root = hyper

    def first(g: Any, m: Any) -> Any:
        b = _scalar(b1, g)
        return (1 - b) * g + b * m

    def second(g: Any, v: Any) -> Any:
        b = _scalar(b2, g)
        return (1 - b) * g * g + b * v

    mu = _map(where, first, grads, state.mu)
    nu = _map(where, second, grads, state.nu)
    t = state.count + 1

    def corrected(x: Any, b: Any, steps: Any) -> Any:
        return x / _scalar(1 - _scalar(b, x) ** steps, x)

    def direction(m: Any, v: Any, g: Any) -> Any:
        if nesterov:
            b = _scalar(b1, m)
            m_hat = b * corrected(m, b1, t + 1) + (1 - b) * corrected(g, b1, t)
        else:
            m_hat = corrected(m, b1, t)
        return m_hat / (fnp.sqrt(corrected(v, b2, t) + _scalar(eps_root, v)) + _scalar(eps, v))

    directions = tree_map(direction, mu, nu, grads)
    if mu_dtype is not None:
        mu = _map(where, lambda m: fnp.astype(m, mu_dtype), mu)
    return mu, nu, directions


def _adam_hyper(fn: str, b1: Any, b2: Any, eps: Any, eps_root: Any) -> tuple[Any, Any, Any, Any]:
    return (
        _open_unit(b1, "b1", fn, keep_arrays=True),
        _open_unit(b2, "b2", fn, keep_arrays=True),
        _real(eps, "eps", fn, low=0.0, keep_arrays=True),
        _real(eps_root, "eps_root", fn, low=0.0, keep_arrays=True),
    )


def _dtype_arg(dtype: Any, name: str, fn: str) -> np.dtype[Any] | None:
    if dtype is None:
        return None
    try:
        out = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{fn}: {name} must be a NumPy float dtype or None, got {dtype!r}"
        ) from None
    if out.kind != "f":
        raise TypeError(f"{fn}: {name} must be a NumPy float dtype or None, got {dtype!r}")
    return out


def adam(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam (Kingma & Ba, 2015) with bias correction (``optax.adam``, same arguments).

    At step ``t`` (1 for the first update)::

        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g ** 2 + b2 * v
        update = -lr * (m / (1 - b1 ** t)) / (sqrt(v / (1 - b2 ** t) + eps_root) + eps)

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2 : float, default=0.9, 0.999
        Decay rates of the moment estimates, in ``[0, 1)``.
    eps : float, default=1e-8
        Added to the denominator.
    eps_root : float, default=0.0
        Added inside the square root.
    mu_dtype : dtype, optional
        Dtype of the first moment (default: each parameter's).
    nesterov : bool, default=False
        Nesterov momentum (NAdam), as optax's ``nesterov=True``.

    Returns
    -------
    GradientTransformation
        With state :class:`AdamState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.adam(0.1)
    >>> updates, state = opt.update(np.array([3.0, -0.01]), opt.init(np.zeros(2)))
    >>> np.round(updates, 6), state.count
    (array([-0.1,  0.1]), array(1))
    """
    schedule = _schedule(learning_rate, "adam")
    hyper = _adam_hyper("adam", b1, b2, eps, eps_root)
    moment_dtype = _dtype_arg(mu_dtype, "mu_dtype", "adam")
    if not isinstance(nesterov, bool):
        raise TypeError(f"adam: nesterov must be a bool, got {nesterov!r}")

    def init(params: Any) -> AdamState:
        return AdamState(
            _count(0), _zeros_like(params, "adam", moment_dtype), _zeros_like(params, "adam")
        )

    def update(grads: Any, state: AdamState, params: Any = None) -> tuple[Any, AdamState]:
        _check_state(state, AdamState, "adam")
        where = "adam.update: grads differ from the state"
        lr = _lr(schedule, state.count)
        mu, nu, direction = _adam_direction(grads, state, hyper, where, moment_dtype, nesterov)
        updates = _map(where, lambda d: -_scalar(lr, d) * d, direction)
        return updates, AdamState(_next(state.count), mu, nu)

    return GradientTransformation(init, update)


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    weight_decay: float = 1e-4,
    mask: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam with decoupled weight decay (``optax.adamw``, same arguments in the same order).

    The update is Adam's plus ``-lr * weight_decay * p``: the decay is applied
    to the parameters directly instead of being added to the gradient, so it
    is not rescaled by the second-moment estimate. ``update`` therefore needs
    ``params``. Note the order: ``weight_decay`` is the 7th argument, after
    ``eps_root`` and ``mu_dtype``, as in optax (fgrad's adamw used to take it 5th:
    pass it by keyword).

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2, eps, eps_root, mu_dtype, nesterov
        As in :func:`adam`.
    weight_decay : float, default=1e-4
        Non-negative decay coefficient.
    mask : pytree of bool or callable, optional
        Which parameters are decayed (as in :func:`masked`): a pytree of bools that is
        the params' structure or a prefix of it, or ``mask(params) ->`` such a pytree.
        Default: every leaf, biases included.

    Returns
    -------
    GradientTransformation
        With state :class:`AdamState`.

    Raises
    ------
    ValueError
        From ``update`` if ``params`` is not given.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.adamw(0.1, weight_decay=0.5)
    >>> params = np.array([2.0])
    >>> updates, state = opt.update(np.array([0.0]), opt.init(params), params)
    >>> updates
    array([-0.1])
    >>> no_bias_decay = optim.adamw(0.1, weight_decay=0.5, mask={"w": True, "b": False})
    >>> params = {"w": np.array([2.0]), "b": np.array([2.0])}
    >>> grads = {"w": np.zeros(1), "b": np.zeros(1)}
    >>> no_bias_decay.update(grads, no_bias_decay.init(params), params)[0]
    {'b': array([-0.]), 'w': array([-0.1])}
    """
    schedule = _schedule(learning_rate, "adamw")
    hyper = _adam_hyper("adamw", b1, b2, eps, eps_root)
    moment_dtype = _dtype_arg(mu_dtype, "mu_dtype", "adamw")
    decay = _real(weight_decay, "weight_decay", "adamw", low=0.0, keep_arrays=True)
    if not isinstance(nesterov, bool):
        raise TypeError(f"adamw: nesterov must be a bool, got {nesterov!r}")

    def init(params: Any) -> AdamState:
        return AdamState(
            _count(0), _zeros_like(params, "adamw", moment_dtype), _zeros_like(params, "adamw")
        )

    def update(grads: Any, state: AdamState, params: Any = None) -> tuple[Any, AdamState]:
        _check_state(state, AdamState, "adamw")
        if params is None:
            raise ValueError(
                "adamw.update needs the current params for weight decay: "
                "call update(grads, state, params)"
            )
        where = "adamw.update: grads differ from the state or params"
        lr = _lr(schedule, state.count)
        mu, nu, direction = _adam_direction(grads, state, hyper, where, moment_dtype, nesterov)
        decayed = _leaf_flags(mask, params, "adamw", "params")

        def step(d: Any, p: Any, on: bool) -> Any:
            return -_scalar(lr, d) * (d + _scalar(decay, d) * p if on else d)

        flags = tree_unflatten(tree_structure(params), decayed)
        updates = _map(where, step, direction, params, flags)
        return updates, AdamState(_next(state.count), mu, nu)

    return GradientTransformation(init, update)


def rmsprop(
    learning_rate: ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    """RMSProp (Tieleman & Hinton, 2012).

    ``v = decay * v + (1 - decay) * g ** 2``; update ``-lr * g / (sqrt(v) + eps)``.
    ``v`` starts at zero and is not bias-corrected, as in PyTorch. optax's
    ``rmsprop`` puts ``eps`` inside the square root by default
    (``g / sqrt(v + eps)``): the same for ``eps`` small against ``v``, not bit for bit.

    Parameters
    ----------
    learning_rate : float or schedule
    decay : float, default=0.9
        In ``[0, 1)``.
    eps : float, default=1e-8

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.rmsprop(0.01, decay=0.75)
    >>> updates, state = opt.update(np.array([4.0]), opt.init(np.zeros(1)))
    >>> np.round(updates, 6), state.nu
    (array([-0.02]), array([4.]))
    """
    schedule = _schedule(learning_rate, "rmsprop")
    rho = _open_unit(decay, "decay", "rmsprop")
    eps = _real(eps, "eps", "rmsprop", low=0.0)

    def init(params: Any) -> RmsPropState:
        return RmsPropState(_count(0), _zeros_like(params, "rmsprop"))

    def update(grads: Any, state: RmsPropState, params: Any = None) -> tuple[Any, RmsPropState]:
        _check_state(state, RmsPropState, "rmsprop")
        where = "rmsprop.update: grads differ from the state"
        lr = _lr(schedule, state.count)
        nu = _map(where, lambda g, v: rho * v + (1 - rho) * g * g, grads, state.nu)
        updates = _map(where, lambda g, v: -_scalar(lr, g) * g / (fnp.sqrt(v) + eps), grads, nu)
        return updates, RmsPropState(_next(state.count), nu)

    return GradientTransformation(init, update)


def adagrad(learning_rate: ScalarOrSchedule, eps: float = 1e-8) -> GradientTransformation:
    """Adagrad (Duchi et al., 2011), as in PyTorch (not optax's defaults).

    ``G = G + g ** 2``; update ``-lr * g / (sqrt(G) + eps)``, with ``G``
    starting at zero. optax's ``adagrad`` starts ``G`` at 0.1 and divides by
    ``sqrt(G + 1e-7)`` instead.

    Parameters
    ----------
    learning_rate : float or schedule
    eps : float, default=1e-8

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.adagrad(0.5)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.array([3.0]), state)
    >>> u2, state = opt.update(np.array([4.0]), state)
    >>> np.round(u1, 6), np.round(u2, 6), state.sum_of_squares
    (array([-0.5]), array([-0.4]), array([25.]))
    """
    schedule = _schedule(learning_rate, "adagrad")
    eps = _real(eps, "eps", "adagrad", low=0.0)

    def init(params: Any) -> AdagradState:
        return AdagradState(_count(0), _zeros_like(params, "adagrad"))

    def update(grads: Any, state: AdagradState, params: Any = None) -> tuple[Any, AdagradState]:
        _check_state(state, AdagradState, "adagrad")
        where = "adagrad.update: grads differ from the state"
        lr = _lr(schedule, state.count)
        total = _map(where, lambda g, s: s + g * g, grads, state.sum_of_squares)
        updates = _map(where, lambda g, s: -_scalar(lr, g) * g / (fnp.sqrt(s) + eps), grads, total)
        return updates, AdagradState(_next(state.count), total)

    return GradientTransformation(init, update)


def _clip_scale(leaves: list[Any], bound: float) -> Any:
    """``bound / max(norm, bound)``, the norm scaled by the largest entry so it cannot overflow."""
    wide = [fnp.astype(g, np.float64) for g in leaves if np.size(peek(g))]
    if not wide:
        return 1.0
    peak = fnp.max(fnp.stack([fnp.max(fnp.absolute(g)) for g in wide]))
    unit = fnp.maximum(peak, np.finfo(np.float64).tiny)
    total = sum(fnp.sum(fnp.square(g / unit)) for g in wide)
    return bound / fnp.maximum(unit * fnp.sqrt(total), bound)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale the gradients so that their global norm is at most ``max_norm``.

    The global norm is ``sqrt(sum of g ** 2 over all leaves)``, accumulated
    in float64 after dividing by the largest ``|g|``, so it does not overflow
    even for huge gradients. Gradients with a smaller norm pass unchanged (as new
    arrays). Chain it before an optimizer:
    ``chain(clip_by_global_norm(1.0), adam(1e-3))``.

    Parameters
    ----------
    max_norm : float
        Positive bound.

    Examples
    --------
    >>> from fgrad import optim
    >>> clip = optim.clip_by_global_norm(1.0)
    >>> updates, _ = clip.update((np.array([3.0]), np.array([4.0])), clip.init(None))
    >>> updates
    (array([0.6]), array([0.8]))
    """
    bound = _positive(max_norm, "max_norm", "clip_by_global_norm")

    def init(params: Any) -> ClipState:
        return ClipState(_count(0))

    def update(grads: Any, state: ClipState, params: Any = None) -> tuple[Any, ClipState]:
        _check_state(state, ClipState, "clip_by_global_norm")
        scale = _clip_scale(tree_leaves(grads), bound)
        updates = _map("clip_by_global_norm", lambda g: g * _scalar(scale, g), grads)
        return updates, ClipState(_next(state.count))

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply transformations in sequence, each to the previous one's updates.

    The state is a tuple with each transformation's state.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(0.5))
    >>> state = opt.init(np.zeros(2))
    >>> updates, state = opt.update(np.array([30.0, 40.0]), state)
    >>> updates, len(state)
    (array([-0.3, -0.4]), 2)
    """
    for i, t in enumerate(transforms):
        if not (isinstance(t, tuple) and len(t) == 2 and all(map(callable, t))):
            raise TypeError(
                f"chain: argument {i} must be a GradientTransformation (init, update), "
                f"got {t!r:.80}"
            )

    def init(params: Any) -> tuple[Any, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(grads: Any, state: Any, params: Any = None) -> tuple[Any, tuple[Any, ...]]:
        if not (isinstance(state, tuple) and len(state) == len(transforms)):
            raise TypeError(
                f"chain.update: state must be the tuple of {len(transforms)} states made by "
                f"chain(...).init(params), got {type(state).__name__}"
            )
        new_states = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new_states.append(s)
        return grads, tuple(new_states)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- optax building blocks


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none (``optax.EmptyState``).

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.scale(2.0).init(np.ones(2))
    EmptyState()
    """


def _is_transformation(t: object) -> bool:
    return isinstance(t, tuple) and len(t) == 2 and all(map(callable, t))


def _check_transformation(t: object, what: str, fn: str) -> None:
    if not _is_transformation(t):
        raise TypeError(
            f"{fn}: {what} must be a GradientTransformation (init, update), got {t!r:.80}"
        )


def _copies(tree: Any, fn: str) -> Any:
    return _map(fn, _fresh, tree)


def identity() -> GradientTransformation:
    """The transformation that passes the updates through (``optax.identity``).

    Returns
    -------
    GradientTransformation
        With state :class:`EmptyState`; the updates are returned as read-only copies.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.identity().update(np.array([1.0, 2.0]), optim.EmptyState())[0]
    array([1., 2.])
    """

    def init(params: Any) -> EmptyState:
        return EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, EmptyState]:
        return _copies(updates, "identity.update"), EmptyState()

    return GradientTransformation(init, update)


def scale(step_size: float) -> GradientTransformation:
    """Multiply every update by ``step_size`` (``optax.scale``).

    Parameters
    ----------
    step_size : float
        Any real number; a 0-d array or traced value is cast to each update's dtype.

    Returns
    -------
    GradientTransformation
        With state :class:`EmptyState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.chain(optim.scale_by_adam(), optim.scale(-0.1))
    >>> updates, state = opt.update(np.array([2.0]), opt.init(np.zeros(1)))
    >>> np.round(updates, 6)
    array([-0.1])
    """
    factor = _real(step_size, "step_size", "scale", low=-math.inf, keep_arrays=True)

    def init(params: Any) -> EmptyState:
        return EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        _check_state(state, EmptyState, "scale")
        return _map("scale.update", lambda g: _scalar(factor, g) * g, updates), state

    return GradientTransformation(init, update)


class ScaleByScheduleState(NamedTuple):
    """State of :func:`scale_by_schedule`: the step count.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.scale_by_schedule(optim.constant_schedule(1.0)).init(np.ones(1))
    ScaleByScheduleState(count=array(0))
    """

    count: Any


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply the updates by ``step_size_fn(count)`` (``optax.scale_by_schedule``).

    Parameters
    ----------
    step_size_fn : callable
        ``step -> factor``, called with the number of updates done so far (0 first).

    Returns
    -------
    GradientTransformation
        With state :class:`ScaleByScheduleState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.scale_by_schedule(optim.linear_schedule(-1.0, 0.0, 2))
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.ones(1), state)
    >>> u2, state = opt.update(np.ones(1), state)
    >>> u1, u2
    (array([-1.]), array([-0.5]))
    """
    if not callable(step_size_fn):
        raise TypeError(
            f"scale_by_schedule: step_size_fn must be a callable, got {step_size_fn!r:.80}"
        )

    def init(params: Any) -> ScaleByScheduleState:
        return ScaleByScheduleState(_count(0))

    def update(
        updates: Any, state: ScaleByScheduleState, params: Any = None
    ) -> tuple[Any, ScaleByScheduleState]:
        _check_state(state, ScaleByScheduleState, "scale_by_schedule")
        factor = step_size_fn(state.count)
        out = _map("scale_by_schedule.update", lambda g: _scalar(factor, g) * g, updates)
        return out, ScaleByScheduleState(_next(state.count))

    return GradientTransformation(init, update)


def scale_by_learning_rate(
    learning_rate: ScalarOrSchedule | None, *, flip_sign: bool = True
) -> GradientTransformation:
    """Multiply the updates by ``-learning_rate`` (``optax.scale_by_learning_rate``).

    Parameters
    ----------
    learning_rate : float, schedule or None
        ``None`` gives :func:`identity`.
    flip_sign : bool, default=True
        Multiply by ``learning_rate`` instead of ``-learning_rate`` when false.

    Returns
    -------
    GradientTransformation
        :func:`scale` for a number, :func:`scale_by_schedule` for a schedule.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.scale_by_learning_rate(0.5)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    array([-1.])
    """
    if learning_rate is None:
        return identity()
    sign = -1 if flip_sign else 1
    if callable(learning_rate):
        lr = learning_rate
        return scale_by_schedule(lambda count: sign * lr(count))
    value = _real(
        learning_rate, "learning_rate", "scale_by_learning_rate", low=-math.inf, keep_arrays=True
    )
    return scale(sign * value)


class ScaleByAdamState(NamedTuple):
    """State of :func:`scale_by_adam`: step count, first and second moments.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.scale_by_adam().init(np.ones(1))
    ScaleByAdamState(count=array(0), mu=array([0.]), nu=array([0.]))
    """

    count: Any
    mu: Any
    nu: Any


def scale_by_adam(
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    """Adam's direction without the learning rate (``optax.scale_by_adam``).

    ``m_hat / (sqrt(v_hat + eps_root) + eps)`` with the moments of :func:`adam`;
    ``adam(lr)`` is ``chain(scale_by_adam(), scale_by_learning_rate(lr))``.

    Parameters
    ----------
    b1, b2, eps, eps_root, mu_dtype, nesterov
        As in :func:`adam`.

    Returns
    -------
    GradientTransformation
        With state :class:`ScaleByAdamState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.scale_by_adam()
    >>> updates, state = opt.update(np.array([3.0]), opt.init(np.zeros(1)))
    >>> np.round(updates, 6), state.mu
    (array([1.]), array([0.3]))
    """
    hyper = _adam_hyper("scale_by_adam", b1, b2, eps, eps_root)
    moment_dtype = _dtype_arg(mu_dtype, "mu_dtype", "scale_by_adam")
    if not isinstance(nesterov, bool):
        raise TypeError(f"scale_by_adam: nesterov must be a bool, got {nesterov!r}")

    def init(params: Any) -> ScaleByAdamState:
        return ScaleByAdamState(
            _count(0),
            _zeros_like(params, "scale_by_adam", moment_dtype),
            _zeros_like(params, "scale_by_adam"),
        )

    def update(
        updates: Any, state: ScaleByAdamState, params: Any = None
    ) -> tuple[Any, ScaleByAdamState]:
        _check_state(state, ScaleByAdamState, "scale_by_adam")
        where = "scale_by_adam.update: updates differ from the state"
        mu, nu, direction = _adam_direction(updates, state, hyper, where, moment_dtype, nesterov)
        return _map(where, lambda d: d, direction), ScaleByAdamState(_next(state.count), mu, nu)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- masks and labels


class MaskedState(NamedTuple):
    """State of :func:`masked`: the inner transformation's state.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.masked(optim.sgd(0.1, momentum=0.9), {"w": True, "b": False}).init(
    ...     {"w": np.ones(1), "b": np.ones(1)})
    MaskedState(inner_state=SgdState(count=array(0), trace={'b': MaskedNode(), 'w': array([0.])}))
    """

    inner_state: Any


class MaskedNode(NamedTuple):
    """Stands for a masked-out subtree (``optax.MaskedNode``): a node without leaves.

    Examples
    --------
    >>> from fgrad import optim
    >>> fgrad.tree.tree_leaves({"a": optim.MaskedNode(), "b": 1.0})
    [1.0]
    """


def _mask_flags(mask_tree: Any, fn: str, what: str) -> tuple[list[bool], Any]:
    """The mask's leaves as Python bools (checked, named by path) and its structure."""
    paths_leaves, treedef = tree_flatten_with_path(mask_tree)
    flags = []
    for path, leaf in paths_leaves:
        if leaf.__class__ is Tracer:
            raise TypeError(
                f"{fn}: {what}{keystr(path)} is a traced value; it must be a fixed bool "
                "(it decides which leaves the state holds)"
            )
        if isinstance(leaf, np.ndarray) and leaf.shape == () and leaf.dtype == np.bool_:
            leaf = leaf[()]
        if not isinstance(leaf, (bool, np.bool_)):
            raise TypeError(f"{fn}: {what}{keystr(path)} must be a bool, got {leaf!r:.60}")
        flags.append(bool(leaf))
    return flags, treedef


def _subtrees(treedef: Any, tree: Any, fn: str, what: str, name: str) -> list[Any]:
    try:
        return list(treedef.flatten_up_to(tree, name=name))
    except ValueError as e:
        detail = str(e).removeprefix("flatten_up_to: ")
        raise ValueError(
            f"{fn}: the {what} must have the structure of the {name} or a prefix of it; {detail}"
        ) from None


def _leaf_flags(mask: Any, tree: Any, fn: str, name: str) -> list[bool]:
    """For each leaf of ``tree``, its flag in ``mask`` (a prefix pytree of bools or a callable)."""
    if mask is None:
        return [True] * len(tree_leaves(tree))
    mask_tree = mask(tree) if callable(mask) else mask
    flags, treedef = _mask_flags(mask_tree, fn, "mask")
    parts = _subtrees(treedef, tree, fn, "mask", name)
    return [flag for flag, part in zip(flags, parts) for _ in tree_leaves(part)]


def _masked(inner: GradientTransformation, mask: Any, fn: str, what: str) -> GradientTransformation:
    def resolve(tree: Any, name: str) -> tuple[list[bool], Any, list[Any]]:
        mask_tree = mask(tree) if callable(mask) else mask
        flags, treedef = _mask_flags(mask_tree, fn, what)
        return flags, treedef, _subtrees(treedef, tree, fn, what, name)

    def hide(flags: list[bool], treedef: Any, parts: list[Any]) -> Any:
        return treedef.unflatten([p if on else MaskedNode() for on, p in zip(flags, parts)])

    def init(params: Any) -> MaskedState:
        flags, treedef, parts = resolve(params, "params")
        return MaskedState(inner.init(hide(flags, treedef, parts)))

    def update(updates: Any, state: MaskedState, params: Any = None) -> tuple[Any, MaskedState]:
        _check_state(state, MaskedState, fn)
        flags, treedef, parts = resolve(updates, "updates")
        hidden_params = None
        if params is not None:
            hidden_params = hide(flags, treedef, _subtrees(treedef, params, fn, what, "params"))
        new, inner_state = inner.update(
            hide(flags, treedef, parts), state.inner_state, hidden_params
        )
        new_parts = _subtrees(treedef, new, fn, "inner transformation's updates", "updates")
        out = [n if on else _copies(p, fn) for on, n, p in zip(flags, new_parts, parts)]
        return treedef.unflatten(out), MaskedState(inner_state)

    return GradientTransformation(init, update)


def masked(inner: GradientTransformation, mask: Any) -> GradientTransformation:
    """Apply ``inner`` to the masked-in updates only; pass the others through (``optax.masked``).

    The inner transformation sees the updates (and params) with every masked-out subtree
    replaced by :class:`MaskedNode`, so its state holds nothing for them.

    Parameters
    ----------
    inner : GradientTransformation
    mask : pytree of bool, or callable
        The params' structure or a prefix of it, with ``True`` where ``inner`` applies;
        or ``mask(params_or_updates) ->`` such a pytree. Its leaves must be fixed bools
        (Python or NumPy), not traced values.

    Returns
    -------
    GradientTransformation
        With state :class:`MaskedState`.

    Raises
    ------
    ValueError
        If the mask does not match the params or updates (the message gives the path).
    TypeError
        If a mask leaf is not a bool (the message gives its path).

    Examples
    --------
    >>> from fgrad import optim
    >>> params = {"w": np.array([2.0]), "b": np.array([2.0])}
    >>> decay = optim.masked(optim.add_decayed_weights(0.5), lambda p: {"w": True, "b": False})
    >>> decay.update({"w": np.zeros(1), "b": np.zeros(1)}, decay.init(params), params)[0]
    {'b': array([0.]), 'w': array([1.])}
    """
    _check_transformation(inner, "inner", "masked")
    return _masked(inner, mask, "masked", "mask")


class MultiTransformState(NamedTuple):
    """State of :func:`multi_transform`: ``{label: inner state}``.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.multi_transform({"a": optim.sgd(0.1), "b": optim.scale(0.0)}, ("a", "b"))
    >>> opt.init((np.ones(1), np.ones(1))).inner_states["b"]
    MaskedState(inner_state=EmptyState())
    """

    inner_states: Any


def multi_transform(
    transforms: Mapping[Hashable, GradientTransformation], param_labels: Any
) -> GradientTransformation:
    """A different transformation for each group of parameters (``optax.multi_transform``).

    Parameters
    ----------
    transforms : mapping of label to GradientTransformation
    param_labels : pytree of labels, or callable
        The params' structure or a prefix of it, with a key of ``transforms`` at each
        leaf; or ``param_labels(params_or_updates) ->`` such a pytree.

    Returns
    -------
    GradientTransformation
        With state :class:`MultiTransformState`; each transformation is applied, masked
        (:func:`masked`), to the leaves with its label.

    Raises
    ------
    ValueError
        If a label is not a key of ``transforms``, or the labels do not match the params
        (the message gives the path).

    Examples
    --------
    >>> from fgrad import optim
    >>> params = {"w": np.array([1.0]), "b": np.array([1.0])}
    >>> opt = optim.multi_transform({"fast": optim.sgd(1.0), "frozen": optim.scale(0.0)},
    ...                             {"w": "fast", "b": "frozen"})
    >>> opt.update({"w": np.array([0.5]), "b": np.array([0.5])}, opt.init(params))[0]
    {'b': array([0.]), 'w': array([-0.5])}
    """
    fn = "multi_transform"
    if not isinstance(transforms, Mapping):
        raise TypeError(
            f"{fn}: transforms must be a mapping of label to transformation, got {transforms!r:.80}"
        )
    groups = dict(transforms)
    for label, t in groups.items():
        _check_transformation(t, f"transforms[{label!r}]", fn)

    def labels_of(tree: Any) -> Any:
        labels = param_labels(tree) if callable(param_labels) else param_labels
        for path, label in tree_flatten_with_path(labels)[0]:
            if label.__class__ is Tracer or not isinstance(label, Hashable) or label not in groups:
                raise ValueError(
                    f"{fn}: param_labels{keystr(path)} is {label!r:.60}, which is not a key of "
                    f"transforms {list(groups)!r}"
                )
        return labels

    def wrapped(labels: Any) -> dict[Hashable, GradientTransformation]:
        return {
            label: _masked(
                t, tree_map(lambda x, label=label: x == label, labels), fn, "param_labels"
            )
            for label, t in groups.items()
        }

    def init(params: Any) -> MultiTransformState:
        inner = wrapped(labels_of(params))
        return MultiTransformState({label: t.init(params) for label, t in inner.items()})

    def update(
        updates: Any, state: MultiTransformState, params: Any = None
    ) -> tuple[Any, MultiTransformState]:
        _check_state(state, MultiTransformState, fn)
        new_states = {}
        for label, t in wrapped(labels_of(updates)).items():
            updates, new_states[label] = t.update(updates, state.inner_states[label], params)
        return updates, MultiTransformState(new_states)

    return GradientTransformation(init, update)


# --------------------------------------------------------------------------- weight decay, lion


class WeightDecaySchedule(NamedTuple):
    """State of :func:`add_decayed_weights` with a scheduled decay: the step count.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.add_decayed_weights(optim.constant_schedule(0.1)).init(np.ones(1))
    WeightDecaySchedule(count=array(0))
    """

    count: Any


def _add_decayed_weights(weight_decay: Any, fn: str) -> GradientTransformation:
    decay = weight_decay
    if not callable(weight_decay):
        decay = _real(weight_decay, "weight_decay", fn, low=-math.inf, keep_arrays=True)

    def init(params: Any) -> Any:
        return WeightDecaySchedule(_count(0)) if callable(decay) else EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        if params is None:
            raise ValueError(
                f"{fn}.update needs the current params for weight decay: "
                "call update(grads, state, params)"
            )
        if callable(decay):
            _check_state(state, WeightDecaySchedule, fn)
            rate = decay(state.count)
            new_state: Any = WeightDecaySchedule(_next(state.count))
        else:
            _check_state(state, EmptyState, fn)
            rate, new_state = decay, state
        where = f"{fn}.update: updates differ from params"
        if rate.__class__ in _PYTHON_REALS and rate == 0.0:
            return _map(where, lambda u, p: _fresh(u), updates, params), new_state
        return _map(where, lambda u, p: u + _scalar(rate, u) * p, updates, params), new_state

    return GradientTransformation(init, update)


def add_decayed_weights(
    weight_decay: ScalarOrSchedule = 0.0, mask: Any = None
) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (``optax.add_decayed_weights``).

    Parameters
    ----------
    weight_decay : float or schedule, default=0.0
    mask : pytree of bool or callable, optional
        Decay only where true (see :func:`masked`).

    Returns
    -------
    GradientTransformation
        With state :class:`EmptyState` (:class:`WeightDecaySchedule` for a schedule),
        wrapped in :func:`masked` when ``mask`` is given. ``update`` needs ``params``.

    Raises
    ------
    ValueError
        From ``update`` if ``params`` is not given.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.chain(optim.add_decayed_weights(0.1), optim.sgd(1.0))
    >>> params = np.array([3.0])
    >>> opt.update(np.array([1.0]), opt.init(params), params)[0]
    array([-1.3])
    """
    inner = _add_decayed_weights(weight_decay, "add_decayed_weights")
    return inner if mask is None else _masked(inner, mask, "add_decayed_weights", "mask")


class ScaleByLionState(NamedTuple):
    """State of :func:`scale_by_lion`: step count and momentum.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.scale_by_lion().init(np.ones(1))
    ScaleByLionState(count=array(0), mu=array([0.]))
    """

    count: Any
    mu: Any


def scale_by_lion(
    b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None
) -> GradientTransformation:
    """Lion's direction ``sign((1 - b1) * g + b1 * m)`` (``optax.scale_by_lion``, mode "hard").

    The momentum then becomes ``m = (1 - b2) * g + b2 * m``.

    Parameters
    ----------
    b1 : float, default=0.9
        Weight of the momentum in the direction, in ``[0, 1)``.
    b2 : float, default=0.99
        Decay of the momentum, in ``[0, 1)``.
    mu_dtype : dtype, optional
        Dtype of the momentum (default: each parameter's).

    Returns
    -------
    GradientTransformation
        With state :class:`ScaleByLionState`.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.scale_by_lion()
    >>> updates, state = opt.update(np.array([0.5, -2.0, 0.0]), opt.init(np.zeros(3)))
    >>> updates, state.mu
    (array([ 1., -1.,  0.]), array([ 0.005, -0.02 ,  0.   ]))
    """
    fn = "scale_by_lion"
    c1 = _open_unit(b1, "b1", fn, keep_arrays=True)
    c2 = _open_unit(b2, "b2", fn, keep_arrays=True)
    moment_dtype = _dtype_arg(mu_dtype, "mu_dtype", fn)

    def init(params: Any) -> ScaleByLionState:
        return ScaleByLionState(_count(0), _zeros_like(params, fn, moment_dtype))

    def update(
        updates: Any, state: ScaleByLionState, params: Any = None
    ) -> tuple[Any, ScaleByLionState]:
        _check_state(state, ScaleByLionState, fn)
        where = f"{fn}.update: updates differ from the state"

        def direction(g: Any, m: Any) -> Any:
            b = _scalar(c1, g)
            return fnp.sign((1 - b) * g + b * m)

        def momentum(g: Any, m: Any) -> Any:
            b = _scalar(c2, g)
            out = (1 - b) * g + b * m
            return out if moment_dtype is None else fnp.astype(out, moment_dtype)

        out = _map(where, direction, updates, state.mu)
        mu = _map(where, momentum, updates, state.mu)
        return out, ScaleByLionState(_next(state.count), mu)

    return GradientTransformation(init, update)


def lion(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.99,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-3,
    mask: Any = None,
) -> GradientTransformation:
    """The Lion optimizer (Chen et al., 2023; ``optax.lion``, same arguments).

    ``update = -lr * (sign((1 - b1) * g + b1 * m) + weight_decay * p)``, then
    ``m = (1 - b2) * g + b2 * m``. It is ``chain(scale_by_lion(b1, b2, mu_dtype),
    add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))``,
    so its state is that chain's tuple, as in optax. ``update`` needs ``params``.

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2, mu_dtype
        As in :func:`scale_by_lion`.
    weight_decay : float or schedule, default=1e-3
        Multiplied by the learning rate, as in optax.
    mask : pytree of bool or callable, optional
        Which parameters are decayed (see :func:`masked`).

    Returns
    -------
    GradientTransformation

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.lion(0.1, weight_decay=0.5)
    >>> params = np.array([2.0, 2.0])
    >>> updates, state = opt.update(np.array([3.0, -1.0]), opt.init(params), params)
    >>> updates
    array([-0.2,  0. ])
    """
    _schedule(learning_rate, "lion")
    decay = _add_decayed_weights(weight_decay, "lion")
    return chain(
        scale_by_lion(b1, b2, mu_dtype),
        decay if mask is None else _masked(decay, mask, "lion", "mask"),
        scale_by_learning_rate(learning_rate),
    )


# ------------------------------------------------------------------------ injected hyperparameters


class InjectHyperparamsState(NamedTuple):
    """State of :func:`inject_hyperparams`: count, hyperparameters, inner state.

    ``hyperparams`` maps each numeric hyperparameter's name to a 0-d array: the value
    used by the last update (for a schedule) or the value the next update will use (for
    a number; replace it to change it between steps).

    Examples
    --------
    >>> from fgrad import optim
    >>> state = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1).init(np.zeros(1))
    >>> state.hyperparams
    {'learning_rate': array(0.1)}
    """

    count: Any
    hyperparams: Any
    inner_state: Any


def _highest_float(tree: Any) -> np.dtype[Any]:
    dtypes = [np.result_type(peek(x)) for x in tree_leaves(tree)]
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float64)


def _as_hyperparam(value: Any, dtype: np.dtype[Any], name: str) -> Any:
    plain = peek(value)
    kind = plain.dtype.kind if isinstance(plain, (np.ndarray, np.generic)) else None
    if isinstance(plain, float) or kind == "f":
        out = (
            fnp.astype(fnp.asarray(value), dtype)
            if value.__class__ is Tracer
            else np.asarray(value, dtype)
        )
    elif isinstance(plain, numbers.Integral) or kind in ("i", "u"):
        out = value if value.__class__ is Tracer else np.asarray(value)
    else:
        raise TypeError(
            f"inject_hyperparams: hyperparameter {name!r} must be a number or a 0-d array, got "
            f"{value!r:.60}"
        )
    if np.shape(plain) != ():
        raise TypeError(
            f"inject_hyperparams: hyperparameter {name!r} must be a number or a 0-d array, got "
            f"shape {np.shape(plain)}"
        )
    return _readonly(out)


def inject_hyperparams(
    inner_factory: Callable[..., GradientTransformation],
    static_args: str | Iterable[str] = (),
    hyperparam_dtype: Any = None,
) -> Callable[..., GradientTransformation]:
    """Keep an optimizer's numeric hyperparameters in its state (``optax.inject_hyperparams``).

    ``inject_hyperparams(optim.adam)(learning_rate=..., b1=...)`` takes the arguments of
    ``optim.adam``; a callable argument (other than those named in ``static_args``) is a
    schedule, evaluated at the step count before each update. Every numeric
    hyperparameter is stored in ``state.hyperparams`` as a 0-d array of the params'
    highest float dtype (or ``hyperparam_dtype``); change a constant one between steps
    by replacing it there. Under :func:`fgrad.jit` the stored values are traced like
    the rest of the state, so changing one replays without tracing again. Bools and
    other values are fixed.

    Parameters
    ----------
    inner_factory : callable
        A function returning a GradientTransformation, e.g. :func:`adam`.
    static_args : str or iterable of str, default=()
        Callable arguments that are not schedules.
    hyperparam_dtype : dtype, optional

    Returns
    -------
    callable
        Same arguments as ``inner_factory``; returns a GradientTransformation with
        state :class:`InjectHyperparamsState`.

    Raises
    ------
    ValueError
        If ``static_args`` names an argument ``inner_factory`` does not take.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.inject_hyperparams(optim.sgd)(learning_rate=0.1, momentum=0.9)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.ones(1), state)
    >>> state = state._replace(hyperparams={**state.hyperparams, "learning_rate": 0.01})
    >>> u2, state = opt.update(np.ones(1), state)
    >>> u1, np.round(u2, 6)
    (array([-0.1]), array([-0.019]))
    >>> warm = optim.inject_hyperparams(optim.adam)(optim.linear_schedule(0.0, 1.0, 10))
    >>> state = warm.init(np.zeros(1))
    >>> for _ in range(3):
    ...     _, state = warm.update(np.ones(1), state)
    >>> state.hyperparams["learning_rate"]
    array(0.2)
    """
    fn = "inject_hyperparams"
    if not callable(inner_factory):
        raise TypeError(f"{fn}: inner_factory must be a callable, got {inner_factory!r:.80}")
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)
    unknown = static - set(signature.parameters)
    if unknown:
        raise ValueError(
            f"{fn}: static_args {sorted(unknown)} are not parameters of "
            f"{getattr(inner_factory, '__name__', inner_factory)!s}: "
            f"{list(signature.parameters)}"
        )
    fixed_dtype = _dtype_arg(hyperparam_dtype, "hyperparam_dtype", fn)

    def wrapped(*args: Any, **kwargs: Any) -> GradientTransformation:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(
                f"{fn}({getattr(inner_factory, '__name__', 'inner_factory')}): {e}"
            ) from None
        bound.apply_defaults()
        schedules: dict[str, Any] = {}
        numeric: dict[str, Any] = {}
        other: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            if name in static or isinstance(value, (bool, np.bool_)) or value is None:
                other[name] = value
            elif callable(value):
                schedules[name] = value
            elif value.__class__ is Tracer or isinstance(
                value, (numbers.Real, np.ndarray, np.generic)
            ):
                numeric[name] = value
            else:
                other[name] = value

        def dtype_of(params: Any) -> np.dtype[Any]:
            return fixed_dtype if fixed_dtype is not None else _highest_float(params)

        def init(params: Any) -> InjectHyperparamsState:
            dtype = dtype_of(params)
            hyperparams = {k: _as_hyperparam(v, dtype, k) for k, v in numeric.items()}
            count = _count(0)
            for k, schedule in schedules.items():
                hyperparams[k] = _as_hyperparam(schedule(count), dtype, k)
            inner = inner_factory(**other, **hyperparams)
            return InjectHyperparamsState(count, hyperparams, inner.init(params))

        def update(
            updates: Any, state: InjectHyperparamsState, params: Any = None
        ) -> tuple[Any, InjectHyperparamsState]:
            _check_state(state, InjectHyperparamsState, fn)
            dtype = dtype_of(updates if params is None else params)
            missing = set(numeric) - set(state.hyperparams)
            if missing:
                raise ValueError(f"{fn}.update: state.hyperparams lacks {sorted(missing)}")
            hyperparams = {k: _as_hyperparam(state.hyperparams[k], dtype, k) for k in numeric}
            for k, schedule in schedules.items():
                hyperparams[k] = _as_hyperparam(schedule(state.count), dtype, k)
            inner = inner_factory(**other, **hyperparams)
            out, inner_state = inner.update(updates, state.inner_state, params)
            return out, InjectHyperparamsState(_next(state.count), hyperparams, inner_state)

        return GradientTransformation(init, update)

    return wrapped


# --------------------------------------------------------------------------- gradient accumulation


class MultiStepsState(NamedTuple):
    """State of :class:`MultiSteps` (``optax.MultiStepsState``).

    Attributes
    ----------
    mini_step : 0-d int array
        Gradients accumulated since the last update (reset to 0 when one is made).
    gradient_step : 0-d int array
        Updates made by the inner optimizer.
    inner_opt_state : pytree
    acc_grads : pytree
        The running mean (or sum) of the gradients.
    skip_state : pytree
        What ``should_skip_update_fn`` returned last.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.MultiSteps(optim.sgd(0.1), 2).init(np.zeros(1)).acc_grads
    array([0.])
    """

    mini_step: Any
    gradient_step: Any
    inner_opt_state: Any
    acc_grads: Any
    skip_state: Any = ()


def skip_not_finite(updates: Any, gradient_step: Any, params: Any) -> tuple[Any, Any]:
    """A ``should_skip_update_fn`` for :class:`MultiSteps`: skip gradients with inf or NaN.

    Returns
    -------
    tuple
        ``(should_skip, {"should_skip": ..., "num_not_finite": ...})``, 0-d arrays.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.skip_not_finite({"a": np.array([1.0, np.inf])}, 0, None)[1]
    {'should_skip': array(True), 'num_not_finite': array(1)}
    """
    counts = [fnp.sum(fnp.logical_not(fnp.isfinite(u))) for u in tree_leaves(updates)]
    total = _readonly(sum(counts, np.int64(0)))
    skip = _readonly(total > 0)
    return skip, {"should_skip": skip, "num_not_finite": total}


def skip_large_updates(
    updates: Any, gradient_step: Any, params: Any, max_squared_norm: float
) -> tuple[Any, Any]:
    """A ``should_skip_update_fn`` for :class:`MultiSteps`: skip gradients with a large norm.

    Use ``functools.partial(skip_large_updates, max_squared_norm=...)``. A NaN norm skips.

    Returns
    -------
    tuple
        ``(should_skip, {"should_skip": ..., "norm_squared": ...})``, 0-d arrays.

    Examples
    --------
    >>> from fgrad import optim
    >>> optim.skip_large_updates([np.array([3.0, 4.0])], 0, None, max_squared_norm=20.0)[1]
    {'should_skip': array(True), 'norm_squared': array(25.)}
    """
    squares = [fnp.sum(fnp.square(u)) for u in tree_leaves(updates)]
    norm_squared = _readonly(sum(squares, np.float64(0.0)))
    skip = _readonly(fnp.logical_not(norm_squared < max_squared_norm))
    return skip, {"should_skip": skip, "norm_squared": norm_squared}


class MultiSteps:
    """Accumulate gradients over ``k`` calls, update every ``k`` (``optax.MultiSteps``).

    Each call adds the gradients to a running mean (``use_grad_mean=True``) or sum;
    every ``k``-th call passes it to ``opt`` and returns ``opt``'s updates, the other
    calls return zeros and keep ``opt``'s state. ``k`` is an int or a function of the
    number of updates made so far (``gradient_step``). Everything is computed with array
    operations, so a :func:`fgrad.jit` training step replays on every call, updating or
    not.

    Parameters
    ----------
    opt : GradientTransformation
    every_k_schedule : int or callable
        Positive.
    use_grad_mean : bool, default=True
    should_skip_update_fn : callable, optional
        ``(updates, gradient_step, params) -> (should_skip, skip_state)`` with
        ``should_skip`` a 0-d bool; a skipped call changes nothing but ``skip_state``.
        See :func:`skip_not_finite`, :func:`skip_large_updates`.
    accumulator_dtype : dtype, optional
        Dtype of the accumulated gradients. Default: each parameter's (optax defaults to
        float32, which would lose float64 precision).

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.MultiSteps(optim.sgd(1.0), every_k_schedule=2)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.array([1.0]), state)
    >>> u2, state = opt.update(np.array([3.0]), state)
    >>> u1, u2, state.gradient_step, opt.has_updated(state)
    (array([0.]), array([-2.]), array(1), array(True))
    """

    def __init__(
        self,
        opt: GradientTransformation,
        every_k_schedule: int | Callable[[Any], Any],
        use_grad_mean: bool = True,
        should_skip_update_fn: Callable[..., tuple[Any, Any]] | None = None,
        accumulator_dtype: Any = None,
    ) -> None:
        fn = "MultiSteps"
        _check_transformation(opt, "opt", fn)
        if callable(every_k_schedule):
            self._every_k_schedule = every_k_schedule
        else:
            k = _int(every_k_schedule, "every_k_schedule", fn, low=1)
            self._every_k_schedule = lambda step: k
        if not isinstance(use_grad_mean, bool):
            raise TypeError(f"{fn}: use_grad_mean must be a bool, got {use_grad_mean!r}")
        if should_skip_update_fn is not None and not callable(should_skip_update_fn):
            raise TypeError(f"{fn}: should_skip_update_fn must be a callable or None")
        self._opt = opt
        self._use_grad_mean = use_grad_mean
        self._should_skip_update_fn = should_skip_update_fn
        self._accumulator_dtype = _dtype_arg(accumulator_dtype, "accumulator_dtype", fn)

    @property
    def inner_opt(self) -> GradientTransformation:
        """The wrapped optimizer."""
        return self._opt

    def init(self, params: Any) -> MultiStepsState:
        """The initial :class:`MultiStepsState` for ``params``."""
        gradient_step = _count(0)
        skip_state: Any = ()
        if self._should_skip_update_fn is not None:
            zeros = _zeros_like(params, "MultiSteps.init")
            skip_state = self._should_skip_update_fn(zeros, gradient_step, params)[1]
        return MultiStepsState(
            mini_step=_count(0),
            gradient_step=gradient_step,
            inner_opt_state=self._opt.init(params),
            acc_grads=_zeros_like(params, "MultiSteps.init", self._accumulator_dtype),
            skip_state=skip_state,
        )

    def update(
        self, updates: Any, state: MultiStepsState, params: Any = None
    ) -> tuple[Any, MultiStepsState]:
        """Accumulate ``updates``; return the inner optimizer's updates every k-th call."""
        fn = "MultiSteps.update"
        if not isinstance(state, MultiStepsState):
            raise TypeError(
                f"{fn}: state must be the MultiStepsState made by MultiSteps(...).init(params), "
                f"got {type(state).__name__}"
            )
        where = f"{fn}: updates differ from the state"
        k = self._every_k_schedule(state.gradient_step)
        n = state.mini_step

        def accumulate(g: Any, acc: Any) -> Any:
            if self._use_grad_mean:
                return acc + (g - acc) / _scalar(n + 1, acc)
            return acc + g

        acc_grads = _map(where, accumulate, updates, state.acc_grads)
        as_updates = _map(where, lambda a, g: fnp.astype(a, _float_dtype(g)), acc_grads, updates)
        inner_updates, inner_state = self._opt.update(as_updates, state.inner_opt_state, params)
        emit = n == k - 1
        new_state = MultiStepsState(
            mini_step=_readonly((n + 1) % k),
            gradient_step=_readonly(fnp.where(emit, state.gradient_step + 1, state.gradient_step)),
            inner_opt_state=_select(emit, inner_state, state.inner_opt_state, where),
            acc_grads=_map(where, lambda a: fnp.where(emit, fnp.zeros_like(a), a), acc_grads),
            skip_state=state.skip_state,
        )
        out = _map(where, lambda u: fnp.where(emit, u, fnp.zeros_like(u)), inner_updates)
        if self._should_skip_update_fn is None:
            return out, new_state
        skip, skip_state = self._should_skip_update_fn(updates, state.gradient_step, params)
        plain = peek(skip)
        if np.shape(plain) != () or np.result_type(plain) != np.bool_:
            raise ValueError(
                f"{fn}: should_skip_update_fn must return a 0-d bool first, got "
                f"{np.result_type(plain)} of shape {np.shape(plain)}"
            )
        kept = state._replace(skip_state=skip_state)
        chosen = _select(
            skip, kept._replace(skip_state=()), new_state._replace(skip_state=()), where
        )
        out = _map(where, lambda u: fnp.where(skip, fnp.zeros_like(u), u), out)
        return out, chosen._replace(skip_state=skip_state)

    def has_updated(self, state: MultiStepsState) -> Any:
        """Whether the last :meth:`update` returned the inner optimizer's updates."""
        return _readonly(fnp.logical_and(state.mini_step == 0, state.gradient_step > 0))

    def gradient_transformation(self) -> GradientTransformation:
        """This accumulator as a :class:`GradientTransformation` ``(init, update)``."""
        return GradientTransformation(self.init, self.update)


def _select(condition: Any, if_true: Any, if_false: Any, where: str) -> Any:
    """Leafwise ``where(condition, a, b)``, keeping each leaf's dtype."""

    def choose(a: Any, b: Any) -> Any:
        dtype = np.result_type(peek(b))
        return fnp.astype(fnp.where(condition, a, b), dtype)

    return _map(where, choose, if_true, if_false)
