"""The other transforms JAX users reach for: linearize, has_aux everywhere, custom_jvp,
custom_vjp with nondiff_argnums and pytree outputs, grad(allow_int=True), checkpoint."""

from __future__ import annotations

import functools
import gc
import re
import tracemalloc
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad.tree import tree_leaves, tree_map, tree_structure

RTOL = 1e-12
"""Agreement expected between two exact computations of the same derivative."""

CHECKPOINT_PEAK_RATIO = 0.6
"""Largest accepted checkpointed / plain peak memory on the 24-layer MLP below (measured: ~0.4)."""

FLOAT32_RTOL = 1e-6
"""Agreement of a derivative taken through a float32 intermediate with the float64 one."""

X = np.array([0.3, -1.1, 0.7])
Y = np.array([1.5, 0.4, -0.8])


def assert_trees_equal(a: Any, b: Any) -> None:
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_array_equal(x, y)


def assert_trees_close(a: Any, b: Any) -> None:
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_allclose(x, y, rtol=RTOL, atol=RTOL)


def assert_plain(tree: Any) -> None:
    for leaf in tree_leaves(tree):
        assert not isinstance(leaf, fgrad.Tracer), leaf


def wavy(x: Any, y: Any) -> Any:
    return fnp.sin(x) * y + x**2


# --- linearize ------------------------------------------------------------------------------


def test_linearize_matches_jvp_for_every_tangent_and_never_reruns_the_function() -> None:
    calls = []

    def counted(p: Any) -> Any:
        calls.append(1)
        return {"a": wavy(p[0], p[1]), "b": fnp.sum(p[0] * p[1])}

    out, f_jvp = fgrad.linearize(counted, (X, Y))
    assert len(calls) == 1
    assert_trees_equal(out, counted((X, Y)))
    rng = np.random.default_rng(0)
    for _ in range(3):
        t = (rng.standard_normal(3), rng.standard_normal(3))
        assert_trees_close(f_jvp(t), fgrad.jvp(counted, ((X, Y),), (t,))[1])
    calls.clear()
    f_jvp((X, Y))
    assert calls == []


def test_linearize_is_linear_and_checks_its_tangents() -> None:
    _, f_jvp = fgrad.linearize(wavy, X, Y)
    a, b = f_jvp(X, Y), f_jvp(Y, X)
    np.testing.assert_allclose(f_jvp(2.0 * X + Y, 2.0 * Y + X), 2.0 * a + b, rtol=RTOL)
    with pytest.raises(ValueError, match=r"^linearize\(wavy\)'s f_jvp: 2 primals but 1 tangents"):
        f_jvp(X)
    with pytest.raises(ValueError, match=r"^linearize\(wavy\)'s f_jvp: tangent 1 has shape \(2,\)"):
        f_jvp(X, np.ones(2))


def test_linearize_has_aux_returns_plain_aux() -> None:
    out, f_jvp, aux = fgrad.linearize(lambda x: (fnp.sin(x), {"x": x * 2}), X, has_aux=True)
    assert_plain(aux)
    np.testing.assert_array_equal(aux["x"], X * 2)
    np.testing.assert_allclose(f_jvp(np.ones(3)), np.cos(X), rtol=RTOL)


# --- has_aux --------------------------------------------------------------------------------


def with_aux(x: Any) -> Any:
    value = fnp.sum(fnp.sin(x) * x)
    return value, {"value": value, "x": x, "note": "kept"}


def test_jvp_has_aux() -> None:
    out, tangent, aux = fgrad.jvp(with_aux, (X,), (Y,), has_aux=True)
    expected_out, expected_tangent = fgrad.jvp(lambda x: with_aux(x)[0], (X,), (Y,))
    assert out == expected_out and tangent == expected_tangent
    assert_plain(aux)
    assert aux["note"] == "kept" and aux["value"] == out
    np.testing.assert_array_equal(aux["x"], X)


