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


# --------------------------------------------------------------------------- stax layers


def _direct_conv_nhwc(x, W, b):
    """'SAME' 3x3 convolution by a loop over taps: the reference for nn.Conv."""
    kh, kw = W.shape[:2]
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros((*x.shape[:3], W.shape[-1]))
    for i in range(kh):
        for j in range(kw):
            out += padded[:, i : i + x.shape[1], j : j + x.shape[2], :] @ W[i, j]
    return out + b


def test_conv_layer_shapes_init_and_values(key):
    init, apply = nn.Conv(4, (3, 3), padding="SAME")
    out_shape, (W, b) = init(key, (-1, 5, 6, 2))
    assert out_shape == (-1, 5, 6, 4)
    assert W.shape == (3, 3, 2, 4) and b.shape == (1, 1, 1, 4)
    # glorot over HWIO: fan_in = 2 * 9, fan_out = 4 * 9
    assert abs(W.std() ** 2 * (18 + 36) / 2 - 1) < 0.6
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 2))
    np.testing.assert_allclose(apply((W, b), x), _direct_conv_nhwc(x, W, b), rtol=1e-12)
    assert nn.Conv(3, (2, 2), strides=(2, 1)).init(key, (-1, 5, 6, 2))[0] == (-1, 2, 5, 3)
    assert nn.Conv1D(3, (3,), padding="SAME").init(key, (8, 10, 2))[0] == (8, 10, 3)


def test_general_conv_with_nchw_layout_and_explicit_init(key):
    init, apply = nn.GeneralConv(("NCHW", "OIHW", "NCHW"), 3, (2, 2), W_init=nn.ones)
    out_shape, (W, b) = init(key, (-1, 2, 4, 4))
    assert out_shape == (-1, 3, 3, 3) and W.shape == (3, 2, 2, 2) and b.shape == (1, 3, 1, 1)
    out = apply((W, np.zeros_like(b)), np.ones((1, 2, 4, 4)))
    np.testing.assert_array_equal(out, np.full((1, 3, 3, 3), 8.0))


def test_conv_layer_errors(key):
    with pytest.raises(ValueError, match="filter_shape must be a non-empty tuple of positive"):
        nn.Conv(4, (0, 3))
    with pytest.raises(ValueError, match="number of input features must be known"):
        nn.Conv(4, (3, 3)).init(key, (-1, 5, 5, -1))
    with pytest.raises(ValueError, match="does not match the input layout 'NHWC'"):
        nn.Conv(4, (3, 3)).init(key, (-1, 5, 5))


@pytest.mark.parametrize(
    ("layer", "reduce"),
    [(nn.MaxPool, np.max), (nn.SumPool, np.sum), (nn.AvgPool, np.mean)],
)
def test_pooling_layers_match_numpy_on_blocks(layer, reduce, key):
    x = np.random.default_rng(1).normal(size=(2, 4, 6, 3))
    init, apply = layer((2, 3))
    assert init(key, (-1, 4, 6, 3))[0] == (-1, 2, 2, 3)
    blocks = x.reshape(2, 2, 2, 2, 3, 3)
    np.testing.assert_allclose(apply((), x), reduce(blocks, axis=(2, 4)), rtol=1e-14)


def test_avg_pool_divides_by_the_entries_covered_not_the_padding(key):
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = nn.AvgPool((2, 2), strides=(2, 2), padding="SAME").apply((), x)[0, :, :, 0]
    np.testing.assert_allclose(out, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]])


def test_pooling_with_spec_puts_the_window_on_the_spatial_axes(key):
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 4))  # NCHW
    out = nn.MaxPool((2, 2), spec="NCHW").apply((), x)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5)))


def test_global_avg_pool(key):
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 5))
    assert nn.GlobalAvgPool.init(key, (-1, 3, 4, 5))[0] == (-1, 5)
    np.testing.assert_allclose(nn.GlobalAvgPool.apply((), x), x.mean(axis=(1, 2)))


