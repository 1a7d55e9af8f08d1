"""fgrad.jit on real training loops: dynamic Python numbers, static arguments, PRNG keys.

Every loop is run twice, eagerly and jitted, and must agree bit for bit (values, dtypes,
container types) while tracing no more than once per distinct shape or static value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import nn, optim, random
from fgrad.tree import tree_flatten, tree_leaves


def assert_identical(eager, jitted):
    """Same pytree, and each leaf of the same type, dtype, shape and bits."""
    eager_leaves, eager_tree = tree_flatten(eager)
    jit_leaves, jit_tree = tree_flatten(jitted)
    assert eager_tree == jit_tree
    for e, j in zip(eager_leaves, jit_leaves):
        assert type(e) is type(j), (type(e), type(j))
        assert np.asarray(e).dtype == np.asarray(j).dtype
        np.testing.assert_array_equal(e, j, strict=True)


def mlp(hidden=8):
    return nn.serial(nn.Dense(hidden), nn.Tanh, nn.Dense(1))


def data(n=32, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)).astype(dtype), rng.standard_normal(n).astype(dtype)


def mse(apply):
    def loss(params, x, y, key=None):
        return fnp.mean((apply(params, x, key=key)[:, 0] - y) ** 2)

    return loss


def run_both(step, args_per_call, state):
    """Feed ``state`` through ``step`` eagerly and jitted; return the Jitted."""
    jitted = fgrad.jit(step)
    eager_state = jit_state = state
    for args in args_per_call:
        eager_out = step(eager_state, *args)
        jit_out = jitted(jit_state, *args)
        assert_identical(eager_out, jit_out)
        eager_state, jit_state = eager_out[0], jit_out[0]
    return jitted


def test_an_adam_step_replays():
    init, apply = mlp()
    _, params = init(random.key(0), (-1, 3))
    opt = optim.adam(1e-2)
    loss = mse(apply)
    x, y = data()

    def step(carry, x, y):
        params, state = carry
        value, grads = fgrad.value_and_grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return (optim.apply_updates(params, updates), state), value

    jitted = run_both(step, [(x, y)] * 6, (params, opt.init(params)))
    assert (jitted.stats.traces, jitted.stats.replays, jitted.stats.guard_failures) == (1, 5, 0)


def test_a_dropout_step_with_a_fresh_key_per_call_replays():
    init, apply = nn.serial(nn.Dense(16), nn.Relu, nn.Dropout(0.3), nn.Dense(1))
    _, params = init(random.key(0), (-1, 3))
    loss = mse(apply)
    x, y = data()

    def step(params, x, y, key):
        grads = fgrad.grad(loss)(params, x, y, key)
        return optim.sgd_update(params, grads, 0.05), loss(params, x, y, key)

    keys = random.split(random.key(1), 8)
    jitted = run_both(step, [(x, y, k) for k in keys], params)
    stats = jitted.stats
    assert (stats.traces, stats.replays, stats.guard_failures, stats.eager_calls) == (1, 7, 0, 0)


@pytest.mark.parametrize("as_array", [False, True], ids=["python-float", "0d-array"])
def test_a_learning_rate_schedule_replays(as_array):
    init, apply = mlp()
    _, params = init(
        random.key(0),
        (-1, 3),
    )
    params = fgrad.tree.tree_map(lambda p: p.astype(np.float32), params)
    loss = mse(apply)
    x, y = data(dtype=np.float32)

    def step(params, x, y, lr):
        return optim.sgd_update(params, fgrad.grad(loss)(params, x, y), lr), lr * 2

    rates = [0.1 / (1 + 0.5 * t) for t in range(20)]
    if as_array:
        rates = [np.array(r) for r in rates]
    jitted = run_both(step, [(x, y, lr) for lr in rates], params)
    assert (jitted.stats.traces, jitted.stats.replays) == (1, 19)
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(jitted(params, x, y, rates[3])[0]))


def test_a_python_float_keeps_float32_as_in_eager_code():
    def scale(x, lr, t):
        c = 1 - 0.9**t
        return x * lr / c, -lr, lr * 2, c, fnp.sqrt(lr)

    jitted = fgrad.jit(scale)
    x = np.arange(3, dtype=np.float32)
    for lr, t in [(0.1, 1), (0.03, 2), (1e-3, 7)]:
        out = jitted(x, lr, t)
        assert_identical(scale(x, lr, t), out)
        assert out[0].dtype == np.float32 and type(out[1]) is float and type(out[3]) is float
    assert jitted.stats.traces == 1


def test_a_smaller_last_batch_traces_once_more():
    init, apply = mlp()
    _, params = init(random.key(0), (-1, 3))
    loss = mse(apply)
    x, y = data(n=40)

    def step(params, x, y):
        return optim.sgd_update(params, fgrad.grad(loss)(params, x, y), 0.1), loss(params, x, y)

    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 40, 16)] * 2
    jitted = run_both(step, batches, params)
    assert (jitted.stats.traces, jitted.stats.replays) == (2, 4)


def test_a_static_argnames_flag_traces_once_per_value():
    init, apply = nn.serial(nn.Dense(16), nn.Relu, nn.Dropout(0.5), nn.Dense(1))
    _, params = init(random.key(0), (-1, 3))
    loss = mse(apply)
    x, y = data()

    def step(params, x, y, key, *, training):
        k = key if training else None
        return optim.sgd_update(params, fgrad.grad(loss)(params, x, y, k), 0.1), loss(
            params, x, y, k
        )

    jitted = fgrad.jit(step, static_argnames="training")
    eager_params = jit_params = params
    for i, k in enumerate(random.split(random.key(2), 6)):
        training = i % 3 != 2
        eager_out = step(eager_params, x, y, k, training=training)
        jit_out = jitted(jit_params, x, y, k, training=training)
        assert_identical(eager_out, jit_out)
        eager_params, jit_params = eager_out[0], jit_out[0]
    assert (jitted.stats.traces, jitted.stats.replays) == (2, 4)


def test_an_integer_step_counter_replays():
    init, apply = nn.serial(nn.Dense(8), nn.Relu, nn.Dropout(0.2), nn.Dense(1))
    _, params = init(random.key(0), (-1, 3))
    params = fgrad.tree.tree_map(lambda p: p.astype(np.float32), params)
    loss = mse(apply)
    x, y = data(dtype=np.float32)
    base = random.key(3)

    def step(params, x, y, t):
        key = random.fold_in(base, t)
        grads = fgrad.grad(loss)(params, x, y, key)
        lr = 0.1 * (1 - 0.9**t) / (1 + t // 4)
        return optim.sgd_update(params, grads, lr), t + 1

    jitted = run_both(step, [(x, y, t) for t in range(1, 12)], params)
    assert (jitted.stats.traces, jitted.stats.replays, jitted.stats.guard_failures) == (1, 10, 0)


def test_every_random_function_of_a_traced_key_replays_with_eager_bits():
    def draw(key, seed, data):
        k1, k2 = random.split(key)
        return (
            random.normal(k1, (2, 3), np.float32),
            random.uniform(k2, (4,), minval=-1.0, maxval=2.0),
            random.bernoulli(random.fold_in(key, data), 0.3, (5,)),
            random.split(key, 3),
            random.permutation(k1, 6),
            random.permutation(k2, np.arange(8.0).reshape(4, 2)),
            random.choice(k1, 10, (3,), replace=False),
            random.choice(k2, np.arange(5.0), (2,), p=np.array([0.1, 0.2, 0.3, 0.2, 0.2])),
            random.key(seed),
        )

    jitted = fgrad.jit(draw)
    for i in range(4):
        assert_identical(draw(random.key(i), i, 7 * i), jitted(random.key(i), i, 7 * i))
    assert (jitted.stats.traces, jitted.stats.replays) == (1, 3)


def test_random_functions_inside_grad_inside_jit_use_each_calls_key():
    def loss(w, key):
        return fnp.sum(w * random.normal(key, w.shape))

    jitted = fgrad.jit(fgrad.grad(loss))
    w = np.ones(3)
    for i in range(3):
        np.testing.assert_array_equal(jitted(w, random.key(i)), random.normal(random.key(i), 3))
    assert jitted.stats.traces == 1


def test_a_changing_value_read_by_python_warns_once_naming_its_line():
    def step(x, lr):
        scale = float(lr)  # the line the warning names
        return x * scale

    jitted = fgrad.jit(step)
    with pytest.warns(fgrad.JitRetraceWarning) as caught:
        for i in range(12):
            jitted(np.ones(2), 0.1 * (i + 1))
    assert len(caught) == 1
    message = str(caught[0].message)
    line = step.__code__.co_firstlineno + 1
    assert f"jit({step.__qualname__})" in message
    assert f"test_jit_training.py:{line}" in message


def test_changing_shapes_warn_naming_the_argument():
    jitted = fgrad.jit(lambda w, batch: fnp.sum(batch @ w))
    with pytest.warns(fgrad.JitRetraceWarning, match=r"argument 1 \('batch'\)") as caught:
        for n in range(1, 8):
            jitted(np.ones(2), np.ones((n, 2)))
    assert len(caught) == 1
    assert "(4x, last: float64 array of shape (4, 2), then float64 array of shape (5, 2))" in str(
        caught[0].message
    )
    assert caught[0].filename == __file__


def test_a_changing_static_argument_warns_naming_it():
    jitted = fgrad.jit(lambda x, n: x * n, static_argnums=1)
    with pytest.warns(fgrad.JitRetraceWarning, match=r"static argument 1 \('n'\)"):
        for n in range(8):
            jitted(np.ones(2), n)


def test_a_replaying_function_does_not_warn():
    jitted = fgrad.jit(lambda x, lr: x - lr * fnp.tanh(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.JitRetraceWarning)
        for i in range(20):
            jitted(np.ones(3) * i, 0.1 / (i + 1))
    assert jitted.stats.traces == 1


def test_debug_print_prints_on_every_replay(capsys):
    def f(x, lr):
        print("traced")
        fgrad.debug_print("x={} lr={lr} sum={s:.2f}", x, lr=lr, s=fnp.sum(x))
        return x * 2

    jitted = fgrad.jit(f)
    jitted(np.array([1.0, 2.0]), 0.5)
    jitted(np.array([3.0, 4.0]), 0.25)
    assert capsys.readouterr().out.splitlines() == [
        "traced",
        "x=[1. 2.] lr=0.5 sum=3.00",
        "x=[3. 4.] lr=0.25 sum=7.00",
    ]
    assert jitted.stats.replays == 1
    fgrad.debug_print("eager {}", np.arange(2))
    fgrad.grad(lambda x: (fgrad.debug_print("in grad {}", x), fnp.sum(x))[1])(np.ones(1))
    assert capsys.readouterr().out.splitlines() == ["eager [0 1]", "in grad [1.]"]


def test_an_unhashable_static_argument_is_named():
    jitted = fgrad.jit(lambda x, sizes: x, static_argnums=1)
    with pytest.raises(
        TypeError, match=r"static argument 1 \('sizes'\) is a list, which is not hashable"
    ):
        jitted(np.ones(1), [1, 2])
    by_name = fgrad.jit(lambda x, sizes: x, static_argnames="sizes")
    with pytest.raises(TypeError, match=r"static argument 'sizes' is a list"):
        by_name(np.ones(1), sizes=[1, 2])
    with pytest.raises(TypeError, match=r"static argument 1 \('sizes'\) is a list"):
        by_name(np.ones(1), [1, 2])
    with pytest.raises(TypeError, match="static_argnums must be ints"):
        fgrad.jit(lambda x: x, static_argnums="x")


def test_static_arguments_by_number_and_by_name_share_the_cache():
    calls = []

    def f(x, n):
        calls.append(n)
        return x * n

    jitted = fgrad.jit(f, static_argnums=1)
    assert_identical(f(np.ones(2), 3), jitted(np.ones(2), 3))
    assert_identical(f(np.ones(2), 3), jitted(np.ones(2), n=3))
    assert_identical(f(np.ones(2), 4), jitted(np.ones(2), 4))
    assert jitted.stats.traces == 3
    assert jitted(np.ones(2), n=3).tolist() == [3.0, 3.0] and jitted.stats.replays == 1


def test_bools_and_strings_stay_static():
    jitted = fgrad.jit(lambda x, flag, mode: x * 2 if flag and mode == "a" else x)
    assert jitted(np.ones(1), True, "a").tolist() == [2.0]
    assert jitted(np.ones(1), False, "a").tolist() == [1.0]
    assert jitted(np.ones(1), True, "b").tolist() == [1.0]
    assert (jitted.stats.traces, jitted.stats.guard_failures) == (3, 0)


def test_sgd_update_takes_an_array_learning_rate_eagerly():
    params = {"w": np.ones(2, np.float32)}
    grads = {"w": np.full(2, 0.5, np.float32)}
    expected = optim.sgd_update(params, grads, 0.1)
    assert_identical(expected, optim.sgd_update(params, grads, np.array(0.1)))
    assert_identical(expected, optim.sgd_update(params, grads, np.float64(0.1)))
    with pytest.raises(TypeError, match="lr must be a real number"):
        optim.sgd_update(params, grads, np.array([0.1]))
    with pytest.raises(ValueError, match="lr must be finite"):
        optim.sgd_update(params, grads, np.array(np.nan))


def test_adam_takes_a_traced_learning_rate():
    params = np.ones(3, np.float32)

    def step(params, lr):
        opt = optim.adam(lr)
        updates, _ = opt.update(params * 0.5, opt.init(params))
        return optim.apply_updates(params, updates)

    jitted = fgrad.jit(step)
    for lr in (0.1, np.array(0.05), np.float32(0.2)):
        assert_identical(step(params, lr), jitted(params, lr))