@pytest.mark.parametrize("transform", [fgrad.jacfwd, fgrad.jacrev, fgrad.jacobian])
def test_jacobians_have_aux(transform: Any) -> None:
    jac, aux = transform(lambda x, y: (wavy(x, y), {"x": x}), argnums=(0, 1), has_aux=True)(X, Y)
    assert_trees_equal(jac, transform(wavy, argnums=(0, 1))(X, Y))
    assert_plain(aux)
    np.testing.assert_array_equal(aux["x"], X)


def test_hessian_has_aux_with_traced_aux() -> None:
    hess, aux = fgrad.hessian(with_aux, has_aux=True)(X)
    assert_trees_equal(hess, fgrad.hessian(lambda x: with_aux(x)[0])(X))
    assert_plain(aux)
    assert aux["value"] == pytest.approx(float(np.sum(np.sin(X) * X)), rel=RTOL)
    np.testing.assert_array_equal(aux["x"], X)


@pytest.mark.parametrize("name", ["jvp", "jacfwd", "jacrev", "hessian", "linearize"])
def test_has_aux_without_a_pair_names_the_transform(name: str) -> None:
    calls = {
        "jvp": lambda: fgrad.jvp(fnp.sin, (X,), (X,), has_aux=True),
        "jacfwd": lambda: fgrad.jacfwd(fnp.sin, has_aux=True)(X),
        "jacrev": lambda: fgrad.jacrev(fnp.sin, has_aux=True)(X),
        "hessian": lambda: fgrad.hessian(fnp.sum, has_aux=True)(X),
        "linearize": lambda: fgrad.linearize(fnp.sin, X, has_aux=True),
    }
    transform = "jacobian" if name == "jacrev" else name
    with pytest.raises(TypeError, match=rf"^{transform}\(.*\): with has_aux=True .* pair"):
        calls[name]()


# --- custom_jvp -----------------------------------------------------------------------------


@fgrad.custom_jvp
def sin_times(x: Any, y: Any) -> Any:
    return fnp.sin(x) * y


@sin_times.defjvp
def _sin_times_jvp(primals: Any, tangents: Any) -> Any:
    (x, y), (tx, ty) = primals, tangents
    return sin_times(x, y), fnp.cos(x) * y * tx + fnp.sin(x) * ty


@fgrad.custom_jvp
def doubled_slope_sin(x: Any) -> Any:
    """``sin`` whose rule claims twice its slope: differentiating ``sin`` cannot pass."""
    return fnp.sin(x)


@doubled_slope_sin.defjvp
def _doubled_slope_sin_jvp(primals: Any, tangents: Any) -> Any:
    (x,), (t,) = primals, tangents
    return doubled_slope_sin(x), 2.0 * fnp.cos(x) * t


def test_custom_jvp_matches_finite_differences_to_second_order() -> None:
    fgrad.check_grads(sin_times, (X, Y), order=2)
    fgrad.check_grads(lambda x, y: fnp.sum(sin_times(x, y) ** 2), (X, Y), order=2)


def test_custom_jvp_rule_is_used_by_reverse_and_forward_mode_and_differentiated() -> None:
    np.testing.assert_allclose(
        fgrad.grad(lambda x: fnp.sum(doubled_slope_sin(x)))(X), 2 * np.cos(X)
    )
    np.testing.assert_allclose(fgrad.jvp(doubled_slope_sin, (X,), (Y,))[1], 2 * np.cos(X) * Y)
    second = fgrad.grad(lambda x: fnp.sum(fgrad.grad(lambda z: fnp.sum(doubled_slope_sin(z)))(x)))
    np.testing.assert_allclose(second(X), -2 * np.sin(X), rtol=RTOL)
    np.testing.assert_allclose(
        fgrad.hessian(lambda x: fnp.sum(doubled_slope_sin(x)))(X), np.diag(-2 * np.sin(X))
    )
    np.testing.assert_array_equal(doubled_slope_sin(X), np.sin(X))


