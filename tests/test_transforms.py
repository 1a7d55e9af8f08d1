"""The transforms: grad, value_and_grad, vjp, jvp, jacobians, Hessians, custom_vjp."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp

RTOL = 1e-12
"""Agreement expected between two exact computations of the same derivative."""


def mlp_loss(params, X, y):
    h = X
    for W, b in params[:-1]:
        h = fnp.tanh(h @ W + b)
    W, b = params[-1]
    return fnp.mean((h @ W + b - y) ** 2)


@pytest.fixture
def mlp():
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((2, 4)), rng.standard_normal(4)),
        (rng.standard_normal((4, 1)), rng.standard_normal(1)),
    ]
    X = rng.standard_normal((8, 2))
    y = rng.standard_normal((8, 1))
    return params, X, y


def test_value_and_grad_of_an_mlp_matches_finite_differences(mlp):
    params, X, y = mlp
    value, grads = fgrad.value_and_grad(mlp_loss)(params, X, y)
    assert value == pytest.approx(float(mlp_loss(params, X, y)), rel=RTOL)
    assert fgrad.tree.tree_structure(grads) == fgrad.tree.tree_structure(params)
    fgrad.check_grads(lambda p: mlp_loss(p, X, y), (params,), order=2)


def test_gradients_have_the_arguments_structure_shapes_and_dtypes():
    Point = collections.namedtuple("Point", ["x", "y"])
    params = {
        "b": np.zeros(2, np.float32),
        "a": [np.ones((2, 3)), Point(np.float64(2.0), np.ones(1, np.float32))],
        "none": None,
    }

    def f(p):
        return fnp.sum(p["b"]) + fnp.sum(p["a"][0]) * p["a"][1].x + fnp.sum(p["a"][1].y)

    grads = fgrad.grad(f)(params)
    assert fgrad.tree.tree_structure(grads) == fgrad.tree.tree_structure(params)
    assert grads["b"].dtype == np.float32 and grads["b"].shape == (2,)
    assert grads["a"][1].y.dtype == np.float32
    assert isinstance(grads["a"][1], Point)
    np.testing.assert_array_equal(grads["a"][0], np.full((2, 3), 2.0))
    assert float(grads["a"][1].x) == 6.0


def test_gradient_arrays_are_writeable_and_do_not_alias_inputs():
    x = np.ones(3)
    g = fgrad.grad(lambda v: fnp.sum(v))(x)
    g[0] = 5.0
    assert x[0] == 1.0


def test_read_only_cotangents_become_writeable_gradient_arrays():
    @fgrad.custom_vjp
    def total(v):
        return np.sum(v)

    def total_fwd(v):
        return np.sum(v), v.shape

    def total_bwd(shape, g):
        return (np.broadcast_to(g, shape),)  # a read-only view, as NumPy returns it

    total.defvjp(total_fwd, total_bwd)
    leaves = [
        fgrad.grad(total)(np.ones(3)),
        fgrad.grad(lambda p: total(p["w"]))({"w": np.ones(3)})["w"],
    ]
    for leaf in leaves:
        assert leaf.flags.writeable and leaf.flags.owndata
        leaf[0] = 5.0
        np.testing.assert_array_equal(leaf, [5.0, 1.0, 1.0])


def test_argnums_tuple_and_negative():
    def f(a, b, c):
        return a * b + c * c

    ga, gc = fgrad.grad(f, argnums=(0, -1))(2.0, 3.0, 4.0)
    assert (float(ga), float(gc)) == (3.0, 8.0)
    (gb,) = fgrad.grad(f, argnums=(1,))(2.0, 3.0, 4.0)
    assert float(gb) == 2.0


def test_has_aux_passes_aux_through_untraced():
    def f(x):
        y = fnp.sin(x)
        return fnp.sum(y), {"y": y, "n": 3}

    (value, aux), g = fgrad.value_and_grad(f, has_aux=True)(np.array([0.1, 0.2]))
    assert type(aux["y"]) is np.ndarray and aux["n"] == 3
    np.testing.assert_allclose(g, np.cos([0.1, 0.2]), rtol=RTOL)
    g2, aux2 = fgrad.grad(f, has_aux=True)(np.array([0.1, 0.2]))
    np.testing.assert_allclose(g2, g, rtol=RTOL)
    assert type(aux2["y"]) is np.ndarray


def test_constants_are_never_traced(mlp):
    params, X, y = mlp
    seen = {}

    def loss(p, X, y):
        seen["X"], seen["y"] = type(X), type(y)
        return mlp_loss(p, X, y)

    fgrad.grad(loss)(params, X, y)
    assert seen == {"X": np.ndarray, "y": np.ndarray}


def test_output_that_ignores_the_input_has_zero_gradient():
    g = fgrad.grad(lambda x: fnp.sum(np.ones(3)))(np.ones(2))
    np.testing.assert_array_equal(g, np.zeros(2))
    g = fgrad.grad(lambda x: fnp.sum(fnp.floor(x)))(np.ones(2))
    np.testing.assert_array_equal(g, np.zeros(2))


def test_python_control_flow_reads_concrete_values():
    def f(x):
        if x > 0:
            return x**2
        return -3 * x

    assert float(fgrad.grad(f)(2.0)) == 4.0
    assert float(fgrad.grad(f)(-2.0)) == -3.0

    def loop(x):
        total = 0.0
        while total < 10:
            total = total + x
        return total

    assert float(fgrad.grad(loop)(3.0)) == 4.0


def test_vjp_pulls_back_several_cotangents_and_pytree_outputs():
    def f(x, y):
        return {"p": x * y, "s": fnp.sum(x)}

    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, pullback = fgrad.vjp(f, x, y)
    np.testing.assert_array_equal(out["p"], [3.0, 8.0])
    gx, gy = pullback({"p": np.array([1.0, 0.0]), "s": np.array(2.0)})
    np.testing.assert_array_equal(gx, [5.0, 2.0])
    np.testing.assert_array_equal(gy, [1.0, 0.0])
    gx, gy = pullback({"p": np.array([0.0, 1.0]), "s": np.array(0.0)})
    np.testing.assert_array_equal(gx, [0.0, 4.0])
    with pytest.raises(ValueError, match="shape"):
        pullback({"p": np.ones(3), "s": np.array(0.0)})
    with pytest.raises(ValueError, match="structure"):
        pullback([np.ones(2)])


def test_jvp_matches_the_vjp_transpose():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 4))

    def f(x):
        return fnp.tanh(A @ x) * fnp.sum(x**2)

    x, t, u = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(3)
    out, jt = fgrad.jvp(f, (x,), (t,))
    _, pullback = fgrad.vjp(f, x)
    (ju,) = pullback(u)
    assert np.dot(u, jt) == pytest.approx(np.dot(ju, t), rel=1e-12)
    with pytest.raises(ValueError, match="shape"):
        fgrad.jvp(f, (x,), (np.ones(3),))


def test_jacobian_jacfwd_and_hessian_agree():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 2))

    def f(x):
        return fnp.sin(A @ x) * x[0]

    x = np.array([0.3, -0.7])
    jr = fgrad.jacobian(f)(x)
    jf = fgrad.jacfwd(f)(x)
    assert jr.shape == (3, 2)
    np.testing.assert_allclose(jr, jf, rtol=RTOL, atol=1e-15)
    expected = np.cos(A @ x)[:, None] * A * x[0]
    expected[:, 0] += np.sin(A @ x)
    np.testing.assert_allclose(jr, expected, rtol=RTOL)

    def scalar(x):
        return fnp.sum(fnp.exp(x) * x[::-1]) + x[0] ** 3

    h = fgrad.hessian(scalar)(x)
    np.testing.assert_allclose(h, fgrad.jacobian(fgrad.grad(scalar))(x), rtol=RTOL)
    np.testing.assert_allclose(h, h.T, rtol=RTOL)
    e = np.exp(x)
    expected_h = np.array([[e[0] * x[1] + 6 * x[0], e[0] + e[1]], [e[0] + e[1], e[1] * x[0]]])
    np.testing.assert_allclose(h, expected_h, rtol=RTOL)


def test_jacobian_of_pytrees_nests_output_over_input_structure():
    def f(p):
        return {"u": p["a"] * 2.0, "v": fnp.sum(p["b"])}

    p = {"a": np.ones(2), "b": np.ones(3)}
    jac = fgrad.jacobian(f)(p)
    assert jac["u"]["a"].shape == (2, 2) and jac["u"]["b"].shape == (2, 3)
    assert jac["v"]["b"].shape == (3,)
    np.testing.assert_array_equal(jac["u"]["a"], 2 * np.eye(2))
    np.testing.assert_array_equal(jac["v"]["b"], np.ones(3))
    jf = fgrad.jacfwd(f)(p)
    np.testing.assert_array_equal(jf["u"]["a"], jac["u"]["a"])


def test_higher_order_derivatives_of_sin():
    d = fnp.sin
    expected = [np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin]
    for k in range(5):
        assert float(d(0.7)) == pytest.approx(expected[k](0.7), rel=1e-12)
        d = fgrad.grad(d)


def test_perturbation_confusion_is_avoided():
    def outer(x):
        inner = fgrad.grad(lambda y: x + y)(1.0)
        return x * inner

    assert float(fgrad.grad(outer)(3.0)) == 1.0

    def outer2(x):
        return fgrad.grad(lambda y: x * y)(2.0)

    assert float(fgrad.grad(outer2)(5.0)) == 1.0


def test_hessian_vector_product_forward_over_reverse_and_reverse_over_reverse(mlp):
    params, X, y = mlp
    flat = np.concatenate([np.ravel(a) for pair in params for a in pair])
    shapes = [a.shape for pair in params for a in pair]

    def unflatten(v):
        out, i = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(fnp.reshape(v[i : i + n], s))
            i += n
        return [(out[0], out[1]), (out[2], out[3])]

    def loss(v):
        return mlp_loss(unflatten(v), X, y)

    v = np.random.default_rng(3).standard_normal(flat.size)
    hvp_rr = fgrad.grad(lambda w: fnp.vdot(fgrad.grad(loss)(w), v))(flat)
    _, hvp_fr = fgrad.jvp(fgrad.grad(loss), (flat,), (v,))
    h = fgrad.hessian(loss)(flat)
    np.testing.assert_allclose(hvp_rr, h @ v, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hvp_fr, h @ v, rtol=1e-10, atol=1e-13)


def test_stop_gradient_blocks_every_level():
    def f(x):
        return x * fgrad.stop_gradient(x * x)

    assert float(fgrad.grad(f)(3.0)) == 9.0
    assert float(fgrad.grad(fgrad.grad(f))(3.0)) == 0.0
    tree = fgrad.stop_gradient({"a": 1.0, "b": [np.ones(2)]})
    assert tree["a"] == 1.0


def test_custom_vjp_replaces_the_rule_and_validates_its_output():
    @fgrad.custom_vjp
    def safe_log(x):
        return fnp.log(x)

    def fwd(x):
        return fnp.log(x), x

    def bwd(x, g):
        return (g / fnp.maximum(x, 1e-3),)

    safe_log.defvjp(fwd, bwd)
    assert float(fgrad.grad(safe_log)(2.0)) == 0.5
    assert float(fgrad.grad(safe_log)(1e-6)) == pytest.approx(1e3)
    assert safe_log(np.e) == pytest.approx(1.0)
    np.testing.assert_allclose(fgrad.grad(fgrad.grad(safe_log))(2.0), -0.25, rtol=RTOL)

    @fgrad.custom_vjp
    def two_args(x, y):
        return x * y

    two_args.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match="one cotangent per positional argument"):
        fgrad.grad(two_args)(1.0, 2.0)

    @fgrad.custom_vjp
    def undefined(x):
        return x

    with pytest.raises(TypeError, match="defvjp"):
        fgrad.grad(undefined)(1.0)


def test_custom_vjp_with_pytree_argument_and_none_cotangent():
    @fgrad.custom_vjp
    def scale(p, k):
        return p["w"] * k

    scale.defvjp(lambda p, k: (p["w"] * k, k), lambda k, g: ({"w": g * k}, None))
    g = fgrad.grad(lambda p: fnp.sum(scale(p, 3.0)))({"w": np.ones(2)})
    np.testing.assert_array_equal(g["w"], [3.0, 3.0])


def test_where_with_a_non_boolean_condition_tests_truth():
    g = fgrad.grad(lambda x: fnp.sum(fnp.where(np.array([2, 0, 1]), x, 0.0)))(np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])
    g = fgrad.grad(lambda x: fnp.sum(fnp.where(np.array([0.5, 0.0, -1.0]), x, 0.0)))(np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])


def test_out_of_range_axes_raise_like_numpy():
    with pytest.raises(np.exceptions.AxisError):
        fgrad.grad(lambda a: fnp.sum(fnp.moveaxis(a, 0, 5)))(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError):
        fgrad.grad(lambda a: fnp.sum(fnp.linalg.norm(a, axis=3)))(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError):
        fgrad.grad(lambda a: fnp.sum(a.transpose(2, 1)))(np.ones((2, 3)))


def test_repeated_argnums_are_refused():
    with pytest.raises(ValueError, match="same argument twice"):
        fgrad.grad(lambda a, b: fnp.sum(a * b), argnums=(0, 0))(np.ones(2), np.ones(2))


@pytest.mark.parametrize("transform", [fgrad.jacobian, fgrad.jacfwd])
@pytest.mark.parametrize(("in_size", "out_shape"), [(0, (2,)), (3, (0,)), (0, (0,))])
def test_jacobian_layout_with_empty_axes(transform, in_size, out_shape):
    """Output axes come first, input axes last, also when either side is empty."""

    def fun(x):
        return fnp.zeros(out_shape) + fnp.sum(x**2)

    jac = transform(fun)(np.ones(in_size))
    assert jac.shape == (*out_shape, in_size)
