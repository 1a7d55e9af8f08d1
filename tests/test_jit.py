"""fgrad.jit: replays are bit-identical to eager calls, guards catch every value read."""

from __future__ import annotations

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._jit import _CODEGEN_LIMIT


def mlp_step(params, X, y):
    def loss(p):
        h = X
        for W, b in p:
            h = fnp.tanh(h @ W + b)
        return fnp.mean((h[:, 0] - y) ** 2)

    value, grads = fgrad.value_and_grad(loss)(params)
    return value, [(W - 0.5 * gW, b - 0.5 * gb) for (W, b), (gW, gb) in zip(params, grads)]


def make_params(seed):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((2, 3)), rng.standard_normal(3)),
        (rng.standard_normal((3, 1)), np.zeros(1)),
    ]


def assert_trees_identical(a, b):
    la, lb = fgrad.tree.tree_leaves(a), fgrad.tree.tree_leaves(b)
    assert fgrad.tree.tree_structure(a) == fgrad.tree.tree_structure(b)
    for x, y in zip(la, lb):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y, strict=True)


def test_replays_are_bit_identical_to_eager_over_a_training_loop():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 2)), rng.standard_normal(16)
    step = fgrad.jit(mlp_step)
    eager_params = jit_params = make_params(1)
    for _ in range(5):
        eager_value, eager_params = mlp_step(eager_params, X, y)
        jit_value, jit_params = step(jit_params, X, y)
        assert_trees_identical(eager_value, jit_value)
        assert_trees_identical(eager_params, jit_params)
    assert step.stats.traces == 1 and step.stats.replays == 4
    assert step.stats.guard_failures == 0


def test_new_shapes_or_static_values_trace_a_new_signature():
    f = fgrad.jit(lambda x, k: fnp.sum(x**k))
    assert float(f(np.ones(3), 2)) == 3.0
    assert float(f(np.ones(4), 2)) == 4.0
    assert float(f(np.full(4, 2.0), 3)) == 32.0
    assert float(f(np.full(4, 2.0), 3)) == 32.0
    assert f.stats.traces == 3 and f.stats.replays == 1
    f32 = f(np.ones(3, np.float32), 2)
    assert f32.dtype == np.float32


def test_python_control_flow_on_values_is_guarded():
    def f(x):
        if fnp.sum(x) > 0:
            return x * 2.0
        return x * -3.0

    jf = fgrad.jit(f)
    for v in [1.0, 2.0, -1.0, -5.0, 3.0]:
        np.testing.assert_array_equal(jf(np.full(2, v)), f(np.full(2, v)))
    assert jf.stats.variants == 2
    assert jf.stats.guard_failures >= 2


def test_masks_read_by_gradient_rules_are_never_stale():
    g = fgrad.jit(fgrad.grad(lambda x: fnp.sum(fnp.abs(x) * fnp.maximum(x, 0.5))))
    eager = fgrad.grad(lambda x: fnp.sum(fnp.abs(x) * fnp.maximum(x, 0.5)))
    for x in ([1.0, -2.0, 0.2], [-1.0, 2.0, 0.7], [3.0, 3.0, -0.1]):
        np.testing.assert_array_equal(g(np.array(x)), eager(np.array(x)))


def test_variants_are_bounded_and_then_calls_run_eagerly():
    jf = fgrad.jit(lambda x: x * float(x), max_variants=2)
    for v in range(5):
        assert float(jf(np.array(float(v)))) == float(v * v)
    assert jf.stats.variants == 2
    assert jf.stats.eager_calls >= 2


def test_under_an_outer_transform_jit_runs_eagerly_and_differentiates():
    jf = fgrad.jit(lambda x: fnp.sin(x) * x)
    g = fgrad.grad(lambda x: jf(x))(0.5)
    assert float(g) == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5), rel=1e-14)
    assert jf.stats.eager_calls == 1


def test_closing_over_an_outer_tracer_falls_back_to_eager():
    def outer(y):
        inner = fgrad.jit(lambda x: x * y)
        return fnp.sum(inner(np.ones(2)))

    assert float(fgrad.grad(outer)(3.0)) == 2.0


def test_outputs_are_fresh_writeable_arrays():
    f = fgrad.jit(lambda x: (fnp.broadcast_to(x, (2, 2)), np.zeros(2)))
    f(np.ones(2))
    a, z = f(np.ones(2))
    a[0, 0] = 5.0
    z[0] = 5.0
    a2, z2 = f(np.ones(2))
    assert a2[0, 0] == 1.0 and z2[0] == 0.0