def test_custom_jvp_keeps_an_unstable_derivative_finite() -> None:
    @fgrad.custom_jvp
    def log1pexp(x: Any) -> Any:
        return fnp.log1p(fnp.exp(x))

    @log1pexp.defjvp
    def _jvp(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))

    with np.errstate(over="ignore", invalid="ignore"):
        plain = fgrad.grad(lambda x: fnp.log1p(fnp.exp(x)))(800.0)
        assert np.isnan(plain)
        assert fgrad.grad(log1pexp)(800.0) == 1.0


def test_custom_jvp_with_pytrees_nondiff_argnums_and_mixed_dtypes() -> None:
    def make_polar(y_dtype: Any) -> Any:
        @functools.partial(fgrad.custom_jvp, nondiff_argnums=(0,))
        def polar(scale: float, p: Any) -> Any:
            r, theta = p["r"], p["theta"]
            return (scale * r * fnp.cos(theta), (scale * r * fnp.sin(theta)).astype(y_dtype))

        @polar.defjvp
        def _polar_jvp(scale: float, primals: Any, tangents: Any) -> Any:
            (p,), (t,) = primals, tangents
            r, theta = p["r"], p["theta"]
            dx = scale * (t["r"] * fnp.cos(theta) - r * fnp.sin(theta) * t["theta"])
            dy = scale * (t["r"] * fnp.sin(theta) + r * fnp.cos(theta) * t["theta"])
            return polar(scale, p), (dx, dy.astype(y_dtype))

        return polar

    p = {"r": np.array([1.0, 2.0]), "theta": np.array([0.3, -0.4])}
    polar, polar32 = make_polar(np.float64), make_polar(np.float32)
    fgrad.check_grads(lambda p: polar(3.0, p), (p,), order=2)
    fgrad.check_grads(lambda p: fnp.sum(polar(3.0, p)[0] * polar(3.0, p)[1]), (p,), order=2)
    assert polar32(3.0, p)[1].dtype == np.float32
    traced_out, _ = fgrad.vjp(lambda p: polar32(3.0, p), p)
    assert traced_out[1].dtype == np.float32
    y32 = fgrad.jacobian(lambda p: polar32(3.0, p)[1])(p)
    y64 = fgrad.jacobian(lambda p: polar(3.0, p)[1])(p)
    np.testing.assert_allclose(y32["r"], y64["r"], rtol=FLOAT32_RTOL)


def test_custom_jvp_under_jit_replays_bit_for_bit() -> None:
    loss = fgrad.grad(lambda x, y: fnp.sum(sin_times(x, y) ** 2), argnums=(0, 1))
    jitted = fgrad.jit(loss)
    expected = loss(X, Y)
    for _ in range(3):
        assert_trees_equal(jitted(X, Y), expected)
    assert jitted.stats.replays == 2


def test_custom_jvp_errors_name_the_function_and_the_fix() -> None:
    @fgrad.custom_jvp
    def cube(x: Any) -> Any:
        return x**3

    with pytest.raises(TypeError, match=r"^custom_jvp\(.*cube\): the function has no JVP rule"):
        fgrad.grad(cube)(1.0)
    cube.defjvp(lambda primals, tangents: 3 * primals[0] ** 2 * tangents[0])
    with pytest.raises(TypeError, match=r"^custom_jvp\(.*cube\): the JVP rule must return a pair"):
        fgrad.grad(cube)(1.0)
    cube.defjvp(lambda primals, tangents: (cube(primals[0]), (tangents[0],)))
    with pytest.raises(
        TypeError, match=r"^custom_jvp\(.*cube\): the JVP rule returned tangent_out with structure"
    ):
        fgrad.grad(cube)(1.0)
    cube.defjvp(lambda primals, tangents: (cube(primals[0]), fnp.sum(tangents[0])))
    with pytest.raises(
        ValueError,
        match=r"^custom_jvp\(.*cube\): the JVP rule returned tangent_out of shape \(\), but the "
        r"function's output has shape \(3,\)",
    ):
        fgrad.grad(lambda x: fnp.sum(cube(x)))(X)


