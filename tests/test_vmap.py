"""``fgrad.vmap``: every registered case batched against a per-example loop, and the API.

The sweep runs each case of ``tests/test_numpy_grads.py`` on a batch of three nearby inputs
under ``vmap``, forward and reverse (``vmap(grad(...))``), and compares with a Python loop.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_numpy_grads import CASES

import fgrad
import fgrad.numpy as fnp
from fgrad import losses
from fgrad._core import Primitive
from fgrad._rules import (
    batching,
    calculus,
    declare,
    elementwise,
    fft,
    indexing,
    linalg,
    linear,
    logic,
    products,
    reductions,
    shape,
    sorting,
    special,
)
from fgrad.tree import tree_flatten

BATCHED_RTOL = 1e-10
"""Batched NumPy calls (stacked BLAS, pairwise sums over other shapes) may round differently."""
BATCHED_ATOL = 1e-12
SCALES = (0.997, 1.0, 1.003)
"""A batch of three: each input scaled slightly, staying clear of the cases' kinks and ties."""

FALLBACKS = {
    # piecewise constant functions whose axis arguments NumPy takes in many forms
    "all", "allclose", "any", "array_equal", "count_nonzero",
    "argmax", "argmin", "nanargmax", "nanargmin", "argsort", "argpartition", "lexsort",
    "searchsorted", "digitize", "interp_interval",
    "histogram_bin_edges", "histogram_bin_index", "histogram_counts",
    # results whose shape depends on values: no batched array can hold them in general
    "nonzero", "flatnonzero", "argwhere", "unique", "unique_family",
}  # fmt: skip
"""Primitives without a batching rule: they run once per example, with a one-time warning.
None of them is in the arithmetic, linear, reduction, product or linalg families."""


def _is_float(a: Any) -> bool:
    return isinstance(a, (float, np.ndarray)) and np.issubdtype(np.result_type(a), np.floating)


