"""Tests for fgrad.optim: hand-computed steps, purity, schedules, validation, convergence."""

import math

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import optim
from fgrad.tree import tree_leaves, tree_map


def copy_tree(tree):
    return tree_map(np.array, tree)


def assert_tree_equal(a, b):
    assert fgrad.tree.tree_structure(a) == fgrad.tree.tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_array_equal(x, y)


def run(opt, grads_sequence, params=None):
    state = opt.init(grads_sequence[0] if params is None else params)
    out = []
    for g in grads_sequence:
        updates, state = opt.update(g, state, params)
        out.append(updates)
    return out, state


# --------------------------------------------------------------------------- sgd_update


def test_sgd_update_values_and_purity():
    params = {"w": np.array([1.0, 2.0]), "layers": [(np.ones((2, 2)), 0.5)]}
    grads = {"w": np.array([10.0, -10.0]), "layers": [(np.full((2, 2), 2.0), np.array(1.0))]}
    before_p, before_g = copy_tree(params), copy_tree(grads)
    new = optim.sgd_update(params, grads, lr=0.1)
    np.testing.assert_allclose(new["w"], [0.0, 3.0])
    np.testing.assert_allclose(new["layers"][0][0], np.full((2, 2), 0.8))
    np.testing.assert_allclose(new["layers"][0][1], 0.4)
    assert_tree_equal(params, before_p)
    assert_tree_equal(grads, before_g)
    assert params["w"].flags.writeable and grads["w"].flags.writeable
    assert all(not leaf.flags.writeable for leaf in tree_leaves(new))
    with pytest.raises(ValueError, match="read-only"):
        new["w"] -= 1.0


def test_sgd_update_structure_mismatch_names_path():
    with pytest.raises(ValueError, match=r"sgd_update.*\['layers'\]\[0\]"):
        optim.sgd_update({"layers": [(1.0, 2.0)]}, {"layers": [(1.0, 2.0, 3.0)]}, 0.1)
    with pytest.raises(ValueError, match="sgd_update"):
        optim.sgd_update({"w": 1.0}, {"v": 1.0}, 0.1)


FAST_PATH_TREES = [
    {"b": np.array([0.5, -1.0]), "a": [np.ones((2, 3)), (np.arange(3.0), None)]},
    [{"w": np.full((2, 2), 0.25), "b": np.array(0.5)}, {"w": np.eye(2), "b": np.zeros(2)}],
    (np.array(1.5),),
    np.array([1.0, 2.0]),
]


def _general_path_map(f, tree, *rest):
    leaves, treedef = fgrad.tree.tree_flatten(tree)
    columns = [fgrad.tree.tree_flatten(t)[0] for t in rest]
    return fgrad.tree.tree_unflatten(
        treedef, [optim._readonly(f(*xs)) for xs in zip(leaves, *columns)]
    )


@pytest.mark.parametrize("tree", FAST_PATH_TREES, ids=["nested", "layers", "tuple", "leaf"])
def test_optimizer_tree_walk_builds_what_flatten_and_unflatten_build(tree):
    other = tree_map(lambda x: np.asarray(x) * 3.0 - 1.0, tree)
    third = tree_map(lambda x: np.asarray(x) + 2.0, tree)
    for f, trees in (
        (lambda p, g: p - 0.1 * g, (tree, other)),
        (lambda p, g, h: p * g - h, (tree, other, third)),
    ):
        fast = optim._map("test", f, *trees)
        general = _general_path_map(f, *trees)
        assert fgrad.tree.tree_structure(fast) == fgrad.tree.tree_structure(general)
        assert repr(fast) == repr(general)  # dict key order included
        assert all(not leaf.flags.writeable for leaf in tree_leaves(fast))
    assert all(leaf.flags.writeable for leaf in tree_leaves(tree) if leaf is not None)


def test_optimizer_tree_walk_leaves_irregular_trees_to_the_general_path():
    params = {"w": np.ones((3, 1)), "s": 2.0}
    grads = {"w": np.ones(3), "s": np.array(1.0)}
    new = optim.sgd_update(params, grads, 0.5)
    assert new["w"].shape == (3, 3)  # NumPy broadcasting, as the general path computes
    assert new["s"] == 1.5 and not new["s"].flags.writeable
    with pytest.raises(ValueError, match=r"sgd_update: params and grads differ.*\['a'\]"):
        optim.sgd_update({"a": [np.ones(2)]}, {"a": (np.ones(2),)}, 0.1)
    with pytest.raises(ValueError, match="sgd_update: params and grads differ"):
        optim.sgd_update([np.ones(2)], [np.ones(2), np.ones(2)], 0.1)
    with pytest.raises(ValueError, match="sgd_update: params and grads differ"):
        optim.sgd_update({"a": np.ones(2)}, {"a": np.ones(2), "b": np.ones(2)}, 0.1)
    with pytest.raises(ValueError, match="sgd_update: params and grads differ"):
        optim.sgd_update([None], [np.ones(2)], 0.1)