def test_batch_norm_uses_batch_statistics_and_is_differentiable(key):
    x = np.random.default_rng(4).normal(2.0, 3.0, size=(8, 3, 3, 2))
    init, apply = nn.BatchNorm(beta_init=nn.ones)
    shape, (beta, gamma) = init(key, (-1, 3, 3, 2))
    assert shape == (-1, 3, 3, 2) and beta.shape == gamma.shape == (2,)
    y = apply((beta, gamma), x)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1 / (1 + 1e-5 / x.var(axis=(0, 1, 2))))
    fgrad.check_grads(lambda p, x: apply(p, x), ((beta, gamma), x[:2, :2, :2]), order=2)


def test_running_batch_norm_updates_state_in_training_and_uses_it_in_evaluation(key):
    x = np.random.default_rng(5).normal(size=(16, 3))
    init, apply = nn.RunningBatchNorm(axis=0, momentum=0.9)
    _, params, state = init(key, (-1, 3))
    y, new_state = apply(params, state, x, training=True)
    np.testing.assert_allclose(new_state["mean"], 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(new_state["var"], 0.9 + 0.1 * x.var(0), rtol=1e-12)
    np.testing.assert_allclose(y, nn.BatchNorm(axis=0).apply(params, x), rtol=1e-12)
    y_eval, same = apply(params, new_state, x, training=False)
    assert same is new_state
    expected = (x - new_state["mean"]) / np.sqrt(new_state["var"] + 1e-5)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-12)

    def loss(p):
        out, st = apply(p, state, x, training=True)
        return fnp.sum(out * x), st

    grads, aux_state = fgrad.grad(loss, has_aux=True)(params)
    assert not isinstance(aux_state["mean"], fgrad.Tracer)
    np.testing.assert_allclose(aux_state["mean"], new_state["mean"])


def test_layer_norm_normalises_each_example(key):
    x = np.random.default_rng(6).normal(size=(4, 5))
    init, apply = nn.LayerNorm()
    _, params = init(key, (-1, 5))
    y = apply(params, x)
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1 / (1 + 1e-5 / x.var(-1)), rtol=1e-12)
    fgrad.check_grads(lambda p, x: apply(p, x), (params, x), order=2)


def test_embedding_gradient_accumulates_repeated_ids(key):
    init, apply = nn.Embedding(4, 2)
    shape, table = init(key, (-1, 3))
    assert shape == (-1, 3, 2) and table.shape == (4, 2)
    ids = np.array([[1, 1, 3]])
    np.testing.assert_array_equal(apply(table, ids)[0], table[[1, 1, 3]])
    grad = fgrad.grad(lambda t: fnp.sum(apply(t, ids)))(table)
    np.testing.assert_array_equal(grad, [[0, 0], [2, 2], [0, 0], [1, 1]])
    with pytest.raises(TypeError, match="ids must be integers"):
        apply(table, np.array([[0.0]]))


def test_fan_out_fan_in_sum_and_concat_make_a_residual_block(key):
    block = nn.serial(
        nn.FanOut(2), nn.parallel(nn.serial(nn.Dense(3), nn.Relu), nn.Identity), nn.FanInSum
    )
    shape, params = block.init(key, (-1, 3))
    assert shape == (-1, 3)
    W, b = params[1][0][0]
    np.testing.assert_allclose(block.apply(params, X), np.maximum(X @ W + b, 0) + X)
    with pytest.raises(ValueError, match="FanInSum: the inputs' shapes differ"):
        nn.FanInSum.init(key, ((-1, 3), (-1, 4)))
    concat = nn.FanInConcat(axis=0)
    assert concat.init(key, ((2, 3), (4, 3)))[0] == (6, 3)
    with pytest.raises(ValueError, match="differ off axis 0"):
        concat.init(key, ((2, 3), (4, 2)))