def test_nondiff_argnums_refuse_a_differentiated_value() -> None:
    @functools.partial(fgrad.custom_jvp, nondiff_argnums=(1,))
    def power(x: Any, n: Any) -> Any:
        return x**n

    power.defjvp(
        lambda n, primals, tangents: (power(primals[0], n), n * primals[0] ** (n - 1) * tangents[0])
    )
    assert fgrad.grad(power)(2.0, 3.0) == 12.0
    with pytest.raises(
        TypeError,
        match=r"^custom_jvp\(.*power\): argument 1 is in nondiff_argnums, but it is traced by "
        r"grad\(.*\) \(at .*\), whose gradient through it would be lost\.",
    ):
        fgrad.grad(power, argnums=1)(2.0, 3.0)


# --- custom_vjp: nondiff_argnums and pytree outputs ------------------------------------------


def clip_gradient_fwd(lo: float, hi: float, x: Any) -> Any:
    return x, None


def clip_gradient_bwd(lo: float, hi: float, res: Any, g: Any) -> Any:
    return (fnp.clip(g, lo, hi),)


clip_gradient = fgrad.custom_vjp(lambda lo, hi, x: x, nondiff_argnums=(0, 1))
clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def test_custom_vjp_nondiff_argnums_reach_bwd_first() -> None:
    grads = fgrad.grad(lambda x: fnp.sum(clip_gradient(-0.5, 2.0, x) * np.array([-3.0, 1.0, 5.0])))
    np.testing.assert_array_equal(grads(X), [-0.5, 1.0, 2.0])
    jitted = fgrad.jit(grads)
    for _ in range(2):
        np.testing.assert_array_equal(jitted(X), [-0.5, 1.0, 2.0])


def test_custom_vjp_nondiff_argnums_errors() -> None:
    with pytest.raises(TypeError, match=r"nondiff_argnums must be non-negative ints, got \(-1,\)"):
        fgrad.custom_vjp(fnp.sin, nondiff_argnums=(-1,))
    with pytest.raises(
        TypeError, match=r"one cotangent per differentiable positional argument \(1; the 2 in"
    ):
        bad = fgrad.custom_vjp(lambda lo, hi, x: x, nondiff_argnums=(0, 1))
        bad.defvjp(clip_gradient_fwd, lambda lo, hi, res, g: (None, None, g))
        fgrad.grad(lambda x: bad(0.0, 1.0, x))(1.0)
    one_argument = fgrad.custom_vjp(fnp.sin, nondiff_argnums=1)
    one_argument.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x),))
    with pytest.raises(TypeError, match=r"names argument 1, but the function was called with 1"):
        fgrad.grad(one_argument)(1.0)


@fgrad.custom_vjp
def polar_to_cartesian(p: Any) -> Any:
    return {"x": p[0] * fnp.cos(p[1]), "y": p[0] * fnp.sin(p[1])}


def _polar_fwd(p: Any) -> Any:
    return polar_to_cartesian(p), p


def _polar_bwd(p: Any, g: Any) -> Any:
    r, theta = p
    dr = g["x"] * fnp.cos(theta) + g["y"] * fnp.sin(theta)
    dtheta = r * (g["y"] * fnp.cos(theta) - g["x"] * fnp.sin(theta))
    return ((dr, dtheta),)


polar_to_cartesian.defvjp(_polar_fwd, _polar_bwd)


def test_custom_vjp_with_a_pytree_output_matches_finite_differences_to_second_order() -> None:
    p = (np.array([1.0, 2.0]), np.array([0.3, -0.4]))
    out = polar_to_cartesian(p)
    np.testing.assert_allclose(out["x"], p[0] * np.cos(p[1]), rtol=RTOL)
    fgrad.check_grads(polar_to_cartesian, (p,), order=2)
    fgrad.check_grads(lambda p: fnp.sum(polar_to_cartesian(p)["y"] ** 2), (p,), order=2)