def _batch(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(np.stack([np.asarray(a) * s for s in SCALES]) if _is_float(a) else a for a in args)


def _example(args: tuple[Any, ...], k: int) -> tuple[Any, ...]:
    return tuple(np.asarray(a) * SCALES[k] if _is_float(a) else a for a in args)


def _real_view(x: Any) -> Any:
    """A real function of ``x`` that sees both parts of a complex ``x`` (grad needs real)."""
    if np.iscomplexobj(fgrad.values.peek(x)):
        return fnp.real(x) + 0.5 * fnp.imag(x)
    return x


def _float_leaves(tree: Any) -> list[Any]:
    leaves = tree_flatten(tree)[0]
    return [leaf for leaf in leaves if np.issubdtype(np.result_type(leaf), np.inexact)]


def _assert_close(batched: Any, loop: list[Any]) -> None:
    got = tree_flatten(batched)[0]
    want = [tree_flatten(out)[0] for out in loop]
    assert len(got) == len(want[0])
    for i, leaf in enumerate(got):
        expected = np.stack([np.asarray(w[i]) for w in want])
        np.testing.assert_allclose(leaf, expected, rtol=BATCHED_RTOL, atol=BATCHED_ATOL)


@pytest.mark.filterwarnings("ignore::fgrad.BatchingFallbackWarning")
@pytest.mark.parametrize(("fun", "args"), CASES)
def test_vmap_matches_a_loop_forward_and_reverse(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    batched = _batch(args)
    in_axes = tuple(0 if _is_float(a) else None for a in args)
    _assert_close(
        fgrad.vmap(fun, in_axes=in_axes)(*batched), [fun(*_example(args, k)) for k in range(3)]
    )

    weights = [np.cos(np.arange(np.size(leaf)) + 1.0).reshape(np.shape(leaf))
               for leaf in _float_leaves(fun(*args))]  # fmt: skip

    def scalar(*xs: Any) -> Any:
        outs = _float_leaves(fun(*xs))
        return sum(fnp.sum(_real_view(o) * w) for o, w in zip(outs, weights))

    grad = fgrad.grad(scalar, argnums=tuple(k for k, a in enumerate(args) if _is_float(a)))
    _assert_close(
        fgrad.vmap(grad, in_axes=in_axes)(*batched), [grad(*_example(args, k)) for k in range(3)]
    )


def _primitives() -> dict[str, Primitive]:
    modules: list[types.ModuleType] = [calculus, elementwise, indexing, linalg, linear, logic]
    modules += [fft, products, reductions, shape, sorting, special]
    found: dict[str, Primitive] = {}
    for module in modules:
        for value in vars(module).values():
            prim = value if isinstance(value, Primitive) else getattr(value, "primitive", None)
            if isinstance(prim, Primitive):
                found.setdefault(prim.name, prim)
    for entries in declare.DECLARATIONS.values():
        for entry in entries.values():
            prim = getattr(entry.fn, "primitive", None)
            if isinstance(prim, Primitive):
                found.setdefault(prim.name, prim)
    return found


def test_primitives_without_a_batching_rule_are_listed() -> None:
    primitives = _primitives()
    assert len(primitives) > 100
    missing = {name for name, prim in primitives.items() if prim.batch is None}
    assert missing - FALLBACKS == set(), "add the primitive's batching rule, or list it"
    assert FALLBACKS - missing == set(), "remove from FALLBACKS: it has a rule now"


def test_per_example_gradients_of_an_mlp() -> None:
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(2, 8)), np.zeros(8)), (rng.normal(size=(8, 1)), np.zeros(1))]

    def loss(params: Any, x: Any, y: Any) -> Any:
        for w, b in params[:-1]:
            x = fnp.tanh(x @ w + b)
        w, b = params[-1]
        return fnp.mean((x @ w + b)[..., 0] - y) ** 2

    xs, ys = rng.normal(size=(6, 2)), rng.normal(size=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        per_example = fgrad.vmap(fgrad.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    loop = [fgrad.grad(loss)(params, xs[i], ys[i]) for i in range(6)]
    _assert_close(per_example, loop)


def test_per_example_gradients_with_integer_labels_gather_without_a_loop() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 4))
    xs, labels = rng.normal(size=(5, 8, 3)), rng.integers(0, 4, (5, 8))

    def loss(w: Any, x: Any, y: Any) -> Any:
        logp = fgrad.nn.log_softmax(x @ w)
        picked = fnp.take_along_axis(logp, y[:, None], axis=1)
        return losses.softmax_cross_entropy(x @ w, y) - 0.5 * fnp.sum(picked)

    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        per_example = fgrad.vmap(fgrad.value_and_grad(loss), in_axes=(None, 0, 0))(w, xs, labels)
    _assert_close(per_example, [fgrad.value_and_grad(loss)(w, x, y) for x, y in zip(xs, labels)])