def test_new_activations_match_formulas_and_have_gradients():
    x = np.array([-3.0, -0.4, 0.3, 2.5])
    np.testing.assert_allclose(nn.elu(x), np.where(x > 0, x, np.expm1(x)), rtol=1e-14)
    np.testing.assert_allclose(nn.selu(x), 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)), rtol=1e-14)  # fmt: skip
    np.testing.assert_allclose(nn.silu(x), x / (1 + np.exp(-x)), rtol=1e-14)
    assert nn.swish is nn.silu
    np.testing.assert_allclose(nn.log_sigmoid(x), -np.log1p(np.exp(-x)), rtol=1e-14)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nn.gelu(x), tanh_form, rtol=1e-14)
    for fn in (nn.elu, nn.selu, nn.silu, nn.log_sigmoid, nn.gelu):
        fgrad.check_grads(fn, (x,), order=2)
    for layer, fn in ((nn.Elu, nn.elu), (nn.Gelu, nn.gelu), (nn.LogSigmoid, nn.log_sigmoid)):
        np.testing.assert_array_equal(layer.apply((), x), fn(x))


def test_exact_gelu_uses_erf():
    pytest.importorskip("scipy")
    from scipy.special import erf

    x = np.array([-1.5, 0.2, 2.0])
    np.testing.assert_allclose(
        nn.gelu(x, approximate=False), 0.5 * x * (1 + erf(x / np.sqrt(2))), rtol=1e-14
    )


def test_elu_has_no_nan_gradient_for_large_inputs():
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(
            fgrad.grad(lambda x: fnp.sum(nn.elu(x)))(np.array([800.0])), [1.0]
        )


