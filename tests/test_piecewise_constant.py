"""Every function classed piecewise constant really is: its outputs do not move.

fgrad returns plain values (no gradient) only from the functions entered in
``fgrad._rules.declare.piecewise_constant()``. For each of them, at random points near
its sample arguments (several seeds), each floating input is moved by ``+-STEP`` along a
random direction and every output must come out *identical* on both sides: the centred
finite difference is exactly zero. Each argument is also moved alone, the others keeping
their sample values (a plain argument often holds exact zeros or ties). The registry is
enumerated, so a function classed piecewise constant later is checked without editing this
file; one whose output moves (``sort``, ``unique``'s values, histogram edges, ``heaviside``'s
second argument...) fails here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._rules.declare import DECLARATIONS, Declaration, piecewise_constant
from fgrad.tree import tree_flatten

PIECEWISE_CONSTANT = piecewise_constant()

STEP = 1e-6
"""Finite-difference step: far below the distance of the random points from any jump."""
NUDGE_RANGE = (0.01, 0.1)
"""Magnitude of the random move from the sample point, per element (random sign)."""
SEEDS = range(4)

# Outputs whose values are not defined (uninitialised memory) are compared by shape/dtype.
COMPARED_BY_SHAPE = {"empty_like"}


def _is_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _sample(entry: Declaration) -> list[Any]:
    args = eval(f"({entry.sample},)", {"np": np})  # noqa: S307  (registry source text)
    return [np.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


def _outputs(entry: Declaration, args: list[Any]) -> list[Any]:
    out = entry.fn(*args)
    if entry.name in COMPARED_BY_SHAPE:
        return [np.shape(out), np.result_type(out)]
    return tree_flatten(out)[0]


def _assert_same(plus: list[Any], minus: list[Any], what: str) -> None:
    assert len(plus) == len(minus), what
    for k, (p, m) in enumerate(zip(plus, minus)):
        if isinstance(p, (np.ndarray, np.generic, float, int, bool)):
            assert np.shape(p) == np.shape(m), f"{what}, output {k}"
            difference_is_zero = np.array_equal(p, m, equal_nan=_is_float(np.asarray(p)))
            assert difference_is_zero, f"{what}, output {k}: {p!r} != {m!r}"
        else:
            assert p == m, f"{what}, output {k}: {p!r} != {m!r}"


def _float_positions(args: list[Any]) -> list[int]:
    return [k for k, a in enumerate(args) if _is_float(a)]


@pytest.mark.parametrize("name", sorted(PIECEWISE_CONSTANT))
def test_centred_differences_are_exactly_zero(name: str) -> None:
    entry = PIECEWISE_CONSTANT[name]
    sample = _sample(entry)
    positions = _float_positions(sample)
    if not positions:
        # No floating argument in the sample (bitwise operations): such a function must
        # refuse floating input altogether, or it would need a point to be checked at.
        floats = [np.asarray(a, dtype=np.float64) + 0.5 for a in sample]
        with pytest.raises(TypeError):
            entry.fn(*floats)
        return
    for seed in SEEDS:
        rng = np.random.default_rng([seed, len(name)])
        nudged = list(sample)
        for k in positions:
            a = np.asarray(sample[k], dtype=np.float64)
            moved = a + rng.choice([-1.0, 1.0], a.shape) * rng.uniform(*NUDGE_RANGE, a.shape)
            nudged[k] = float(moved) if isinstance(sample[k], float) else moved
        for k in positions:
            # Every argument moved, then argument k alone (the others keep the sample's exact
            # values, such as the zeros where heaviside returns its second argument).
            alone = list(sample)
            alone[k] = nudged[k]
            for point in (nudged, alone):
                direction = rng.standard_normal(np.shape(point[k]))
                plus, minus = list(point), list(point)
                plus[k] = point[k] + STEP * direction
                minus[k] = point[k] - STEP * direction
                _assert_same(
                    _outputs(entry, plus),
                    _outputs(entry, minus),
                    f"{name} (seed {seed}, argument {k})",
                )


@pytest.mark.parametrize("name", sorted(PIECEWISE_CONSTANT))
def test_traced_call_returns_plain_numpy_values(name: str) -> None:
    entry = PIECEWISE_CONSTANT[name]
    sample = _sample(entry)
    positions = _float_positions(sample)
    if not positions:
        pytest.skip("no floating argument to trace")
    k = positions[0]
    seen = []

    def f(t: Any) -> Any:
        args = list(sample)
        args[k] = t
        seen.append(_outputs(entry, args))
        return fnp.sum(t)

    with np.errstate(invalid="ignore"):  # isposinf's samples hold +inf and -inf: their sum is NaN
        fgrad.grad(f)(np.asarray(sample[k], dtype=np.float64))
    (traced,) = seen
    assert not any(isinstance(o, fgrad.Tracer) for o in traced)
    _assert_same(traced, _outputs(entry, sample), f"{name} traced")


def test_every_exported_function_has_a_declared_class() -> None:
    classes = {"differentiable", "piecewise_constant", "numpy"}
    for namespace, module in (("numpy", fnp), ("numpy.linalg", fnp.linalg)):
        for short, entry in DECLARATIONS[namespace].items():
            assert entry.differentiability in classes, f"{namespace}.{short}"
            assert getattr(module, short) is entry.fn, f"{namespace}.{short}"


def test_registry_names_numpy_functions() -> None:
    for name, entry in PIECEWISE_CONSTANT.items():
        numpy_fn = np
        for part in name.split("."):
            numpy_fn = getattr(numpy_fn, part)
        assert entry.numpy_fns == (numpy_fn,)
        assert numpy_fn.__name__ == name.split(".")[-1]


@pytest.mark.parametrize("name", ["sort", "unique", "histogram", "percentile"])
def test_functions_whose_values_move_are_not_classed_piecewise_constant(name: str) -> None:
    assert name not in PIECEWISE_CONSTANT
