"""Make :class:`~fgrad._core.Tracer` behave like an ``ndarray``.

Operators, array methods, and NumPy's dispatch protocols: a NumPy ufunc or
function called on a tracer is routed to its fgrad rule, and one without a
rule raises ``TypeError`` naming it, so a gradient is never dropped silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fgrad._core import NO_PARAMS, Tracer, bind2, concrete, user_site
from fgrad._rules import elementwise as ew
from fgrad._rules import indexing as ix
from fgrad._rules import linear as st
from fgrad._rules import products as la
from fgrad._rules import reductions as red
from fgrad._rules import shape as sh
from fgrad._rules import sorting as so
from fgrad._rules.declare import FUNCTION_RULES, UFUNC_RULES


def _no_rule(what: str) -> TypeError:
    return TypeError(
        f"{what} was called on a traced array but has no gradient rule in fgrad. "
        "Use the fgrad.numpy equivalent, or define the operation with fgrad.custom_vjp "
        "(or apply fgrad.stop_gradient if no gradient should flow through it)."
    )


def _array_ufunc(self: Tracer, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    name = f"numpy.{ufunc.__name__}"
    if kwargs.get("out") is not None:
        raise TypeError(
            f"{name} was asked to write into an existing array (out=) with a traced "
            "value: in-place assignment has no gradient. Use the returned array instead."
        )
    if method != "__call__":
        raise _no_rule(f"{name}.{method}")
    rule = UFUNC_RULES.get(ufunc)
    if rule is None:
        raise _no_rule(name)
    extra = {k: v for k, v in kwargs.items() if k != "out"}
    if extra:
        raise TypeError(
            f"{name} on a traced array does not support keyword arguments {sorted(extra)}"
        )
    return rule(*inputs)


_IN_PLACE_HINT = (
    "it writes into an existing array, which has no gradient. Build a new array instead: "
    "a.at[i].set(values) (fgrad.numpy.at(a)[i].set(values) for a NumPy array), "
    "fgrad.numpy.where(mask, values, a), or fgrad.numpy.stack / fgrad.numpy.concatenate of "
    "the pieces"
)
_NAN_QUANTILE_HINT = (
    "call fgrad.numpy.quantile / percentile on the non-NaN values "
    "(a[~np.isnan(a)]), or replace the NaNs first"
)
_HINTS: dict[Any, str] = {
    np.copyto: _IN_PLACE_HINT,
    np.put: _IN_PLACE_HINT,
    np.place: _IN_PLACE_HINT,
    np.putmask: _IN_PLACE_HINT,
    np.put_along_axis: _IN_PLACE_HINT,
    np.fill_diagonal: _IN_PLACE_HINT,
    np.nanquantile: _NAN_QUANTILE_HINT,
    np.nanpercentile: _NAN_QUANTILE_HINT,
    np.bincount: "with traced weights use fgrad.numpy.scatter_add(weights, (n,), x)",
}


def _array_function(self: Tracer, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    rule = FUNCTION_RULES.get(func)
    if rule is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        name = f"{module.replace('numpy.linalg._linalg', 'numpy.linalg')}.{func.__name__}"
        hint = _HINTS.get(func)
        if hint is not None:
            raise TypeError(
                f"{name} was called on a traced array but has no gradient rule in fgrad: "
                f"{hint} (at {user_site()})."
            )
        raise _no_rule(name)
    return rule(*args, **kwargs)


def _array(self: Tracer, dtype: Any = None, copy: Any = None) -> Any:
    x: Any = self
    while x.__class__ is Tracer:
        if not x._trace.replays:
            raise TypeError(
                "A traced array was converted to a plain NumPy array (np.asarray, np.array, or "
                f"an assignment into an ndarray) at {user_site()}, which would silently drop "
                "its gradient. Keep it in fgrad.numpy operations (fgrad.numpy.array and "
                "fgrad.numpy.stack build arrays from traced values), or apply "
                "fgrad.stop_gradient to take its value on purpose."
            )
        x = x._value
    return np.asarray(concrete(self), dtype=dtype)


def _setitem(self: Tracer, index: Any, value: Any) -> None:
    raise TypeError(
        "In-place assignment into a traced array (x[...] = v) is not differentiable "
        f"(at {user_site()}). Use the functional update, as in JAX: x = x.at[idx].set(v) "
        "(also .add, .multiply, .min, .max...; fgrad.numpy.at(x)[idx].set(v) works on NumPy "
        "arrays too), or fgrad.numpy.where(mask, v, x)."
    )


def _iter(self: Tracer) -> Any:
    n = len(self)
    return (st.getitem(self, i) for i in range(n))


def _reflected(fn: Any) -> Any:
    prim = getattr(fn, "primitive", None)
    if prim is not None:
        return lambda self, other: bind2(prim, other, self, NO_PARAMS)
    return lambda self, other: fn(other, self)


def _direct(fn: Any) -> Any:
    prim = getattr(fn, "primitive", None)
    if prim is not None:
        return lambda self, other: bind2(prim, self, other, NO_PARAMS)
    return fn


def _reshape_method(self: Tracer, *shape: Any, order: str = "C") -> Any:
    if len(shape) == 1 and np.ndim(shape[0]) != 0:
        shape = tuple(shape[0])
    return st.reshape(self, shape, order)


def _transpose_method(self: Tracer, *axes: Any) -> Any:
    if not axes or (len(axes) == 1 and axes[0] is None):
        return st.transpose(self)
    if len(axes) == 1 and np.ndim(axes[0]) != 0:
        axes = tuple(axes[0])
    return st.transpose(self, axes)


_METHODS: dict[str, Any] = {
    "__add__": _direct(ew.add),
    "__radd__": _reflected(ew.add),
    "__sub__": _direct(ew.subtract),
    "__rsub__": _reflected(ew.subtract),
    "__mul__": _direct(ew.multiply),
    "__rmul__": _reflected(ew.multiply),
    "__truediv__": _direct(ew.divide),
    "__rtruediv__": _reflected(ew.divide),
    "__pow__": _direct(ew.power),
    "__rpow__": _reflected(ew.power),
    "__mod__": ew.mod,
    "__rmod__": _reflected(ew.mod),
    "__floordiv__": ew.floor_divide,
    "__rfloordiv__": _reflected(ew.floor_divide),
    "__matmul__": la.matmul,
    "__rmatmul__": _reflected(la.matmul),
    "__and__": ew.bitwise_and,
    "__rand__": _reflected(ew.bitwise_and),
    "__or__": ew.bitwise_or,
    "__ror__": _reflected(ew.bitwise_or),
    "__xor__": ew.bitwise_xor,
    "__rxor__": _reflected(ew.bitwise_xor),
    "__invert__": ew.invert,
    "__divmod__": lambda self, other: (ew.floor_divide(self, other), ew.mod(self, other)),
    "__round__": lambda self, ndigits=None: ew.round(self, ndigits or 0),
    "__neg__": ew.negative,
    "__pos__": ew.positive,
    "__abs__": ew.absolute,
    "__lt__": ew.less,
    "__le__": ew.less_equal,
    "__gt__": ew.greater,
    "__ge__": ew.greater_equal,
    "__eq__": ew.equal,
    "__ne__": ew.not_equal,
    "__getitem__": st.getitem,
    "__setitem__": _setitem,
    "at": property(ix.at),
    "__iter__": _iter,
    "__array__": _array,
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "T": property(lambda self: st.transpose(self)),
    "mT": property(lambda self: sh.swapaxes(self, -1, -2)),
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "sum": st.sum,
    "mean": red.mean,
    "prod": red.prod,
    "max": red.max,
    "min": red.min,
    "var": red.var,
    "std": red.std,
    "cumsum": red.cumsum,
    "cumprod": red.cumprod,
    "dot": la.dot,
    "ravel": sh.ravel,
    "flatten": lambda self: sh.ravel(self),
    "squeeze": sh.squeeze,
    "swapaxes": sh.swapaxes,
    "clip": ew.clip,
    "astype": lambda self, dtype, **kw: st.astype(self, dtype),
    "copy": lambda self: self,
    "conj": ew.conjugate,
    "conjugate": ew.conjugate,
    "real": property(ew.real),
    "imag": property(ew.imag),
    "diagonal": sh.diagonal,
    "trace": sh.trace,
    "repeat": sh.repeat,
    "take": ix.take,
    "argmax": lambda self, *a, **k: so.argmax(self, *a, **k),
    "argmin": lambda self, *a, **k: so.argmin(self, *a, **k),
    "argsort": lambda self, *a, **k: so.argsort(self, *a, **k),
    "round": lambda self, decimals=0: np.round(concrete(self), decimals),
    "item": lambda self, *a: (
        concrete(self).item(*a) if hasattr(concrete(self), "item") else concrete(self)
    ),
    "tolist": lambda self: np.asarray(concrete(self)).tolist(),
    "any": lambda self, *a, **k: np.any(concrete(self), *a, **k),
    "all": lambda self, *a, **k: np.all(concrete(self), *a, **k),
}

for _name, _method in _METHODS.items():
    setattr(Tracer, _name, _method)