def test_one_hot_matches_jax_semantics_and_replays_under_jit():
    labels = np.array([[0, 2], [3, -1]])
    out = nn.one_hot(labels, 3)
    np.testing.assert_array_equal(out, [[[1, 0, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]])
    assert out.dtype == np.float64 and nn.one_hot(labels, 3, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(nn.one_hot(np.array([1, 0]), 2, axis=0), [[0, 1], [1, 0]])
    jitted = fgrad.jit(lambda y: nn.one_hot(y, 3))
    jitted(np.array([0, 1]))
    np.testing.assert_array_equal(jitted(np.array([2, 2])), [[0, 0, 1], [0, 0, 1]])
    with pytest.raises(TypeError, match="labels must be integers"):
        nn.one_hot(np.array([0.5]), 2)


def test_apply_accepts_rng_as_stax_spells_it(key):
    init, apply = nn.serial(nn.Dense(4), nn.Dropout(0.5), nn.Dense(2))
    _, params = init(key, (-1, 3))
    x = np.ones((5, 3))
    np.testing.assert_array_equal(
        apply(params, x, rng=random.key(7)), apply(params, x, key=random.key(7))
    )
    assert not np.array_equal(apply(params, x, rng=random.key(7)), apply(params, x))
    with pytest.raises(TypeError, match="as key= or as rng=, not both"):
        apply(params, x, key=random.key(1), rng=random.key(1))


def test_stax_style_user_layers_receive_rng(key):
    seen = []

    def stax_apply(params, inputs, **kwargs):
        seen.append(kwargs.get("rng"))
        return inputs

    model = nn.serial(nn.Dense(2), (lambda rng, shape: (shape, ()), stax_apply))
    _, params = model.init(key, (-1, 2))
    model.apply(params, np.ones((1, 2)), rng=random.key(3))
    assert seen[-1] is not None
    model.apply(params, np.ones((1, 2)))
    assert seen[-1] is None


def test_dense_takes_stax_W_init_and_refuses_both_spellings(key):
    _, (W, _) = nn.Dense(3, W_init=nn.ones).init(key, (-1, 2))
    np.testing.assert_array_equal(W, np.ones((2, 3)))
    _, (W, _) = nn.Dense(3, w_init=nn.zeros).init(key, (-1, 2))
    np.testing.assert_array_equal(W, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="W_init or w_init, not both"):
        nn.Dense(3, W_init=nn.ones, w_init=nn.zeros)


def test_dropout_docstring_says_rate_is_the_drop_probability():
    assert "DROPPING" in nn.Dropout.__doc__ and "KEEPING" in nn.Dropout.__doc__


def test_variance_scaling_axes_and_distributions(key):
    shape = (3, 3, 40, 60)  # HWIO
    fan_in, fan_out = 9 * 40, 9 * 60
    for mode, fan in (
        ("fan_in", fan_in),
        ("fan_out", fan_out),
        ("fan_avg", (fan_in + fan_out) / 2),
    ):
        w = nn.variance_scaling(2.0, mode, "normal")(key, shape)
        assert abs(w.var() * fan / 2 - 1) < 0.05, mode
    w = nn.variance_scaling(1.0, "fan_in", "truncated_normal")(key, shape)
    assert np.abs(w).max() <= 2 / 0.87962566103423978 / np.sqrt(fan_in) + 1e-12
    assert abs(w.var() * fan_in - 1) < 0.05
    w = nn.variance_scaling(1.0, "fan_in", "uniform")(key, shape)
    assert np.abs(w).max() < np.sqrt(3 / fan_in)
    # OIHW: the in axis is 1, the out axis 0
    w = nn.glorot_normal(in_axis=1, out_axis=0)(key, (60, 40, 3, 3))
    assert abs(w.var() * (fan_in + fan_out) / 2 - 1) < 0.05
    with pytest.raises(ValueError, match="in_axis=5 is not an axis of a 2-d shape"):
        nn.he_normal(in_axis=5)(key, (2, 3))
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.variance_scaling(1.0, "fan_sum", "normal")


def test_orthogonal_initializer(key):
    w = nn.orthogonal(2.0)(key, (3, 5))
    np.testing.assert_allclose(w @ w.T, 4.0 * np.eye(3), atol=1e-12)
    w = nn.orthogonal(column_axis=0)(key, (4, 2, 3))
    flat = np.moveaxis(w, 0, -1).reshape(6, 4)
    np.testing.assert_allclose(flat.T @ flat, np.eye(4), atol=1e-12)
    assert nn.lecun_uniform()(key, (5, 5)).shape == (5, 5)


def test_cnn_learns_a_toy_task_with_jit_and_vmap_per_example_grads(key):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 1))
    y = (x[:, :3].sum(axis=(1, 2, 3)) > x[:, 3:].sum(axis=(1, 2, 3))).astype(int)
    model = nn.serial(nn.Conv(4, (3, 3), padding="SAME"), nn.Relu, nn.MaxPool((2, 2)),
                      nn.Flatten, nn.Dense(2))  # fmt: skip
    _, params = model.init(key, (-1, 6, 6, 1))

    def loss(p, x, y):
        return losses.softmax_cross_entropy(model.apply(p, x), y)

    opt = optim.adam(0.05)
    state = opt.init(params)

    @fgrad.jit
    def step(p, s, x, y):
        value, g = fgrad.value_and_grad(loss)(p, x, y)
        updates, s = opt.update(g, s, p)
        return optim.apply_updates(p, updates), s, value

    first = None
    for _ in range(40):
        params, state, value = step(params, state, x, y)
        first = float(value) if first is None else first
    assert float(value) < 0.3 * first
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        targets = nn.one_hot(y[:4], 2)  # probabilities: no gather at traced labels
        per_example = fgrad.vmap(
            fgrad.grad(lambda p, x, t: loss(p, x[None], t[None])), in_axes=(None, 0, 0)
        )(params, x[:4], targets)
    for k in range(4):
        one = fgrad.grad(loss)(params, x[k : k + 1], y[k : k + 1])
        for a, b in zip(fgrad.tree.tree_leaves(per_example), fgrad.tree.tree_leaves(one)):
            np.testing.assert_allclose(a[k], b, rtol=1e-10, atol=1e-12)