def test_sgd_update_is_differentiable():
    def f(p):
        return fnp.sum(fnp.sin(p) ** 2)

    def after_step(p):
        return f(optim.sgd_update(p, fgrad.grad(f)(p), 0.1))

    fgrad.check_grads(after_step, (np.array([0.3, -1.1]),), order=1)


def test_apply_updates_keeps_dtype_and_is_pure():
    params = (np.ones(3, np.float32), np.zeros(2))
    updates = (np.full(3, 0.5), np.array([1.0, -1.0]))
    new = optim.apply_updates(params, updates)
    assert new[0].dtype == np.float32 and new[1].dtype == np.float64
    np.testing.assert_array_equal(new[0], [1.5, 1.5, 1.5])
    np.testing.assert_array_equal(params[0], 1.0)
    assert not new[0].flags.writeable and not new[1].flags.writeable
    with pytest.raises(ValueError, match="apply_updates"):
        optim.apply_updates(params, updates[:1])


# --------------------------------------------------------------------------- hand-computed steps


def test_sgd_plain_momentum_and_nesterov_by_hand():
    g = [np.array([1.0]), np.array([2.0])]
    (u1, u2), state = run(optim.sgd(0.1), g)
    np.testing.assert_allclose([u1[0], u2[0]], [-0.1, -0.2])
    (u1, u2), state = run(optim.sgd(0.1, momentum=0.9), g)
    np.testing.assert_allclose([u1[0], u2[0]], [-0.1, -0.1 * (0.9 * 1 + 2)])
    np.testing.assert_allclose(state.trace, [2.9])
    (u1, u2), _ = run(optim.sgd(0.1, momentum=0.9, nesterov=True), g)
    np.testing.assert_allclose([u1[0], u2[0]], [-0.1 * (1 + 0.9 * 1), -0.1 * (2 + 0.9 * 2.9)])
    assert int(state.count) == 2


def test_adam_two_steps_by_hand():
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    (u1, u2), state = run(optim.adam(0.1), [g1, g2])
    eps = 1e-8
    expected_u1 = [-0.1 * 1.0 / (1.0 + eps), 0.1 * 2.0 / (2.0 + eps)]
    m2 = np.array([0.9 * 0.1 + 0.1 * 0.5, 0.9 * -0.2 + 0.1 * 0.5])
    v2 = np.array([0.999 * 0.001 + 0.001 * 0.25, 0.999 * 0.004 + 0.001 * 0.25])
    m_hat, v_hat = m2 / (1 - 0.9**2), v2 / (1 - 0.999**2)
    np.testing.assert_allclose(u1, expected_u1, rtol=1e-14)
    np.testing.assert_allclose(u2, -0.1 * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-12)
    np.testing.assert_allclose(state.mu, m2, rtol=1e-14)
    np.testing.assert_allclose(state.nu, v2, rtol=1e-14)
    assert int(state.count) == 2


def test_adamw_decay_is_decoupled_by_hand():
    opt = optim.adamw(0.1, weight_decay=0.5)
    p0 = np.array([2.0])
    state = opt.init(p0)
    u1, state = opt.update(np.array([1.0]), state, p0)
    p1 = optim.apply_updates(p0, u1)
    u2, state = opt.update(np.array([1.0]), state, p1)
    np.testing.assert_allclose(u1, -0.1 * (1 / (1 + 1e-8) + 0.5 * 2.0), rtol=1e-14)
    np.testing.assert_allclose(u2, -0.1 * (1 / (1 + 1e-8) + 0.5 * 1.8), rtol=1e-8)
    adam_u, _ = optim.adam(0.1).update(np.array([1.0]), optim.adam(0.1).init(p0))
    no_decay, _ = optim.adamw(0.1, weight_decay=0.0).update(np.array([1.0]), opt.init(p0), p0)
    np.testing.assert_array_equal(no_decay, adam_u)
    with pytest.raises(ValueError, match="needs the current params"):
        opt.update(np.array([1.0]), opt.init(p0))