def test_long_programs_are_interpreted_and_still_identical():
    def chain(x):
        for _ in range(_CODEGEN_LIMIT):
            x = fnp.tanh(x * 1.0001 + 0.1)
        return x

    g = fgrad.grad(chain)
    jg = fgrad.jit(g)
    jg(np.array(0.1))
    assert_trees_identical(jg(np.array(0.3)), g(np.array(0.3)))
    assert not jg.sources()[0].startswith("def replay")


def test_short_programs_are_compiled_to_python():
    jf = fgrad.jit(lambda x: fnp.exp(x) + 1.0)
    jf(np.ones(2))
    assert jf.sources()[0].startswith("def replay")


def test_unhashable_static_leaf_is_refused():
    class Thing:
        __hash__ = None

    with pytest.raises(TypeError, match="neither an array nor hashable"):
        fgrad.jit(lambda x, t: x)(np.ones(1), Thing())


def test_index_arrays_computed_from_inputs_are_recorded_not_frozen():
    def loss(x, idx):
        return fnp.sum(x[idx] ** 2) + fnp.sum(fnp.take_along_axis(x[None, :], idx[None, :], 1))

    jg = fgrad.jit(fgrad.grad(loss))
    x = np.arange(5.0)
    for idx in ([1, 1, 3], [0, 4, 4], [2, 2, 2]):
        idx = np.array(idx)
        np.testing.assert_array_equal(jg(x, idx), fgrad.grad(loss)(x, idx), strict=True)
    assert jg.stats.traces == 1 and jg.stats.replays == 2


def test_relu_networks_replay_without_guards():
    rng = np.random.default_rng(0)

    def loss(W, X):
        return fnp.sum(fgrad.nn.relu(X @ W) * fnp.abs(X @ W) + fnp.max(X @ W, axis=1)[:, None])

    jg = fgrad.jit(fgrad.grad(loss))
    for _ in range(4):
        W, X = rng.standard_normal((3, 2)), rng.standard_normal((5, 3))
        np.testing.assert_array_equal(jg(W, X), fgrad.grad(loss)(W, X), strict=True)
    assert jg.stats.guard_failures == 0 and jg.stats.replays == 3


def test_data_dependent_shapes_are_guarded():
    def loss(w, m):
        return fnp.mean(w[m] ** 2)

    jg = fgrad.jit(fgrad.grad(loss))
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for mask in ([1, 0, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]):
        m = np.array(mask, dtype=bool)
        np.testing.assert_array_equal(jg(w, m), fgrad.grad(loss)(w, m), strict=True)
    positive_var = fgrad.jit(lambda x: fnp.var(x[x > 0]))
    for x in ([1.0, -1.0, -2.0, -3.0], [1.0, 2.0, 3.0, -3.0]):
        assert positive_var(np.array(x)) == np.var(np.array(x)[np.array(x) > 0])


def test_static_floats_are_keyed_by_their_bits():
    f = fgrad.jit(lambda x, s: x / s)
    with np.errstate(divide="ignore"):
        assert f(np.ones(1), 0.0)[0] == np.inf
        assert f(np.ones(1), -0.0)[0] == -np.inf


def test_custom_vjp_residuals_do_not_accumulate_under_jit():
    @fgrad.custom_vjp
    def f(x):
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), x), lambda r, g: (g * fnp.cos(r),))
    j = fgrad.jit(lambda x: f(x) * 2)
    for _ in range(5):
        j(np.ones(3))
    assert j.stats.replays == 4
    (program,) = [p for programs in j._cache.values() for p in programs]
    params = [v for v in program.replay.__globals__.values() if isinstance(v, dict)]
    held = [len(p["residuals"]) for p in params if "residuals" in p]
    assert held == [1]


def test_boolean_operators_and_zero_checks_replay_without_guards():
    def f(x):
        inside = (x > 0) & (x < 1) | ~(x > -5)
        return fnp.sum(fnp.where(inside, x, 0.0)) + fnp.prod(x) + fnp.sum(fnp.cumprod(x))

    jg = fgrad.jit(fgrad.grad(f))
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = rng.uniform(-2, 2, 5)
        np.testing.assert_array_equal(jg(x), fgrad.grad(f)(x), strict=True)
    assert jg.stats.traces == 1 and jg.stats.guard_failures == 0