def test_gathers_align_index_arrays_of_different_ranks() -> None:
    x = np.arange(5 * 3 * 4.0).reshape(5, 3, 4)
    rows = np.array([[0, 2], [1, 1]])  # static, rank 2
    columns = np.array([[3, 0], [1, 2], [0, 0], [2, 3], [1, 1]])  # one rank-1 index per example
    template = ((False, rows), (True, 0), (False, slice(None)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        out = fgrad.vmap(lambda a, j: linear._GATHER(a[..., None], j, template=template))(
            x, columns
        )
    np.testing.assert_array_equal(
        out, np.stack([a[..., None][rows, j] for a, j in zip(x, columns)])
    )


def test_constant_integer_indices_are_batched_forward_and_reverse() -> None:
    x = np.arange(5 * 6 * 3.0).reshape(5, 6, 3) / 10
    rows = np.array([[0, 2], [4, 4]])  # repeated: the scatter must accumulate

    def f(a: Any) -> Any:
        return fnp.sum(a[rows, 1] ** 2) + fnp.sum(a[np.array([1, 0]), :, None] ** 3)

    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        batched = fgrad.vmap(fgrad.value_and_grad(f))(x)
        columns = fgrad.vmap(lambda a: a[:, rows % 3])(x)  # adjacent after a slice: in place
    _assert_close(batched, [fgrad.value_and_grad(f)(a) for a in x])
    np.testing.assert_array_equal(columns, np.stack([a[:, rows % 3] for a in x]))
    y = np.arange(5 * 2 * 3 * 2 * 3.0).reshape(5, 2, 3, 2, 3) / 100
    first = (np.array([1, 0]), slice(None), np.array([1, 1]))  # apart, an array first

    def g(a: Any) -> Any:
        return fnp.sum(a[first] ** 2)

    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        batched = fgrad.vmap(fgrad.value_and_grad(g))(y)
    _assert_close(batched, [fgrad.value_and_grad(g)(a) for a in y])
    index = (slice(None), np.array([2, 0]), slice(None), np.array([1, 1]))  # apart, slice first
    batching._FALLBACKS_WARNED.discard("getitem")
    with pytest.warns(fgrad.BatchingFallbackWarning, match="'getitem'"):
        apart = fgrad.vmap(lambda a: a[index])(y)  # no prefix keeps the axes: one at a time
    np.testing.assert_array_equal(apart, np.stack([a[index] for a in y]))


def test_gathers_that_cannot_take_a_batch_index_run_once_per_example() -> None:
    x, index = np.arange(24.0).reshape(2, 3, 4), np.array([[2, 0], [1, 1]])
    template = ((False, slice(None)), (True, 0))  # x[:, index]: the batch index cannot go first
    batching._FALLBACKS_WARNED.discard("gather")
    with pytest.warns(fgrad.BatchingFallbackWarning, match="'gather'"):
        out = fgrad.vmap(lambda a, i: linear._GATHER(a, i, template=template))(x, index)
    np.testing.assert_array_equal(out, np.stack([a[:, i] for a, i in zip(x, index)]))


def test_in_axes_out_axes_negative_and_prefix_pytrees() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    out = fgrad.vmap(lambda a: a * 2, in_axes=-1, out_axes=1)(x)
    np.testing.assert_array_equal(out, np.moveaxis(np.moveaxis(x, -1, 0) * 2, 0, 1))
    scaled = fgrad.vmap(lambda a, d: a * d["s"] + d["t"], in_axes=(1, {"s": None, "t": 0}))(
        x, {"s": 3.0, "t": np.ones(3)}
    )
    np.testing.assert_array_equal(scaled, np.moveaxis(x, 1, 0) * 3.0 + 1.0)
    shared = fgrad.vmap(lambda a: (a.sum(), 7.0), out_axes=(0, None))(x)
    np.testing.assert_array_equal(shared[0], x.reshape(2, -1).sum(1))
    assert shared[1] == 7.0
    np.testing.assert_array_equal(
        fgrad.vmap(lambda: fnp.ones(2), in_axes=(), axis_size=3)(), np.ones((3, 2))
    )


def test_nested_vmap_and_jit_both_ways() -> None:
    w = np.array([0.5, -1.0, 2.0])
    xs = np.random.default_rng(1).normal(size=(4, 5, 3))

    def f(w: Any, x: Any) -> Any:
        return fnp.sum(fnp.tanh(x @ w) ** 2)

    expected = np.array([f(w, x) for x in xs])
    inner = fgrad.vmap(lambda w, row: fnp.tanh(row @ w) ** 2, in_axes=(None, 0))
    nested = fgrad.vmap(lambda w, x: fnp.sum(inner(w, x)), in_axes=(None, 0))(w, xs)
    np.testing.assert_allclose(nested, expected, rtol=BATCHED_RTOL)
    jitted = fgrad.jit(fgrad.vmap(f, in_axes=(None, 0)))
    for _ in range(3):
        np.testing.assert_allclose(jitted(w, xs), expected, rtol=BATCHED_RTOL)
    assert jitted.stats.replays == 2
    np.testing.assert_allclose(
        fgrad.vmap(fgrad.jit(f), in_axes=(None, 0))(w, xs), expected, rtol=BATCHED_RTOL
    )


def test_vmap_composes_with_the_transforms() -> None:
    w = np.array([0.5, -1.0, 2.0])
    xs = np.random.default_rng(2).normal(size=(4, 3))

    def f(w: Any, x: Any) -> Any:
        return fnp.sum(fnp.sin(w * x) * w)

    for transform in (fgrad.grad, fgrad.hessian, fgrad.jacfwd, fgrad.jacobian):
        batched = fgrad.vmap(transform(f), in_axes=(None, 0))(w, xs)
        _assert_close(batched, [transform(f)(w, x) for x in xs])
    total = fgrad.grad(lambda w: fnp.sum(fgrad.vmap(f, in_axes=(None, 0))(w, xs)))(w)
    np.testing.assert_allclose(total, sum(fgrad.grad(f)(w, x) for x in xs), rtol=BATCHED_RTOL)

    def tangent(x: Any) -> Any:
        return fgrad.jvp(lambda v: f(v, x), (w,), (np.ones(3),))[1]

    _assert_close(fgrad.vmap(tangent)(xs), [tangent(x) for x in xs])

    @fgrad.custom_vjp
    def clipped(x: Any) -> Any:
        return x

    clipped.defvjp(lambda x: (x, None), lambda res, g: (fnp.clip(g, -1.0, 1.0),))
    grads = fgrad.vmap(fgrad.grad(lambda x: fnp.sum(5.0 * clipped(x))))(xs)
    np.testing.assert_array_equal(grads, np.ones_like(xs))


def test_python_control_flow_gives_the_per_example_answer_and_warns_once() -> None:
    def f(x: Any) -> Any:
        return x * 2 if x.sum() > 0 else -x

    xs = np.array([[1.0, -2.0], [-3.0, 0.5], [2.0, 2.0]])
    with pytest.warns(fgrad.BatchingFallbackWarning, match=r"runs once per example.*where"):
        out = fgrad.vmap(f)(xs)
    np.testing.assert_array_equal(out, np.stack([f(x) for x in xs]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fgrad.vmap(fgrad.grad(lambda x: fnp.sum(f(x) ** 2)))(xs)
    np.testing.assert_array_equal(again, [[2.0, -4.0], [-6.0, 1.0], [16.0, 16.0]])


def test_error_messages_name_sizes_arguments_and_axes() -> None:
    with pytest.raises(ValueError, match=r"argument 0 \(shape \(3, 2\), axis 0\) gives 3, "
                       r"argument 1 \(shape \(4, 2\), axis 0\) gives 4"):  # fmt: skip
        fgrad.vmap(lambda a, b: a + b)(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"in_axes has 2 entries .* 1 positional"):
        fgrad.vmap(lambda a: a, in_axes=(0, 1))(np.ones(3))
    with pytest.raises(
        ValueError, match=r"shape \(3,\)\) has 1 dimension\(s\), so it has no axis 2"
    ):
        fgrad.vmap(lambda a: a, in_axes=2)(np.ones(3))
    with pytest.raises(ValueError, match="out_axes is None for an output that varies"):
        fgrad.vmap(lambda a: a, out_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="no argument is mapped .* axis_size"):
        fgrad.vmap(lambda a: a, in_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match=r"structure mismatch at argument 0"):
        fgrad.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": np.ones(3)})


def test_a_primitive_without_a_rule_falls_back_with_one_warning() -> None:
    from fgrad._rules import batching

    cube = Primitive("cube_without_rule", lambda x: x**3, (lambda g, ans, x: 3 * g * x**2,))
    batching._FALLBACKS_WARNED.discard(cube.name)
    xs = np.array([1.0, 2.0, 3.0])
    with pytest.warns(fgrad.BatchingFallbackWarning, match="'cube_without_rule' has no batching"):
        out = fgrad.vmap(cube)(xs)
    np.testing.assert_array_equal(out, xs**3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fgrad.vmap(fgrad.grad(cube))(xs), 3 * xs**2)


def test_random_draws_batch_over_keys_without_a_fallback_warning() -> None:
    from fgrad import random as fr

    keys = fr.split(fr.key(3), 4)
    xs = np.linspace(0.1, 0.9, 12).reshape(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normal = fgrad.vmap(lambda k: fr.normal(k, (2,)))(keys)
        masked = fgrad.vmap(lambda x, k: x * fr.bernoulli(k, 0.5, (3,)))(xs, keys)
        split = fgrad.vmap(lambda k: fr.split(k, 3))(keys)
        dropout_grads = fgrad.vmap(
            fgrad.grad(lambda x, k: fnp.sum(fnp.sin(x) * fr.bernoulli(k, x, (3,)))),
        )(xs, keys)
    np.testing.assert_array_equal(normal, [fr.normal(k, (2,)) for k in keys])
    loop_masked = [x * fr.bernoulli(k, 0.5, (3,)) for x, k in zip(xs, keys)]
    np.testing.assert_array_equal(masked, loop_masked)
    np.testing.assert_array_equal(split, [fr.split(k, 3) for k in keys])
    loop = [np.cos(x) * fr.bernoulli(k, x, (3,)) for x, k in zip(xs, keys)]
    np.testing.assert_array_equal(dropout_grads, loop)
    assert len({tuple(row) for row in normal}) == 4, "each example draws from its own key"


def test_custom_jvp_batches_as_jax_does_both_orders_and_second_order() -> None:
    @fgrad.custom_jvp
    def scaled_sin(x: Any, scale: Any) -> Any:
        return {"value": fnp.sin(x) * scale, "twice": 2.0 * fnp.sin(x) * scale}

    @scaled_sin.defjvp
    def scaled_sin_jvp(primals: Any, tangents: Any) -> Any:
        (x, scale), (tx, ts) = primals, tangents
        out = scaled_sin(x, scale)
        # deliberately not the true derivative in x (3 cos instead of cos), to see the rule used
        dvalue = 3.0 * fnp.cos(x) * scale * tx + fnp.sin(x) * ts
        return out, {"value": dvalue, "twice": 2.0 * dvalue}

    xs = np.array([0.1, 0.7, -1.2, 2.0])

    def loss(x: Any, scale: Any) -> Any:
        out = scaled_sin(x, scale)
        return out["value"] + 0.5 * out["twice"]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = fgrad.vmap(loss, in_axes=(0, None))(xs, 1.5)
        inner = fgrad.vmap(fgrad.grad(loss), in_axes=(0, None))(xs, 1.5)
        outer = fgrad.grad(lambda x: fnp.sum(fgrad.vmap(loss, in_axes=(0, None))(x, 1.5)))(xs)
        second = fgrad.vmap(fgrad.grad(fgrad.grad(loss)), in_axes=(0, None))(xs, 1.5)
        both = fgrad.vmap(fgrad.grad(loss, argnums=(0, 1)))(xs, xs + 1.0)
    np.testing.assert_allclose(values, 2 * np.sin(xs) * 1.5, rtol=BATCHED_RTOL)
    np.testing.assert_allclose(inner, 6 * np.cos(xs) * 1.5, rtol=BATCHED_RTOL)
    np.testing.assert_allclose(outer, 6 * np.cos(xs) * 1.5, rtol=BATCHED_RTOL)
    np.testing.assert_allclose(second, -6 * np.sin(xs) * 1.5, rtol=BATCHED_RTOL)
    np.testing.assert_allclose(both[0], 6 * np.cos(xs) * (xs + 1.0), rtol=BATCHED_RTOL)
    np.testing.assert_allclose(both[1], 2 * np.sin(xs), rtol=BATCHED_RTOL)


def test_custom_jvp_with_nondiff_argnums_batches_a_mapped_static_argument() -> None:
    @fgrad.custom_jvp
    def power(n: Any, x: Any) -> Any:
        return x**n

    power_with = fgrad.custom_jvp(power.__wrapped__, nondiff_argnums=(0,))

    @power_with.defjvp
    def power_jvp(n: Any, primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return power_with(n, x), n * x ** (n - 1) * t

    ns, xs = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.5, 2.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = fgrad.vmap(fgrad.grad(power_with, argnums=1))(ns, xs)
        outer = fgrad.grad(lambda x: fnp.sum(fgrad.vmap(power_with)(ns, x)))(xs)
    np.testing.assert_allclose(grads, ns * xs ** (ns - 1), rtol=BATCHED_RTOL)
    np.testing.assert_allclose(outer, ns * xs ** (ns - 1), rtol=BATCHED_RTOL)


def test_checkpoint_batches_and_still_recomputes_under_an_outer_grad() -> None:
    calls = []

    @fgrad.checkpoint
    def layer(w: Any, x: Any) -> Any:
        calls.append(type(x).__name__)
        return {"h": fnp.tanh(x @ w), "s": fnp.sum(x)}

    w = np.array([[0.5, -1.0], [2.0, 0.25]])
    xs = np.random.default_rng(4).normal(size=(5, 2))

    def loss(w: Any, x: Any) -> Any:
        out = layer(w, x)
        return fnp.sum(out["h"] ** 2) + out["s"]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_example = fgrad.vmap(fgrad.grad(loss), in_axes=(None, 0))(w, xs)
        calls.clear()
        total = fgrad.grad(lambda w: fnp.sum(fgrad.vmap(loss, in_axes=(None, 0))(w, xs)))(w)
    plain = lambda w, x: fnp.sum(fnp.tanh(x @ w) ** 2) + fnp.sum(x)  # noqa: E731
    _assert_close(per_example, [fgrad.grad(plain)(w, x) for x in xs])
    np.testing.assert_allclose(total, sum(fgrad.grad(plain)(w, x) for x in xs), rtol=BATCHED_RTOL)
    assert len(calls) == 2, f"one batched forward and one batched recomputation, got {calls}"


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
     ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3,))],
)  # fmt: skip
@pytest.mark.parametrize("mapped", ["a", "b", "both"])
def test_matmul_batches_every_rank_pairing_like_a_loop(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], mapped: str
) -> None:
    rng = np.random.default_rng(5)
    size = 4
    a = rng.normal(size=(size, *a_shape) if mapped in ("a", "both") else a_shape)
    b = rng.normal(size=(size, *b_shape) if mapped in ("b", "both") else b_shape)
    in_axes = (0 if mapped in ("a", "both") else None, 0 if mapped in ("b", "both") else None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        out = fgrad.vmap(fnp.matmul, in_axes=in_axes)(a, b)
        grads = fgrad.vmap(fgrad.grad(lambda x, y: fnp.sum(fnp.sin(x @ y))), in_axes=in_axes)(a, b)
    pick = lambda v, axis, i: v if axis is None else v[i]  # noqa: E731
    loop = [pick(a, in_axes[0], i) @ pick(b, in_axes[1], i) for i in range(size)]
    np.testing.assert_allclose(out, np.stack(loop), rtol=BATCHED_RTOL, atol=BATCHED_ATOL)
    for i in range(size):
        x, y = pick(a, in_axes[0], i), pick(b, in_axes[1], i)
        np.testing.assert_allclose(
            grads[i],
            fgrad.grad(lambda x, y: fnp.sum(fnp.sin(x @ y)))(x, y),
            rtol=BATCHED_RTOL,
            atol=BATCHED_ATOL,
        )
