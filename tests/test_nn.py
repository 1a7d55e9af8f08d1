"""Tests for fgrad.nn: activations, initializers, layers, combinators and training."""

import warnings

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import losses, nn, optim, random
from fgrad._rules import special

X = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4]])
ACTIVATIONS = {
    "sigmoid": nn.sigmoid,
    "relu": nn.relu,
    "softplus": nn.softplus,
    "tanh": nn.tanh,
    "leaky_relu": nn.leaky_relu,
    "logsumexp": lambda x: nn.logsumexp(x, axis=-1),
    "softmax": nn.softmax,
    "log_softmax": nn.log_softmax,
}


@pytest.fixture
def key():
    return random.key(0)


@pytest.fixture
def strict():
    """Every overflow, division by zero or invalid operation is an error (underflow is not)."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------- activations


def test_primitives_are_reexported_unchanged():
    for name in ("sigmoid", "relu", "softplus", "logsumexp", "softmax", "log_softmax"):
        assert getattr(nn, name) is getattr(special, name)
    assert nn.tanh is fnp.tanh


def test_activation_values_match_formulas():
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(nn.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(nn.softplus(x), np.log1p(np.exp(x)), rtol=1e-14)
    np.testing.assert_array_equal(nn.relu(x), np.maximum(x, 0))
    np.testing.assert_array_equal(nn.leaky_relu(x, 0.2), np.where(x >= 0, x, 0.2 * x))
    np.testing.assert_array_equal(nn.leaky_relu(x), np.where(x >= 0, x, 0.01 * x))
    np.testing.assert_allclose(nn.tanh(x), np.tanh(x))
    e = np.exp(X)
    np.testing.assert_allclose(nn.softmax(X), e / e.sum(-1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(nn.logsumexp(X, axis=-1), np.log(e.sum(-1)), rtol=1e-14)
    np.testing.assert_allclose(nn.log_softmax(X), X - np.log(e.sum(-1, keepdims=True)), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients_order_2(name):
    fgrad.check_grads(ACTIVATIONS[name], (X,), order=2)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 2.5])
def test_leaky_relu_values_and_slopes(alpha):
    x = np.array([-2.0, 0.0, 5.0])
    np.testing.assert_array_equal(nn.leaky_relu(x, alpha), [-2.0 * alpha, 0.0, 5.0])
    g = fgrad.grad(lambda x: fnp.sum(nn.leaky_relu(x, alpha)))(x)
    np.testing.assert_array_equal(g, [alpha, (1 + alpha) / 2, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_stable_at_extremes(name, dtype, strict):
    f = ACTIVATIONS[name]
    x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4], [1e4, 1e4, -1e4, 0.0, 2.0]], dtype=dtype)
    out_shape = np.shape(f(x))
    weights = np.arange(np.prod(out_shape), dtype=dtype).reshape(out_shape)

    def scalar(x):
        return fnp.sum(f(x) * weights)

    value = f(x)
    grad = fgrad.grad(scalar)(x)
    second = fgrad.grad(lambda x: fnp.sum(fgrad.grad(scalar)(x) ** 2))(x)
    for out in (value, grad, second):
        assert np.all(np.isfinite(out))
        assert np.asarray(out).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_activation_values(dtype):
    x = np.array([-1e4, 1e4], dtype=dtype)
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(nn.sigmoid(x), [0.0, 1.0], rtol=0, atol=2 * tiny)
    np.testing.assert_allclose(nn.softplus(x), [0.0, 1e4], rtol=0, atol=2 * tiny)
    np.testing.assert_allclose(nn.softmax(x), [0.0, 1.0], rtol=0, atol=2 * tiny)
    np.testing.assert_array_equal(nn.log_softmax(x), [-2e4, 0.0])
    np.testing.assert_allclose(nn.leaky_relu(x), [-100.0, 1e4])


# --------------------------------------------------------------------------- initializers

INITIALIZERS = {
    "normal": nn.normal(),
    "uniform": nn.uniform(),
    "glorot_normal": nn.glorot_normal(),
    "glorot_uniform": nn.glorot_uniform(),
    "he_normal": nn.he_normal(),
    "he_uniform": nn.he_uniform(),
    "lecun_normal": nn.lecun_normal(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_shape_dtype_and_key_determinism(name, dtype, key):
    init = INITIALIZERS[name]
    a = init(key, (5, 3), dtype)
    assert a.shape == (5, 3) and a.dtype == dtype
    np.testing.assert_array_equal(a, init(key, (5, 3), dtype))
    assert not np.array_equal(a, init(random.key(1), (5, 3), dtype))
    assert init(key, (4, 2)).dtype == np.float64


def test_zeros_and_ones(key):
    np.testing.assert_array_equal(nn.zeros(key, (2, 3)), np.zeros((2, 3)))
    assert nn.ones(key, (3,), np.float32).dtype == np.float32
    np.testing.assert_array_equal(nn.ones(key, (3,)), np.ones(3))


@pytest.mark.parametrize(
    ("init", "std"),
    [
        (nn.glorot_normal(), np.sqrt(2 / (200 + 300))),
        (nn.glorot_uniform(), np.sqrt(2 / (200 + 300))),
        (nn.he_normal(), np.sqrt(2 / 200)),
        (nn.he_uniform(), np.sqrt(2 / 200)),
        (nn.lecun_normal(), np.sqrt(1 / 200)),
        (nn.normal(0.3), 0.3),
    ],
)
def test_initializer_scales(init, std, key):
    w = init(key, (200, 300))
    assert abs(w.std() / std - 1) < 0.02
    assert abs(w.mean()) < 0.01 * std * 10


def test_uniform_bounds(key):
    u = nn.uniform(0.5)(key, (10_000,))
    assert u.min() >= 0 and u.max() < 0.5 and abs(u.mean() - 0.25) < 0.01
    limit = np.sqrt(6 / (30 + 50))
    g = nn.glorot_uniform()(key, (30, 50))
    assert np.abs(g).max() <= limit and np.abs(g).max() > 0.95 * limit


def test_fans_of_higher_rank_and_vector_shapes(key):
    w = nn.he_normal()(key, (3, 3, 40, 50))
    assert abs(w.std() / np.sqrt(2 / (9 * 40)) - 1) < 0.05
    v = nn.lecun_normal()(key, (20_000,))
    assert abs(v.std() / np.sqrt(1 / 20_000) - 1) < 0.05
    with pytest.raises(ValueError, match="scalar"):
        nn.glorot_normal()(key, ())


@pytest.mark.parametrize(
    ("factory", "arg", "exc"),
    [
        (nn.normal, -1.0, ValueError),
        (nn.normal, float("nan"), ValueError),
        (nn.uniform, 0.0, ValueError),
        (nn.uniform, "1", TypeError),
    ],
)
def test_initializer_validation(factory, arg, exc):
    with pytest.raises(exc):
        factory(arg)


# --------------------------------------------------------------------------- layers


def test_dense_shapes_formula_and_readonly_params(key):
    init, apply = nn.Dense(4)
    out_shape, params = init(key, (-1, 3))
    W, b = params
    assert out_shape == (-1, 4) and W.shape == (3, 4) and b.shape == (4,)
    np.testing.assert_array_equal(b, 0)
    assert not W.flags.writeable and not b.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        W[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        b += 1.0
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(apply(params, x), x @ W + b)
    assert init(key, (7, 2, 3))[0] == (7, 2, 4)


def test_dense_init_is_deterministic_in_key(key):
    init, _ = nn.Dense(3)
    (_, (W1, _)), (_, (W2, _)) = init(key, (-1, 2)), init(key, (-1, 2))
    np.testing.assert_array_equal(W1, W2)
    assert not np.array_equal(W1, init(random.key(1), (-1, 2))[1][0])


def test_dense_custom_initializers(key):
    _, (W, b) = nn.Dense(2, w_init=nn.ones, b_init=nn.normal(1.0)).init(key, (-1, 3))
    np.testing.assert_array_equal(W, np.ones((3, 2)))
    assert np.all(b != 0)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_dense_rejects_bad_out_dim(bad):
    with pytest.raises(ValueError, match="out_dim"):
        nn.Dense(bad)


@pytest.mark.parametrize("shape", [(-1, -1), (), (-1, 0), "ab"])
def test_dense_rejects_bad_input_shape(shape, key):
    with pytest.raises((ValueError, TypeError)):
        nn.Dense(2).init(key, shape)


@pytest.mark.parametrize(
    ("layer", "fn"),
    [
        (nn.Sigmoid, nn.sigmoid),
        (nn.Tanh, np.tanh),
        (nn.Relu, nn.relu),
        (nn.Softplus, nn.softplus),
        (nn.Identity, lambda x: x),
        (nn.Softmax, lambda x: nn.softmax(x, axis=-1)),
        (nn.LogSoftmax, lambda x: nn.log_softmax(x, axis=-1)),
        (nn.LeakyRelu(0.2), lambda x: nn.leaky_relu(x, 0.2)),
    ],
)
def test_activation_layers(layer, fn, key):
    assert isinstance(layer, nn.Layer)
    out_shape, params = layer.init(key, (-1, 3))
    assert out_shape == (-1, 3) and params == ()
    np.testing.assert_allclose(layer.apply(params, X), fn(X))
    np.testing.assert_allclose(layer.apply(params, X, key=key), fn(X))


def test_softmax_layers_use_last_axis(key):
    out = nn.Softmax.apply((), X)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
    np.testing.assert_allclose(np.exp(nn.LogSoftmax.apply((), X)), out)


def test_flatten(key):
    out_shape, params = nn.Flatten.init(key, (-1, 2, 3, 4))
    assert out_shape == (-1, 24) and params == ()
    assert nn.Flatten.apply(params, np.zeros((5, 2, 3, 4))).shape == (5, 24)
    with pytest.raises(ValueError, match="batch"):
        nn.Flatten.init(key, (-1, -1, 3))


def test_dropout_identity_without_key_and_scaled_mask_with_key(key):
    _, apply = nn.Dropout(0.25)
    x = np.ones((200, 50))
    assert apply((), x) is x
    out = apply((), x, key=key)
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.02
    assert abs(out.mean() - 1.0) < 0.03
    np.testing.assert_array_equal(out, apply((), x, key=key))
    assert not np.array_equal(out, apply((), x, key=random.key(1)))


def test_dropout_gradient_is_the_scaled_mask(key):
    _, apply = nn.Dropout(0.5)
    x = np.arange(1.0, 11.0)
    g = fgrad.grad(lambda x: fnp.sum(apply((), x, key=key)))(x)
    np.testing.assert_array_equal(g, apply((), np.ones(10), key=key))


def test_dropout_keeps_float32(key):
    x = np.ones(8, np.float32)
    assert nn.Dropout(0.5).apply((), x, key=key).dtype == np.float32


@pytest.mark.parametrize(("rate", "exc"), [(1.0, ValueError), (-0.1, ValueError), ("a", TypeError)])
def test_dropout_validates_rate(rate, exc):
    with pytest.raises(exc, match="rate"):
        nn.Dropout(rate)


def test_dropout_rate_zero_is_identity(key):
    x = np.ones(4)
    np.testing.assert_array_equal(nn.Dropout(0.0).apply((), x, key=key), x)


# --------------------------------------------------------------------------- combinators


def test_serial_shapes_and_params(key):
    init, apply = nn.serial(nn.Dense(5), nn.Relu, nn.Dense(3), nn.LogSoftmax)
    out_shape, params = init(key, (-1, 4))
    assert out_shape == (-1, 3)
    assert isinstance(params, tuple) and len(params) == 4
    assert params[1] == () and params[3] == ()
    assert [p.shape for p in fgrad.tree.tree_leaves(params)] == [(4, 5), (5,), (5, 3), (3,)]
    assert all(not p.flags.writeable for p in fgrad.tree.tree_leaves(params))
    out = apply(params, np.ones((6, 4)))
    assert out.shape == (6, 3)
    np.testing.assert_allclose(np.exp(out).sum(-1), 1.0)


def test_serial_gives_each_layer_its_own_key(key):
    init, apply = nn.serial(nn.Dense(3), nn.Dense(3))
    _, ((W1, _), (W2, _)) = init(key, (-1, 3))
    assert not np.array_equal(W1, W2)
    _, drop_twice = nn.serial(nn.Dropout(0.5), nn.Dropout(0.5))
    x = np.ones(1000)
    out = drop_twice(((), ()), x, key=key)
    assert abs((out == 0).mean() - 0.75) < 0.05
    np.testing.assert_array_equal(out, drop_twice(((), ()), x, key=key))
    np.testing.assert_array_equal(drop_twice(((), ()), x), x)


def test_serial_mixes_in_user_layers_with_and_without_key(key):
    def init_scale(key, shape):
        return shape, np.array(3.0)

    def apply_scale(params, x):
        return params * x

    seen = []

    def apply_record(params, x, *, key=None):
        seen.append(key)
        return x

    model = nn.serial(
        (init_scale, apply_scale), nn.Layer(init_scale, apply_record), nn.Dropout(0.5)
    )
    out_shape, params = model.init(key, (-1, 2))
    assert out_shape == (-1, 2)
    assert not params[0].flags.writeable
    out = model.apply(params, np.ones((2, 2)), key=key)
    assert set(np.unique(out)) <= {0.0, 6.0}
    assert seen[-1] is not None
    np.testing.assert_array_equal(model.apply(params, np.ones((1, 2))), [[3.0, 3.0]])
    assert seen[-1] is None


def test_serial_is_differentiable_and_matches_manual_composition(key):
    init, apply = nn.serial(nn.Dense(4), nn.Tanh, nn.Dense(2))
    _, params = init(key, (-1, 3))
    (W1, b1), _, (W2, b2) = params
    np.testing.assert_allclose(apply(params, X), np.tanh(X @ W1 + b1) @ W2 + b2)
    fgrad.check_grads(lambda p: apply(p, X), (params,), order=2)


def test_serial_errors(key):
    with pytest.raises(TypeError, match="forget to call"):
        nn.serial(nn.Dense)
    init, apply = nn.serial(nn.Dense(2), nn.Relu)
    with pytest.raises(ValueError, match="one entry per layer"):
        apply(((np.ones((2, 2)), np.ones(2)),), np.ones((1, 2)))


def test_empty_serial_is_identity(key):
    init, apply = nn.serial()
    assert init(key, (-1, 3)) == ((-1, 3), ())
    np.testing.assert_array_equal(apply((), X), X)


def test_parallel_shapes_and_outputs(key):
    init, apply = nn.parallel(nn.Dense(3), nn.serial(nn.Dense(2), nn.Dropout(0.5)), nn.Identity)
    out_shapes, params = init(key, ((-1, 2), (-1, 4), (-1, 5)))
    assert out_shapes == ((-1, 3), (-1, 2), (-1, 5))
    assert len(params) == 3 and params[2] == ()
    xs = (np.ones((7, 2)), np.ones((7, 4)), np.zeros((7, 5)))
    a, b, c = apply(params, xs)
    assert (a.shape, b.shape, c.shape) == ((7, 3), (7, 2), (7, 5))
    np.testing.assert_allclose(a, xs[0] @ params[0][0] + params[0][1])
    b_train = apply(params, xs, key=key)[1]
    assert np.any(b_train == 0) and not np.array_equal(b_train, b)
    with pytest.raises(ValueError, match="one entry per layer"):
        apply(params, xs[:2])
    with pytest.raises(ValueError, match="one entry per layer"):
        init(key, (-1, 2))


def test_parallel_inside_serial(key):
    sum_layer = nn.Layer(
        lambda key, shapes: (shapes[0], ()), lambda p, xs, *, key=None: xs[0] + xs[1]
    )
    split = nn.Layer(lambda key, s: ((s, s), ()), lambda p, x, *, key=None: (x, 2 * x))
    init, apply = nn.serial(nn.Dense(3), split, nn.parallel(nn.Relu, nn.Tanh), sum_layer)
    out_shape, params = init(key, (-1, 2))
    assert out_shape == (-1, 3)
    h = X[:, :2] @ params[0][0]
    np.testing.assert_allclose(apply(params, X[:, :2]), np.maximum(h, 0) + np.tanh(2 * h))


# --------------------------------------------------------------------------- purity


def test_freeze_copies_and_marks_read_only():
    W = np.zeros(3)
    tree = {"W": W, "b": 1.5, "layers": [np.ones(2), ()]}
    frozen = nn.freeze(tree)
    assert frozen["W"] is not W and W.flags.writeable
    assert all(not leaf.flags.writeable for leaf in fgrad.tree.tree_leaves(frozen))
    W[0] = 5.0
    assert frozen["W"][0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        frozen["layers"][0][:] = 2.0
    assert fgrad.tree.tree_structure(frozen) == fgrad.tree.tree_structure(tree)


def test_gradients_of_frozen_params_are_writable_ordinary_arrays(key):
    init, apply = nn.serial(nn.Dense(2), nn.Relu)
    _, params = init(key, (-1, 3))
    grads = fgrad.grad(lambda p: fnp.sum(apply(p, X) ** 2))(params)
    assert fgrad.tree.tree_structure(grads) == fgrad.tree.tree_structure(params)
    assert all(g.flags.writeable for g in fgrad.tree.tree_leaves(grads))


# --------------------------------------------------------------------------- training


def test_mlp_learns_xor_with_sgd():
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    x = np.repeat(corners, 10, axis=0) + 0.1 * rng.standard_normal((40, 2))
    y = np.repeat([0.0, 1.0, 1.0, 0.0], 10)
    init, apply = nn.serial(nn.Dense(8), nn.Tanh, nn.Dense(1))
    _, params = init(random.key(0), (-1, 2))

    def loss(p):
        return losses.sigmoid_binary_cross_entropy(apply(p, x)[:, 0], y)

    value_and_grad = fgrad.value_and_grad(loss)
    first, _ = value_and_grad(params)
    for _ in range(300):
        value, grads = value_and_grad(params)
        params = optim.sgd_update(params, grads, lr=1.0)
    assert first > 0.6 and value < 0.05
    np.testing.assert_array_equal(apply(params, corners)[:, 0] > 0, [False, True, True, False])
