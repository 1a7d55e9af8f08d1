"""Optimizers as pure functions, in the style of optax.

The simplest loop needs no optimizer state at all::

    params = sgd_update(params, fgrad.grad(loss)(params, x, y), lr=0.1)

Stateful methods are :class:`GradientTransformation` pairs of pure functions:
``init(params) -> state`` and ``update(grads, state, params=None) ->
(updates, new_state)``; :func:`apply_updates` adds the updates to the
parameters. States are NamedTuples of arrays (pytrees) that start with a step
``count``. Nothing is ever modified in place: inputs are left untouched, and
every returned array (new parameters, updates, states) is read-only.

Every ``learning_rate`` is a float or a *schedule*, a function ``step -> lr``
evaluated at the number of updates done so far (0 for the first):
:func:`constant`, :func:`linear`, :func:`exponential`, :func:`cosine`, or any
function of an integer. Schedules receive the state's ``count`` (a 0-d
integer array); the built-in ones compute with ``fgrad.numpy``, so under
:func:`fgrad.jit` neither they nor the optimizers read the count in Python and a
training step replays without re-tracing.

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

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any, NamedTuple, TypeAlias

import numpy as np

import fgrad.numpy as fnp
from fgrad.tree import (
    keystr,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_map,
    tree_unflatten,
)
from fgrad.values import Tracer, peek

__all__ = [
    "AdagradState",
    "AdamState",
    "ClipState",
    "GradientTransformation",
    "RmsPropState",
    "Schedule",
    "SgdState",
    "adagrad",
    "adam",
    "adamw",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "constant",
    "cosine",
    "exponential",
    "linear",
    "rmsprop",
    "sgd",
    "sgd_update",
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
    if x.__class__ is Tracer:
        return x if peek(x).__class__ is np.ndarray else x[...]
    out = np.asarray(x)
    out.flags.writeable = False
    return out


def _map(where: str, f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    leaves, treedef = tree_flatten(tree)
    columns = [leaves]
    for other in rest:
        other_leaves, other_treedef = tree_flatten(other)
        if other_treedef != treedef:
            try:
                tree_map(lambda *_: None, tree, *rest)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
            raise ValueError(f"{where}: structure {other_treedef} differs from {treedef}")
        columns.append(other_leaves)
    return tree_unflatten(treedef, [_readonly(f(*xs)) for xs in zip(*columns)])


def _count(value: int) -> Any:
    return _readonly(np.asarray(value, dtype=np.int64))


def _next(count: Any) -> Any:
    return _readonly(count + 1)


def _scalar(value: Any, leaf: Any) -> Any:
    """A scalar to combine with ``leaf`` without promoting its dtype.

    A traced Python number (a dynamic ``fgrad.jit`` argument) is returned as it is: it
    combines with ``leaf`` as the Python number does in eager code.
    """
    if value.__class__ is Tracer:
        if peek(value).__class__ in _PYTHON_REALS:
            return value
        return fnp.astype(value, np.result_type(peek(leaf)))
    return float(value)


_PYTHON_REALS = (int, float)


def _real(
    value: object,
    name: str,
    fn: str,
    *,
    low: float,
    high: float = math.inf,
    traced_arrays: bool = False,
) -> Any:
    """``value`` checked to be a finite real number in ``[low, high]``.

    Python numbers, NumPy scalars and 0-d real arrays give a Python float. A traced value
    (under ``fgrad.jit``) is checked on the value it was traced with and returned as it
    is: a traced Python number always (it behaves as the number would), a traced array
    only with ``traced_arrays`` (values combined with the parameters through
    :func:`_scalar`, which casts them to each parameter's dtype).
    """
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
    return value if value.__class__ is Tracer else v


def _open_unit(value: object, name: str, fn: str) -> Any:
    v = _real(value, name, fn, low=0.0, high=1.0)
    if float(peek(v)) == 1.0:
        raise ValueError(f"{fn}: {name} must be in [0, 1), got {value!r}")
    return v


def _positive(value: object, name: str, fn: str) -> Any:
    v = _real(value, name, fn, low=0.0)
    if float(peek(v)) == 0.0:
        raise ValueError(f"{fn}: {name} must be > 0, got {value!r}")
    return v


def _steps(value: object, name: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
    return int(value)


def _schedule(learning_rate: object, fn: str) -> Any:
    if callable(learning_rate):
        return learning_rate
    return _real(learning_rate, "learning_rate", fn, low=0.0, traced_arrays=True)


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
    """Schedule ``init_value * decay_rate ** (step / transition_steps)`` (smooth decay).

    Examples
    --------
    >>> from fgrad import optim
    >>> lr = optim.exponential(0.1, decay_rate=0.5, transition_steps=10)
    >>> [round(lr(s), 4) for s in (0, 10, 20, 5)]
    [0.1, 0.05, 0.025, 0.0707]
    """
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
    """State of :func:`sgd`: step count and momentum buffer (zeros without momentum).

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


def _zeros_like(params: Any, fn: str) -> Any:
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
        zeros.append(_readonly(np.zeros(np.shape(value), zeros_dtype)))
    return tree_unflatten(treedef, zeros)


def sgd(
    learning_rate: ScalarOrSchedule, momentum: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With ``t = momentum * t + g``, the update is ``-lr * t``, or
    ``-lr * (g + momentum * t)`` with ``nesterov=True`` (as in optax and
    PyTorch). Without momentum it is ``-lr * g``.

    Parameters
    ----------
    learning_rate : float or schedule
    momentum : float, default=0.0
        In ``[0, 1)``.
    nesterov : bool, default=False

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.sgd(0.1, momentum=0.9)
    >>> state = opt.init(np.zeros(1))
    >>> u1, state = opt.update(np.array([1.0]), state)
    >>> u2, state = opt.update(np.array([1.0]), state)
    >>> u1, u2
    (array([-0.1]), array([-0.19]))
    """
    schedule = _schedule(learning_rate, "sgd")
    mu = _open_unit(momentum, "momentum", "sgd")
    if not isinstance(nesterov, bool):
        raise TypeError(f"sgd: nesterov must be a bool, got {nesterov!r}")

    def init(params: Any) -> SgdState:
        return SgdState(_count(0), _zeros_like(params, "sgd"))

    def update(grads: Any, state: SgdState, params: Any = None) -> tuple[Any, SgdState]:
        _check_state(state, SgdState, "sgd")
        lr = _lr(schedule, state.count)
        where = "sgd.update: grads differ from the state"
        trace = _map(where, lambda g, t: mu * t + g, grads, state.trace)
        if nesterov:
            updates = _map(where, lambda g, t: -_scalar(lr, g) * (g + mu * t), grads, trace)
        else:
            updates = _map(where, lambda t: -_scalar(lr, t) * t, trace)
        return updates, SgdState(_next(state.count), trace)

    return GradientTransformation(init, update)


def _adam_direction(
    grads: Any, state: AdamState, b1: float, b2: float, eps: float, where: str
) -> tuple[Any, Any, Any]:
    """New moments and the bias-corrected direction ``m_hat / (sqrt(v_hat) + eps)``."""
    mu = _map(where, lambda g, m: b1 * m + (1 - b1) * g, grads, state.mu)
    nu = _map(where, lambda g, v: b2 * v + (1 - b2) * g * g, grads, state.nu)
    t = state.count + 1
    c1, c2 = 1 - b1**t, 1 - b2**t

    def direction(m: Any, v: Any) -> Any:
        return (m / _scalar(c1, m)) / (fnp.sqrt(v / _scalar(c2, v)) + eps)

    return mu, nu, tree_map(direction, mu, nu)


def adam(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam (Kingma & Ba, 2015) with bias correction.

    At step ``t`` (1 for the first update)::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        update = -lr * (m / (1 - b1 ** t)) / (sqrt(v / (1 - b2 ** t)) + eps)

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2 : float, default=0.9, 0.999
        Decay rates of the moment estimates, in ``[0, 1)``.
    eps : float, default=1e-8
        Added to the denominator.

    Examples
    --------
    >>> from fgrad import optim
    >>> opt = optim.adam(0.1)
    >>> updates, state = opt.update(np.array([3.0, -0.01]), opt.init(np.zeros(2)))
    >>> np.round(updates, 6), state.count
    (array([-0.1,  0.1]), array(1))
    """
    schedule = _schedule(learning_rate, "adam")
    b1 = _open_unit(b1, "b1", "adam")
    b2 = _open_unit(b2, "b2", "adam")
    eps = _real(eps, "eps", "adam", low=0.0)

    def init(params: Any) -> AdamState:
        return AdamState(_count(0), _zeros_like(params, "adam"), _zeros_like(params, "adam"))

    def update(grads: Any, state: AdamState, params: Any = None) -> tuple[Any, AdamState]:
        _check_state(state, AdamState, "adam")
        where = "adam.update: grads differ from the state"
        lr = _lr(schedule, state.count)
        mu, nu, direction = _adam_direction(grads, state, b1, b2, eps, where)
        updates = _map(where, lambda d: -_scalar(lr, d) * d, direction)
        return updates, AdamState(_next(state.count), mu, nu)

    return GradientTransformation(init, update)


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The update is Adam's plus ``-lr * weight_decay * p``: the decay is applied
    to the parameters directly instead of being added to the gradient, so it
    is not rescaled by the second-moment estimate. Every leaf is decayed
    (biases included); ``update`` therefore needs ``params``.

    Parameters
    ----------
    learning_rate : float or schedule
    b1, b2, eps : float
        As in :func:`adam`.
    weight_decay : float, default=1e-4
        Non-negative decay coefficient.

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
    """
    schedule = _schedule(learning_rate, "adamw")
    b1 = _open_unit(b1, "b1", "adamw")
    b2 = _open_unit(b2, "b2", "adamw")
    eps = _real(eps, "eps", "adamw", low=0.0)
    decay = _real(weight_decay, "weight_decay", "adamw", low=0.0)

    def init(params: Any) -> AdamState:
        return AdamState(_count(0), _zeros_like(params, "adamw"), _zeros_like(params, "adamw"))

    def update(grads: Any, state: AdamState, params: Any = None) -> tuple[Any, AdamState]:
        _check_state(state, AdamState, "adamw")
        if params is None:
            raise ValueError(
                "adamw.update needs the current params for weight decay: "
                "call update(grads, state, params)"
            )
        where = "adamw.update: grads differ from the state or params"
        lr = _lr(schedule, state.count)
        mu, nu, direction = _adam_direction(grads, state, b1, b2, eps, where)
        updates = _map(where, lambda d, p: -_scalar(lr, d) * (d + decay * p), direction, params)
        return updates, AdamState(_next(state.count), mu, nu)

    return GradientTransformation(init, update)


def rmsprop(
    learning_rate: ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    """RMSProp (Tieleman & Hinton, 2012).

    ``v = decay * v + (1 - decay) * g ** 2``; update ``-lr * g / (sqrt(v) + eps)``.
    ``v`` starts at zero and is not bias-corrected (as in PyTorch and optax).

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
    """Adagrad (Duchi et al., 2011).

    ``G = G + g ** 2``; update ``-lr * g / (sqrt(G) + eps)``, with ``G``
    starting at zero.

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