def test_custom_vjp_single_array_output_keeps_its_contract() -> None:
    fun = fgrad.custom_vjp(fnp.sin)
    fun.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x),))
    captured = []
    fgrad.grad(lambda x: captured.append(fun(x)) or fnp.sum(captured[-1]))(X)
    assert isinstance(captured[0], fgrad.Tracer) and captured[0].shape == (3,)


# --- grad(allow_int=True) -------------------------------------------------------------------


def test_allow_int_gives_float0_gradients_of_the_argument_shape() -> None:
    def loss(params: Any) -> Any:
        return fnp.sum(params["w"][params["index"]] ** 2) * params["on"]

    params = {"w": X, "index": np.array([0, 2]), "on": True}
    grads = fgrad.grad(loss, allow_int=True)(params)
    np.testing.assert_array_equal(grads["w"], [2 * X[0], 0.0, 2 * X[2]])
    assert grads["index"].dtype == fgrad.float0 and grads["index"].shape == (2,)
    assert grads["on"].dtype == fgrad.float0 and grads["on"].shape == ()
    value, grads2 = fgrad.value_and_grad(loss, allow_int=True)(params)
    assert value == pytest.approx(X[0] ** 2 + X[2] ** 2, rel=RTOL)
    assert_trees_equal(grads2["w"], grads["w"])
    with pytest.raises(
        TypeError,
        match=r"^grad\(.*loss\): argument 0\['index'\] has dtype int64, .* pass allow_int=True "
        r"to get float0 gradients for integer inputs, or leave this argument out of argnums\.$",
    ):
        fgrad.grad(loss)(params)


# --- checkpoint -----------------------------------------------------------------------------


def layer(w: Any, b: Any, h: Any) -> Any:
    return fnp.tanh(h @ w + b)


def mlp(params: Any, x: Any, step: Any = layer) -> Any:
    h = x
    for w, b in params:
        h = step(w, b, h)
    return fnp.mean(h * h)