def test_rmsprop_two_steps_by_hand():
    (u1, u2), state = run(optim.rmsprop(0.01, decay=0.9), [np.array([2.0]), np.array([1.0])])
    np.testing.assert_allclose(u1, -0.01 * 2 / (math.sqrt(0.4) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(u2, -0.01 * 1 / (math.sqrt(0.46) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(state.nu, [0.46])


def test_adagrad_two_steps_by_hand():
    (u1, u2), state = run(optim.adagrad(0.5), [np.array([3.0, 0.0]), np.array([4.0, 1.0])])
    np.testing.assert_allclose(u1, [-0.5 * 3 / (3 + 1e-8), 0.0])
    np.testing.assert_allclose(u2, [-0.5 * 4 / (5 + 1e-8), -0.5 / (1 + 1e-8)])
    np.testing.assert_array_equal(state.sum_of_squares, [25.0, 1.0])


def test_clip_by_global_norm():
    clip = optim.clip_by_global_norm(1.0)
    grads = {"a": np.array([3.0]), "b": np.array([[4.0]], np.float32)}
    clipped, state = clip.update(grads, clip.init(grads))
    np.testing.assert_allclose(clipped["a"], [0.6])
    np.testing.assert_allclose(clipped["b"], [[0.8]], rtol=1e-6)
    assert clipped["b"].dtype == np.float32
    small = {"a": np.array([0.3]), "b": np.array([[0.4]], np.float32)}
    kept, _ = clip.update(small, state)
    assert_tree_equal(kept, small)
    assert kept["a"] is not small["a"] and small["a"].flags.writeable
    huge, _ = clip.update([np.array([1e200, 1e200])], state)
    np.testing.assert_allclose(huge[0], [math.sqrt(0.5)] * 2)
    zero, _ = clip.update([np.zeros(2)], state)
    np.testing.assert_array_equal(zero[0], [0.0, 0.0])


def test_chain_composes_in_order():
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(0.5, momentum=0.5))
    (u1, u2), state = run(opt, [np.array([30.0, 40.0]), np.array([0.3, 0.4])])
    np.testing.assert_allclose(u1, [-0.3, -0.4])
    np.testing.assert_allclose(u2, -0.5 * (0.5 * np.array([0.6, 0.8]) + [0.3, 0.4]))
    assert isinstance(state, tuple) and len(state) == 2
    assert [int(s.count) for s in state] == [2, 2]
    empty = optim.chain()
    g = np.ones(2)
    assert empty.update(g, empty.init(g))[0] is g


# --------------------------------------------------------------------------- purity


OPTIMIZERS = {
    "sgd": optim.sgd(0.1),
    "momentum": optim.sgd(0.1, momentum=0.9),
    "nesterov": optim.sgd(0.1, momentum=0.9, nesterov=True),
    "adam": optim.adam(0.1),
    "adamw": optim.adamw(0.1, weight_decay=0.01),
    "rmsprop": optim.rmsprop(0.05),
    "adagrad": optim.adagrad(0.5),
    "clipped_adam": optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.1)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_is_pure(name):
    opt = OPTIMIZERS[name]
    params = {"w": np.array([1.0, -1.0]), "b": (np.array(0.5),)}
    grads = {"w": np.array([0.2, 0.4]), "b": (np.array(-0.1),)}
    state = opt.init(params)
    state, _ = opt.update(grads, state, params)[1], None
    snapshot = (copy_tree(params), copy_tree(grads), copy_tree(state))
    updates1, state1 = opt.update(grads, state, params)
    updates2, state2 = opt.update(grads, state, params)
    assert_tree_equal(updates1, updates2)
    assert_tree_equal(state1, state2)
    assert_tree_equal((params, grads, state), snapshot)
    assert fgrad.tree.tree_structure(updates1) == fgrad.tree.tree_structure(params)
    for leaf in tree_leaves((state, state1, updates1)):
        assert isinstance(leaf, np.ndarray) and not leaf.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        tree_leaves(state1)[-1][...] = 0.0


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_minimize_a_quadratic(name):
    opt = OPTIMIZERS[name]
    scales = np.array([1.0, 4.0])

    def loss(p):
        return 0.5 * fnp.sum(scales * (p["w"] - 3.0) ** 2)

    params = {"w": np.zeros(2)}
    state = opt.init(params)
    for _ in range(300):
        updates, state = opt.update(fgrad.grad(loss)(params), state, params)
        params = optim.apply_updates(params, updates)
    np.testing.assert_allclose(params["w"], 3.0, atol=0.1)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_keep_float32(name):
    opt = OPTIMIZERS[name]
    params = np.ones(3, np.float32)
    updates, state = opt.update(np.full(3, 0.5, np.float32), opt.init(params), params)
    assert updates.dtype == np.float32
    assert all(leaf.dtype == np.float32 for leaf in tree_leaves(state) if leaf.dtype.kind == "f")


def test_structure_mismatch_and_wrong_state():
    opt = optim.adam(0.1)
    state = opt.init({"w": np.zeros(2)})
    with pytest.raises(ValueError, match="adam.update"):
        opt.update({"v": np.zeros(2)}, state)
    with pytest.raises(TypeError, match="AdamState"):
        opt.update({"w": np.zeros(2)}, optim.sgd(0.1).init({"w": np.zeros(2)}))
    with pytest.raises(TypeError, match="chain.update"):
        optim.chain(opt, opt).update({"w": np.zeros(2)}, state)


# --------------------------------------------------------------------------- schedules


def test_schedule_values():
    lin = optim.linear(0.1, 0.01, 100)
    np.testing.assert_allclose([lin(s) for s in (0, 25, 100, 500)], [0.1, 0.0775, 0.01, 0.01])
    with pytest.warns(DeprecationWarning, match="exponential_decay"):
        exp = optim.exponential(1.0, 0.1, 10)
    np.testing.assert_allclose([exp(0), exp(10), exp(5)], [1.0, 0.1, math.sqrt(0.1)])
    cos = optim.cosine(2.0, 10, alpha=0.25)
    np.testing.assert_allclose([cos(0), cos(5), cos(10), cos(20)], [2.0, 1.25, 0.5, 0.5])
    assert optim.cosine(1.0, 4)(4) == pytest.approx(0.0)
    assert optim.constant(0.3)(10**6) == 0.3
    assert isinstance(lin(np.int64(3)), float)


def test_schedules_drive_the_learning_rate_by_step_count():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 * (step + 1)

    updates, state = run(optim.sgd(schedule), [np.array([1.0])] * 3)
    assert seen == [0, 1, 2]
    np.testing.assert_allclose([u[0] for u in updates], [-0.1, -0.2, -0.3])
    decaying, _ = run(optim.adam(optim.linear(0.1, 0.01, 2)), [np.array([1.0])] * 4)
    np.testing.assert_allclose([u[0] for u in decaying], [-0.1, -0.055, -0.01, -0.01], rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "exc"),
    [
        (lambda: optim.linear(0.1, 0.01, 0), ValueError),
        (lambda: optim.exponential_decay(0.1, 10, -0.5), ValueError),
        (lambda: optim.cosine(0.1, 10, alpha=2.0), ValueError),
        (lambda: optim.constant(float("nan")), ValueError),
        (lambda: optim.linear(0.1, 0.01, 10)(-1), ValueError),
        (lambda: optim.linear(0.1, 0.01, 10)(1.5), TypeError),
        (lambda: optim.sgd(-0.1), ValueError),
        (lambda: optim.sgd("0.1"), TypeError),
        (lambda: optim.sgd(0.1, momentum=1.0), ValueError),
        (lambda: optim.sgd(0.1, nesterov=1), TypeError),
        (lambda: optim.adam(0.1, b1=1.5), ValueError),
        (lambda: optim.adamw(0.1, weight_decay=-1.0), ValueError),
        (lambda: optim.rmsprop(0.1, decay=-0.1), ValueError),
        (lambda: optim.adagrad(0.1, eps=-1.0), ValueError),
        (lambda: optim.clip_by_global_norm(0.0), ValueError),
        (lambda: optim.chain(optim.sgd), TypeError),
    ],
)
def test_validation(make, exc):
    with pytest.raises(exc):
        make()


@pytest.mark.parametrize(
    "opt",
    [
        optim.chain(optim.clip_by_global_norm(1.0), optim.adam(optim.cosine(0.1, 100))),
        optim.adamw(optim.linear(0.1, 0.01, 100)),
        optim.sgd(optim.exponential_decay(0.1, 10, 0.5), momentum=0.9, nesterov=True),
        optim.rmsprop(0.01),
    ],
)
def test_jitted_training_step_replays_without_reading_values(opt):
    rng = np.random.default_rng(0)
    params = {"w": np.ones((2, 3), np.float32), "b": np.zeros(3, np.float32)}

    @fgrad.jit
    def step(params, state, x):
        def loss(p):
            return fnp.mean(fnp.tanh(x @ p["w"] + p["b"]) ** 2)

        updates, state = opt.update(fgrad.grad(loss)(params), state, params)
        return optim.apply_updates(params, updates), state

    eager_params, eager_state = params, opt.init(params)
    state = eager_state
    for _ in range(6):
        x = rng.standard_normal((4, 2)).astype(np.float32)
        params, state = step(params, state, x)
        eager_params, eager_state = step.fun(eager_params, eager_state, x)
    assert step.stats.guard_failures == 0 and step.stats.replays >= 4
    assert_tree_equal(params, eager_params)
    assert params["w"].dtype == np.float32
