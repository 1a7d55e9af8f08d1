"""Lists and tuples of traced values where NumPy accepts an array-like.

``fnp.mean([a, b])``, ``fnp.linalg.norm([x, y])`` or ``fnp.concatenate([[t, 1.0], v])``
hand NumPy a list holding tracers, which NumPy would turn into a plain array (dropping the
gradient). Every differentiable function of ``fgrad.numpy`` is exported through
:func:`accepting_array_likes` (by :func:`fgrad._rules.declare.export`), the one place where
such arguments become traced arrays (``fgrad.numpy.asarray``: the elements stacked).

Which arguments are array-likes is NumPy's own answer: the ``__array_function__``
dispatcher of each NumPy function lists its array arguments (``a`` of ``mean``, each array
of ``concatenate``'s sequence, not ``axis`` or ``pad_width``). That dispatcher is not
public, so it is asked once per function and argument slot by calling the NumPy function on
probe objects whose ``__array_function__`` notes that it was consulted (and declines, so
NumPy raises before computing anything). The answer is cached.

Plain NumPy cannot be hooked the same way: ``np.mean([a, b])`` does not dispatch on the
elements of a list, so NumPy converts them itself and fgrad raises. Call ``fgrad.numpy``'s
function there.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from fgrad._core import Tracer

Role = Literal["array", "sequence", "other"]
"""How NumPy takes an argument: one array-like, a sequence of array-likes, or neither."""

_ROLES: dict[tuple[Any, int | str], Role] = {}
_SEQUENCES = (list, tuple)


def contains_tracer(obj: Any) -> bool:
    """Whether ``obj`` is a tracer or a (nested) list or tuple holding one."""
    if obj.__class__ is Tracer:
        return True
    if obj.__class__ in _SEQUENCES:
        return any(contains_tracer(o) for o in obj)
    return False


class _ProbeStop(Exception):
    """A probe was converted to an array: NumPy is computing, not dispatching."""


class _Probe:
    """Stands for an argument while NumPy's dispatcher is asked which arguments are arrays.

    A probe of a list or tuple argument also iterates over probes of its elements: a
    dispatcher that yields the argument itself (``mean``'s ``a``) has the probe consulted,
    one that yields its elements (``concatenate``'s ``arrays``) has the element probes
    consulted.
    """

    def __init__(self, consulted: set[Any], mark: Any, elements: list[_Probe]) -> None:
        self.consulted, self.mark, self.elements = consulted, mark, elements

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        self.consulted.add(self.mark)
        return NotImplemented

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise _ProbeStop

    def __len__(self) -> int:
        return len(self.elements)

    def __iter__(self) -> Any:
        return iter(self.elements)

    def __getitem__(self, index: Any) -> Any:
        return self.elements[index]


def _probe(consulted: set[Any], mark: Any, elements: list[_Probe] | None = None) -> _Probe:
    # NumPy consults one argument per type: each probe gets a class of its own.
    return type("_Probe", (_Probe,), {})(consulted, mark, elements or [])


def _learn_roles(numpy_fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Ask NumPy's dispatcher about the non-empty list and tuple arguments not yet known.

    One call of ``numpy_fn`` on probes: the traced and ndarray arguments become an inert
    probe, each unknown list or tuple a probe of its own (iterating over element probes).
    Every probe declines, so NumPy raises ``TypeError`` before computing anything as soon
    as one of them is an array argument, which the traced argument that brought us here is.
    """
    slots: list[tuple[int | str, Any]] = [*enumerate(args), *kwargs.items()]
    unknown = {
        slot
        for slot, value in slots
        if value.__class__ in _SEQUENCES and len(value) and (numpy_fn, slot) not in _ROLES
    }
    if not unknown:
        return
    consulted: set[Any] = set()
    inert = _probe(set(), None)

    def stand_in(slot: int | str, value: Any) -> Any:
        if slot in unknown:
            elements = [_probe(consulted, (slot, "element")) for _ in value]
            return _probe(consulted, (slot, "whole"), elements)
        if value.__class__ is Tracer or isinstance(value, np.ndarray):
            return inert
        if value.__class__ in _SEQUENCES:
            role = _ROLES.get((numpy_fn, slot), "other")
            if role == "array":
                return inert
            if role == "sequence":
                return value.__class__(inert for _ in value)
        return value

    probe_args = [stand_in(slot, value) for slot, value in enumerate(args)]
    probe_kwargs = {slot: stand_in(slot, value) for slot, value in kwargs.items()}
    # Declining probes end every call in an error.
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        numpy_fn(*probe_args, **probe_kwargs)
    for slot in unknown:
        if (slot, "element") in consulted:
            _ROLES[numpy_fn, slot] = "sequence"
        elif (slot, "whole") in consulted:
            _ROLES[numpy_fn, slot] = "array"
        else:
            _ROLES[numpy_fn, slot] = "other"


def _as_array(value: Any) -> Any:
    from fgrad._rules.creation import asarray

    return asarray(value)


def _convert(value: Any, role: Role) -> Any:
    if role == "array" and value.__class__ in _SEQUENCES:
        return _as_array(value)
    if role == "sequence" and contains_tracer(value):
        return value.__class__(
            _as_array(v) if v.__class__ in _SEQUENCES and contains_tracer(v) else v for v in value
        )
    return value


def convert_array_likes(
    numpy_fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` with each list or tuple that ``numpy_fn`` takes as an
    array-like turned into an array (traced if it holds traced values), when any argument
    is traced; a ufunc takes every positional argument as an array-like. Without traced
    arguments nothing changes: NumPy gets the call as written."""
    if not any(contains_tracer(v) for v in (*args, *kwargs.values())):
        return args, kwargs
    if isinstance(numpy_fn, np.ufunc):
        return tuple(_convert(a, "array") for a in args), kwargs
    _learn_roles(numpy_fn, args, kwargs)
    new_args = tuple(
        _convert(value, _ROLES.get((numpy_fn, slot), "other")) for slot, value in enumerate(args)
    )
    new_kwargs = {
        slot: _convert(value, _ROLES.get((numpy_fn, slot), "other"))
        for slot, value in kwargs.items()
    }
    return new_args, new_kwargs


def accepting_array_likes(fn: Callable[..., Any], numpy_fn: Any) -> Callable[..., Any]:
    """``fn`` that first converts lists and tuples of traced values (see the module doc).

    Arguments that are no list or tuple cost one class check each.
    """

    @functools.wraps(fn)
    def with_array_likes(*args: Any, **kwargs: Any) -> Any:
        for a in args:
            if a.__class__ is list or a.__class__ is tuple:
                break
        else:
            if not kwargs:
                return fn(*args)
            for a in kwargs.values():
                if a.__class__ is list or a.__class__ is tuple:
                    break
            else:
                return fn(*args, **kwargs)
        args, kwargs = convert_array_likes(numpy_fn, args, kwargs)
        return fn(*args, **kwargs)

    return with_array_likes