def make_mlp(depth: int, width: int, batch: int, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    params = [
        (rng.standard_normal((width, width)) / np.sqrt(width), 0.1 * rng.standard_normal(width))
        for _ in range(depth)
    ]
    return params, rng.standard_normal((batch, width))


def test_checkpoint_gradients_are_bit_identical_and_the_layer_is_recomputed() -> None:
    calls = []

    def counted_layer(w: Any, b: Any, h: Any) -> Any:
        calls.append(1)
        return layer(w, b, h)

    params, x = make_mlp(4, 5, 3)
    expected = fgrad.grad(mlp)(params, x)
    value, grads = fgrad.value_and_grad(mlp)(params, x, fgrad.checkpoint(counted_layer))
    assert_trees_equal(grads, expected)
    assert value == mlp(params, x)
    assert len(calls) == 2 * len(params)
    np.testing.assert_array_equal(fgrad.checkpoint(layer)(*params[0], x), layer(*params[0], x))


INNER = fgrad.checkpoint(layer)


@fgrad.checkpoint
def two_checkpointed_layers(w: Any, b: Any, h: Any) -> Any:
    return INNER(w, b, INNER(w, b, h))


def two_layers(w: Any, b: Any, h: Any) -> Any:
    return layer(w, b, layer(w, b, h))


@pytest.mark.parametrize(
    ("step", "plain_step"), [(INNER, layer), (two_checkpointed_layers, two_layers)]
)
def test_checkpoint_to_second_order_nested_and_under_jit(step: Any, plain_step: Any) -> None:
    params, x = make_mlp(3, 4, 2, seed=1)
    fgrad.check_grads(lambda p: mlp(p, x, step), (params,), order=2)
    direction = tree_map(np.ones_like, params)
    hvp = fgrad.jvp(fgrad.grad(lambda q: mlp(q, x, step)), (params,), (direction,))[1]
    expected = fgrad.jvp(fgrad.grad(lambda q: mlp(q, x, plain_step)), (params,), (direction,))
    assert_trees_close(hvp, expected[1])
    jitted = fgrad.jit(fgrad.grad(lambda p: mlp(p, x, step)))
    expected_grad = fgrad.grad(lambda p: mlp(p, x, plain_step))(params)
    for _ in range(3):
        assert_trees_equal(jitted(params), expected_grad)
    assert jitted.stats.traces == 1


def test_mixed_second_derivatives_through_arguments_an_inner_grad_holds_constant() -> None:
    def mixed(step: Any) -> Any:
        def outer(w: Any, x: Any) -> Any:
            inner = fgrad.grad(lambda x: fnp.sum(step(w, x)))(x)
            return fnp.sum(inner * inner)

        return fgrad.grad(outer, argnums=(0, 1))

    def product(w: Any, x: Any) -> Any:
        return fnp.sin(w * x) * w

    @fgrad.custom_jvp
    def custom_product(w: Any, x: Any) -> Any:
        return product(w, x)

    @custom_product.defjvp
    def _custom_product_jvp(primals: Any, tangents: Any) -> Any:
        (w, x), (tw, tx) = primals, tangents
        c = fnp.cos(w * x)
        return product(w, x), (fnp.sin(w * x) + w * x * c) * tw + w * w * c * tx

    expected = mixed(product)(X, Y)
    assert_trees_equal(mixed(fgrad.checkpoint(product))(X, Y), expected)
    assert_trees_close(mixed(custom_product)(X, Y), expected)


def test_checkpoint_with_pytree_outputs_keywords_and_constants() -> None:
    @fgrad.checkpoint
    def stats(x: Any, *, power: int, label: str, dtype: Any = np.float64) -> Any:
        assert label == "ok"
        return {"mean": fnp.mean(x**power), "parts": (fnp.sin(x), (x * 2).astype(dtype))}

    def loss(x: Any, dtype: Any = np.float64) -> Any:
        out = stats(x, power=3, label="ok", dtype=dtype)
        return out["mean"] + fnp.sum(out["parts"][0] * out["parts"][1])

    fgrad.check_grads(loss, (X,), order=2)
    fgrad.check_grads(lambda x: stats(x, power=2, label="ok"), (X,), order=2)
    assert stats(X, power=3, label="ok", dtype=np.float32)["parts"][1].dtype == np.float32
    traced_out, _ = fgrad.vjp(lambda x: stats(x, power=3, label="ok", dtype=np.float32), X)
    assert traced_out["parts"][1].dtype == np.float32
    np.testing.assert_allclose(
        fgrad.grad(loss)(X, np.float32), fgrad.grad(loss)(X), rtol=FLOAT32_RTOL
    )


def test_checkpoint_lowers_peak_memory_of_a_deep_mlp() -> None:
    params, x = make_mlp(24, 128, 128)
    peaks = {}
    for name, step in (("plain", layer), ("checkpoint", fgrad.checkpoint(layer))):
        grad = fgrad.grad(lambda p, x, step=step: mlp(p, x, step))
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            grad(params, x)
            peaks[name] = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert peaks["checkpoint"] < CHECKPOINT_PEAK_RATIO * peaks["plain"], peaks


def test_checkpoint_refuses_a_non_callable_and_names_itself_in_errors() -> None:
    with pytest.raises(TypeError, match=r"^checkpoint expects a function to transform"):
        fgrad.checkpoint(3)  # type: ignore[type-var]
    pair_with_int = fgrad.checkpoint(lambda x: (x, 1))
    with pytest.raises(TypeError, match=re.escape("leaf [1] is dtype int64")):
        fgrad.grad(lambda x: pair_with_int(x)[0])(1.0)
