"""Tests written to kill mutants that survived the rest of the suite (see docs/testing.md).

Each section names the module whose mutants it kills. The first pins how strict
``check_grads`` is: the suite's other negative tests use gradients wrong by
order 1, which a checker loosened ten-thousandfold would still reject.
"""

from __future__ import annotations

import functools
import re
import tracemalloc
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import checking, optim
from fgrad.checking import GradientCheckError, gradient_errors

# --------------------------------------------------------------------------- fgrad.checking

X = np.array([0.4, 1.1, -0.7])
JUST_ABOVE = 1e-6
"""Ten times the documented tolerance 1e-7 (literal, so that loosening the default is caught)."""
JUST_BELOW = 1e-8
MEASURED_RTOL = 1e-2
"""How closely the reported error must match the planted one (finite differences add ~1e-12)."""
EXACT = 1e-10
"""Reported error of a correct derivative of ``sin``."""


def sin_with_first_derivative_off_by(relative: float) -> Any:
    """``sin`` whose VJP (and hence JVP) is ``(1 + relative) * cos``."""
    fun = fgrad.custom_vjp(fnp.sin)
    fun.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x) * (1 + relative),))
    return fun


def sin_with_second_derivative_off_by(relative: float) -> Any:
    """``sin`` whose VJP has the exact value ``cos(x)`` but, at ``X``, the derivative
    ``-(1 + relative) * sin(X)``: the added ``x - stop_gradient(x)`` is zero with slope 1."""
    slope = -relative * np.sin(X)
    fun = fgrad.custom_vjp(fnp.sin)
    fun.defvjp(
        lambda x: (fnp.sin(x), x),
        lambda x, g: (g * (fnp.cos(x) + slope * (x - fgrad.stop_gradient(x))),),
    )
    return fun


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_check_grads_rejects_a_first_derivative_just_above_the_tolerance(mode: str) -> None:
    with pytest.raises(
        GradientCheckError, match=f"order 1, {'reverse' if mode == 'rev' else 'forward'} mode"
    ):
        fgrad.check_grads(sin_with_first_derivative_off_by(JUST_ABOVE), (X,), 1, (mode,))
    fgrad.check_grads(sin_with_first_derivative_off_by(JUST_BELOW), (X,), 1, (mode,))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_check_grads_rejects_a_second_derivative_just_above_the_tolerance(mode: str) -> None:
    wrong = sin_with_second_derivative_off_by(JUST_ABOVE)
    fgrad.check_grads(wrong, (X,), order=1, modes=(mode,))
    with pytest.raises(GradientCheckError, match=f"order 2 \\(of the {mode}-mode derivative"):
        fgrad.check_grads(wrong, (X,), order=2, modes=(mode,))
    fgrad.check_grads(sin_with_second_derivative_off_by(JUST_BELOW), (X,), order=2, modes=(mode,))


@pytest.mark.parametrize("relative", [JUST_BELOW, 1e-3])
def test_gradient_errors_reports_the_planted_relative_error(relative: float) -> None:
    first = gradient_errors(sin_with_first_derivative_off_by(relative), (X,), order=1, rtol=1.0)
    assert sorted(first) == ["order 1 fwd output leaf 0", "order 1 rev argument 0"]
    for error in first.values():
        assert error == pytest.approx(relative / (1 + relative), rel=MEASURED_RTOL)
    second = gradient_errors(sin_with_second_derivative_off_by(relative), (X,), order=2, rtol=1.0)
    assert len(second) == 6
    for key, error in second.items():
        if key.startswith("order 1"):
            assert error < EXACT, key
        else:
            assert error == pytest.approx(relative / (1 + relative), rel=MEASURED_RTOL), key


def test_check_grads_report_names_mode_argument_index_and_both_values() -> None:
    wrong = sin_with_first_derivative_off_by(1e-3)
    number = r"(np\.float64\()?-?\d\.\d+(e-?\d+)?\)?"
    expected = (
        r"^order 1, reverse mode, argument 0: relative error 9\.990e-04 exceeds rtol=1\.0e-07 "
        rf"at index \(0,\): fgrad gives {number}, finite differences give {number}$"
    )
    with pytest.raises(GradientCheckError, match=expected):
        fgrad.check_grads(wrong, (X[:1],), order=1, modes=("rev",))
    with pytest.raises(GradientCheckError, match=r"^order 1, forward mode, output leaf 0: "):
        fgrad.check_grads(wrong, (X,), order=1, modes=("fwd",))


def test_check_grads_rejects_a_nan_gradient() -> None:
    fun = fgrad.custom_vjp(fnp.sin)
    fun.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x) * np.nan,))
    with pytest.raises(GradientCheckError, match="relative error inf"):
        fgrad.check_grads(fun, (X,), order=1, modes=("rev",))


def test_gradient_errors_defaults_are_order_2_both_modes_and_a_fixed_seed() -> None:
    errors = gradient_errors(fnp.sin, (X,))
    assert sorted(errors) == sorted(
        [
            "order 1 rev argument 0",
            "order 1 fwd output leaf 0",
            "order 2 (of the rev-mode derivative, order 1) rev argument 0",
            "order 2 (of the rev-mode derivative, order 1) fwd output leaf 0",
            "order 2 (of the fwd-mode derivative, order 1) rev argument 0",
            "order 2 (of the fwd-mode derivative, order 1) fwd output leaf 0",
        ]
    )
    assert gradient_errors(fnp.sin, (X,)) == errors
    assert gradient_errors(fnp.sin, (X,), seed=0) == errors
    only_reverse = gradient_errors(fnp.sin, (X,), order=2, modes=("rev",))
    assert sorted(only_reverse) == [
        "order 1 rev argument 0",
        "order 2 (of the rev-mode derivative, order 1) rev argument 0",
    ]


def test_check_grads_accepts_empty_arguments_and_refuses_bad_options() -> None:
    fgrad.check_grads(lambda x, y: fnp.sum(x) + fnp.sin(y), (np.zeros(0), X), order=2)
    with pytest.raises(ValueError, match=r"^check_grads: order must be at least 1, got 0$"):
        fgrad.check_grads(fnp.sin, (X,), order=0)
    with pytest.raises(ValueError, match=r"^check_grads: unknown modes \['jvp'\]; use 'rev'"):
        fgrad.check_grads(fnp.sin, (X,), modes=("rev", "jvp"))


def test_check_grads_passes_its_defaults_on_and_goes_to_order_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fgrad.check_grads(fnp.sin, (X,), order=3)
    with pytest.raises(TypeError, match="dtype int64"):
        fgrad.check_grads(fnp.sin, (np.array([1, 2], dtype=np.int64),))
    calls = []
    monkeypatch.setattr(checking, "gradient_errors", lambda *args: calls.append(args))
    fgrad.check_grads(fnp.sin, (X,))
    assert calls[0][2:] == (2, ("rev", "fwd"), 1e-3, 1e-7, 1e-4, 0)


# --------------------------------------------------------------------------- fgrad.optim

ONE = np.array([1.0])


def _bad_state_update(make: Any, learning_rate: float) -> Any:
    return lambda: make(learning_rate).update(ONE, "state")


def _mismatched_update(opt: Any) -> Any:
    params = {"a": ONE}
    return lambda: opt.update({"b": ONE}, opt.init(params), params)


OPTIM_ERRORS = [
    (lambda: optim.sgd_update(ONE, ONE, lr="x"), "sgd_update: lr must be a real number, got 'x'"),
    (lambda: optim.constant(np.nan), "constant: value must be finite and in [-inf, inf], got nan"),
    (lambda: optim.constant(0.1)(-1), "constant schedule: step must be >= 0, got -1"),
    (lambda: optim.constant(0.1)(1.5), "constant schedule: step must be an integer, got 1.5"),
    (
        lambda: optim.constant(0.1)(np.array([3, -1])),
        "constant schedule: step must be >= 0, got array([ 3, -1])",
    ),
    (lambda: optim.linear("a", 0.0, 2), "linear: init_value must be a real number, got 'a'"),
    (lambda: optim.linear(1.0, "b", 2), "linear: end_value must be a real number, got 'b'"),
    (lambda: optim.linear(1.0, 0.0, 0), "linear: transition_steps must be a positive int, got 0"),
    (
        lambda: optim.linear(1.0, 0.0, True),
        "linear: transition_steps must be a positive int, got True",
    ),
    (lambda: optim.linear(1.0, 0.0, 2)(-1), "linear schedule: step must be >= 0, got -1"),
    (
        lambda: optim.exponential(1.0, 0.0, 2),
        "exponential: decay_rate must be > 0, got 0.0",
    ),
    (
        lambda: optim.exponential(1.0, 0.5, 0),
        "exponential: transition_steps must be a positive int, got 0",
    ),
    (lambda: optim.exponential(1.0, 0.5, 2)(-1), "exponential schedule: step must be >= 0, got -1"),
    (lambda: optim.cosine(1.0, 0), "cosine: decay_steps must be a positive int, got 0"),
    (
        lambda: optim.cosine(1.0, 10, alpha=1.5),
        "cosine: alpha must be finite and in [0.0, 1.0], got 1.5",
    ),
    (lambda: optim.cosine(1.0, 10)(-1), "cosine schedule: step must be >= 0, got -1"),
    (lambda: optim.sgd(-0.1), "sgd: learning_rate must be finite and in [0.0, inf], got -0.1"),
    (lambda: optim.sgd(0.1, momentum=1.0), "sgd: momentum must be in [0, 1), got 1.0"),
    (lambda: optim.adam(0.1, b1=1.0), "adam: b1 must be in [0, 1), got 1.0"),
    (lambda: optim.adam(0.1, b2=-0.5), "adam: b2 must be finite and in [0.0, 1.0], got -0.5"),
    (lambda: optim.adam("x"), "adam: learning_rate must be a real number, got 'x'"),
    (lambda: optim.adamw("x"), "adamw: learning_rate must be a real number, got 'x'"),
    (lambda: optim.adamw(0.1, b1=1.0), "adamw: b1 must be in [0, 1), got 1.0"),
    (lambda: optim.adamw(0.1, b2=1.0), "adamw: b2 must be in [0, 1), got 1.0"),
    (lambda: optim.rmsprop("x"), "rmsprop: learning_rate must be a real number, got 'x'"),
    (lambda: optim.rmsprop(0.1, decay=1.0), "rmsprop: decay must be in [0, 1), got 1.0"),
    (lambda: optim.adagrad("x"), "adagrad: learning_rate must be a real number, got 'x'"),
    (lambda: optim.clip_by_global_norm(0.0), "clip_by_global_norm: max_norm must be > 0, got 0.0"),
    (
        lambda: optim.exponential("a", 0.5, 2),
        "exponential: init_value must be a real number, got 'a'",
    ),
    (
        lambda: optim.exponential(1.0, -1.0, 2),
        "exponential: decay_rate must be finite and in [0.0, inf], got -1.0",
    ),
    (lambda: optim.cosine("a", 10), "cosine: init_value must be a real number, got 'a'"),
    (lambda: optim.sgd(0.1, nesterov=1), "sgd: nesterov must be a bool, got 1"),
    (lambda: optim.adam(0.1, eps=-1.0), "adam: eps must be finite and in [0.0, inf], got -1.0"),
    (lambda: optim.adamw(0.1, eps=-1.0), "adamw: eps must be finite and in [0.0, inf], got -1.0"),
    (
        lambda: optim.adamw(0.1, weight_decay=-1.0),
        "adamw: weight_decay must be finite and in [0.0, inf], got -1.0",
    ),
    (
        lambda: optim.rmsprop(0.1, eps=-1.0),
        "rmsprop: eps must be finite and in [0.0, inf], got -1.0",
    ),
    (
        lambda: optim.adagrad(0.1, eps=-1.0),
        "adagrad: eps must be finite and in [0.0, inf], got -1.0",
    ),
    (
        lambda: optim.adamw(0.1).update(ONE, optim.adamw(0.1).init(ONE)),
        "adamw.update needs the current params for weight decay: call update(grads, state, params)",
    ),
    (
        lambda: optim.chain(optim.sgd(0.1), (1, 2)),
        "chain: argument 1 must be a GradientTransformation (init, update), got (1, 2)",
    ),
] + [
    (
        _bad_state_update(make, 1.0),
        f"{name}.update: state must be the {state} made by {name}(...).init(params), got str",
    )
    for name, make, state in [
        ("sgd", optim.sgd, "SgdState"),
        ("adam", optim.adam, "AdamState"),
        ("adamw", optim.adamw, "AdamState"),
        ("rmsprop", optim.rmsprop, "RmsPropState"),
        ("adagrad", optim.adagrad, "AdagradState"),
        ("clip_by_global_norm", optim.clip_by_global_norm, "ClipState"),
    ]
]

OPTIM_MISMATCH_PREFIXES = {
    "sgd": "sgd.update: grads differ from the state: ",
    "sgd_nesterov": "sgd.update: grads differ from the state: ",
    "adam": "adam.update: grads differ from the state: ",
    "adamw": "adamw.update: grads differ from the state or params: ",
    "rmsprop": "rmsprop.update: grads differ from the state: ",
    "adagrad": "adagrad.update: grads differ from the state: ",
}
OPTIMIZERS = {
    "sgd": lambda lr: optim.sgd(lr, momentum=0.5),
    "sgd_nesterov": lambda lr: optim.sgd(lr, momentum=0.5, nesterov=True),
    "adam": optim.adam,
    "adamw": optim.adamw,
    "rmsprop": optim.rmsprop,
    "adagrad": optim.adagrad,
}


@pytest.mark.parametrize(("call", "message"), OPTIM_ERRORS)
@pytest.mark.filterwarnings("ignore:fgrad.optim.exponential.*is deprecated:DeprecationWarning")
def test_optim_errors_name_the_function_parameter_and_value(call: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=f"^{re.escape(message)}$"):
        call()


@pytest.mark.parametrize("name", sorted(OPTIM_MISMATCH_PREFIXES))
def test_optim_structure_mismatch_names_the_update(name: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(OPTIM_MISMATCH_PREFIXES[name])}"):
        _mismatched_update(OPTIMIZERS[name](0.1))()


@pytest.mark.filterwarnings("ignore:fgrad.optim.exponential.*is deprecated:DeprecationWarning")
def test_schedule_edge_values_are_accepted() -> None:
    assert optim.linear(1.0, 0.0, 1)(1) == 0.0
    assert optim.cosine(2.0, 10, alpha=1.0)(3) == 2.0
    steps = np.array([0, 2])
    np.testing.assert_allclose(optim.linear(1.0, 0.0, 4)(steps), [1.0, 0.5])
    np.testing.assert_allclose(optim.exponential(1.0, 0.25, 4)(steps), [1.0, 0.5])
    np.testing.assert_allclose(optim.cosine(1.0, 4)(steps), [1.0, 0.5])


def test_adamw_refuses_params_of_another_structure() -> None:
    opt = optim.adamw(0.1)
    with pytest.raises(ValueError, match=r"^adamw\.update: grads differ from the state or params"):
        opt.update({"a": ONE}, opt.init({"a": ONE}), {"b": ONE})


def test_moments_of_integer_params_are_float64_and_clipping_skips_empty_leaves() -> None:
    assert optim.adam(0.1).init({"w": np.array([1, 2])}).mu["w"].dtype == np.float64
    clip = optim.clip_by_global_norm(1.0)
    grads = {"empty": np.zeros(0), "g": np.array([3.0, 4.0])}
    updates, _ = clip.update(grads, clip.init(grads))
    np.testing.assert_allclose(updates["g"], [0.6, 0.8])
    assert updates["empty"].shape == (0,)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_count_steps_from_zero_and_feed_the_count_to_the_schedule(name: str) -> None:
    seen: list[int] = []

    def schedule(step: Any) -> float:
        seen.append(int(step))
        return 0.1

    opt = OPTIMIZERS[name](schedule)
    params = {"w": np.array([1.0, -2.0])}
    state = opt.init(params)
    assert int(state.count) == 0
    for expected in (1, 2):
        _, state = opt.update({"w": np.array([0.3, 0.4])}, state, params)
        assert int(state.count) == expected
    assert seen == [0, 1]


def test_defaults_of_rmsprop_adamw_and_adam_are_the_documented_ones() -> None:
    params, grads = np.array([1.0, -2.0]), np.array([0.3, -0.4])
    pairs = [
        (optim.rmsprop(0.1), optim.rmsprop(0.1, decay=0.9, eps=1e-8)),
        (optim.adamw(0.1), optim.adamw(0.1, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4)),
        (optim.adam(0.1), optim.adam(0.1, b1=0.9, b2=0.999, eps=1e-8)),
        (optim.adagrad(0.1), optim.adagrad(0.1, eps=1e-8)),
    ]
    for default, explicit in pairs:
        state_d, state_e = default.init(params), explicit.init(params)
        for _ in range(2):
            u_d, state_d = default.update(grads, state_d, params)
            u_e, state_e = explicit.update(grads, state_e, params)
            np.testing.assert_array_equal(u_d, u_e)


def test_eps_is_added_to_the_root_in_rmsprop_and_adagrad() -> None:
    g = np.array([2.0])
    adagrad = optim.adagrad(1.0, eps=0.5)
    updates, _ = adagrad.update(g, adagrad.init(g))
    np.testing.assert_allclose(updates, -2.0 / (2.0 + 0.5))
    rmsprop = optim.rmsprop(1.0, decay=0.75, eps=0.5)
    updates, _ = rmsprop.update(g, rmsprop.init(g))
    np.testing.assert_allclose(updates, -2.0 / (np.sqrt(0.25 * 4.0) + 0.5))


def test_chain_passes_params_to_every_transformation() -> None:
    params, grads = np.array([1.0, -2.0]), np.array([0.3, -0.4])
    alone = optim.adamw(0.1, weight_decay=0.5)
    chained = optim.chain(optim.clip_by_global_norm(10.0), optim.adamw(0.1, weight_decay=0.5))
    expected, _ = alone.update(grads, alone.init(params), params)
    got, _ = chained.update(grads, chained.init(params), params)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS) + ["clip"])
def test_jitted_updates_keep_float32_with_a_schedule(name: str) -> None:
    if name == "clip":
        opt = optim.chain(optim.clip_by_global_norm(0.1), optim.sgd(optim.linear(0.1, 0.01, 5)))
    else:
        opt = OPTIMIZERS[name](optim.linear(0.1, 0.01, 5))
    params = {"w": np.array([1.0, -2.0], np.float32)}
    grads = {"w": np.array([0.3, -0.4], np.float32)}
    step = fgrad.jit(opt.update)
    state = opt.init(params)
    for _ in range(2):
        updates, state = step(grads, state, params)
        assert updates["w"].dtype == np.float32, name


# --------------------------------------------------------------------------- fgrad.transforms


def two_leaf_function(a: Any, b: Any, c: Any) -> Any:
    first = fnp.sin(a["u"]) * b[0] + c[0] * c[1]
    return fnp.concatenate([first, a["v"] * fnp.sum(b[1] ** 2, axis=0), b[0] ** 3 * c[1]])


TWO_LEAF_ARGS = (
    {"u": np.array([0.3, -0.8]), "v": np.array(1.7)},
    (np.array([0.5, 1.2]), np.array([[0.1, -0.4], [0.9, 0.2]])),
    [np.array(-0.6), np.array([1.1, 0.4])],
)


def test_jacfwd_of_several_arguments_with_several_leaves_matches_reverse_mode() -> None:
    forward = fgrad.jacfwd(two_leaf_function, argnums=(0, 1, 2))(*TWO_LEAF_ARGS)
    reverse = fgrad.jacobian(two_leaf_function, argnums=(0, 1, 2))(*TWO_LEAF_ARGS)
    forward_leaves, forward_tree = fgrad.tree.tree_flatten(forward)
    reverse_leaves, reverse_tree = fgrad.tree.tree_flatten(reverse)
    assert forward_tree == reverse_tree
    for f, r in zip(forward_leaves, reverse_leaves):
        np.testing.assert_allclose(f, r, rtol=1e-14, atol=1e-15)


def test_hessian_with_respect_to_a_later_argument() -> None:
    def f(x: Any, y: Any) -> Any:
        return fnp.sum(x * y**3)

    x, y = np.array([2.0, -1.0]), np.array([0.5, 3.0])
    np.testing.assert_allclose(fgrad.hessian(f, argnums=1)(x, y), np.diag(6 * x * y))
    np.testing.assert_allclose(fgrad.hessian(f, argnums=0)(x, y), np.zeros((2, 2)))


def test_custom_vjp_none_cotangent_for_one_argument_keeps_the_next_ones() -> None:
    @fgrad.custom_vjp
    def scaled(x: Any, y: Any) -> Any:
        return x * y

    scaled.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (None, g * res[0]))
    gx, gy = fgrad.grad(lambda x, y: fnp.sum(scaled(x, y)), argnums=(0, 1))(
        np.array([2.0, 3.0]), np.array([5.0, 7.0])
    )
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    np.testing.assert_array_equal(gy, [2.0, 3.0])


def cube(x: Any) -> Any:
    return x**3


def _custom_cube(fwd: Any, bwd: Any) -> Any:
    fun = fgrad.custom_vjp(cube)
    fun.defvjp(fwd, bwd)
    return lambda: fgrad.grad(lambda x: fnp.sum(fun(x)))(np.ones(2))


def _pair_output() -> Any:
    fun = fgrad.custom_vjp(lambda x: (x, 0))
    fun.defvjp(lambda x: ((x, 0), None), lambda res, g: (g[0],))
    return fgrad.grad(lambda x: fnp.sum(fun(x)[0]))(np.ones(2))


CUSTOM_VJP_ERRORS = {
    "no_vjp": (
        lambda: fgrad.custom_vjp(cube)(np.ones(2)),
        r"cube.*defvjp\(fwd, bwd\) before using it\.?$",
    ),
    "fwd_list": (
        _custom_cube(lambda x: [x**3, x], lambda res, g: (3 * res**2 * g,)),
        r"cube.*\(out, residuals\).*list",
    ),
    "pair_output": (_pair_output, r"<lambda>.*leaf \[1\] is dtype int64"),
    "cotangent_structure": (
        _custom_cube(lambda x: (x**3, x), lambda res, g: ({"a": g},)),
        r"cube.*argument 0 with structure PyTreeDef\(\{'a': \*\}\).*has PyTreeDef\(\*\)",
    ),
    "cotangent_count": (
        _custom_cube(lambda x: (x**3, x), lambda res, g: (g, g)),
        r"cube.*one cotangent per positional argument \(1\)",
    ),
}


@pytest.mark.parametrize("case", sorted(CUSTOM_VJP_ERRORS))
def test_custom_vjp_errors_name_the_function_and_the_problem(case: str) -> None:
    call, pattern = CUSTOM_VJP_ERRORS[case]
    with pytest.raises(TypeError, match=pattern):
        call()


def test_errors_name_nested_functions_by_qualname_and_partials_by_repr() -> None:
    def vector_valued(x: Any) -> Any:
        return x * 2.0

    with pytest.raises(TypeError, match=r"test_errors_name_nested.*<locals>\.vector_valued"):
        fgrad.grad(vector_valued)(np.ones(2))
    partial = functools.partial(lambda x, y: x * y, y=np.ones(2))
    with pytest.raises(TypeError, match=r"functools\.partial\(<function "):
        fgrad.grad(partial)(np.ones(2))


def test_custom_vjp_wraps_the_function_and_names_its_primitive() -> None:
    wrapped = fgrad.custom_vjp(cube)
    assert wrapped.__name__ == "cube" and wrapped.__wrapped__ is cube
    wrapped.defvjp(lambda x: (x**3, x), lambda res, g: (3 * res**2 * g,))
    leaked = []
    fgrad.grad(lambda x: leaked.append(x) or fnp.sum(x))(np.ones(2))
    with pytest.raises(fgrad.UnexpectedTracerError, match=r"^'custom_vjp\(cube\)' received"):
        wrapped(leaked[0])


def test_jacobians_of_float32_and_empty_inputs() -> None:
    x32 = np.array([1.0, 2.0], np.float32)
    assert fgrad.jacobian(lambda x: x * 2)(x32).dtype == np.float32
    assert fgrad.jacfwd(lambda x: x * 2)(x32).dtype == np.float32
    jac = fgrad.jacobian(lambda x: fnp.sum(x) * np.ones(2))(np.zeros(0))
    assert jac.shape == (2, 0)
    assert fgrad.jacobian(lambda x: x[:0] * 2.0)(np.ones(2)).shape == (0, 2)


def test_transform_errors_name_ufuncs_and_the_function_for_bad_argnums() -> None:
    with pytest.raises(TypeError, match=r"grad\(sin\)|requires sin to"):
        fgrad.grad(np.sin)(np.ones(2))
    for transform in (fgrad.jacobian, fgrad.jacfwd):
        with pytest.raises(ValueError, match=r"\bsin\b.*argnums|argnums.*\bsin\b"):
            transform(np.sin, argnums=3)(np.ones(2))


# --------------------------------------------------------------------------- fgrad._core


def test_leaked_tracer_message_says_where_the_transform_was_defined_and_what_to_do() -> None:
    leaked = []

    def stash(x: Any) -> Any:
        leaked.append(x)
        return fnp.sum(x * 2.0)

    fgrad.grad(stash)(np.ones(2))
    line = stash.__code__.co_firstlineno
    expected = (
        rf"'sin' received a tracer created by grad\(.*stash\) defined at "
        rf"{re.escape(__file__)}:{line} after that transform returned.*Tracers are only valid "
        r"while the transformed function runs: return results instead of storing them in "
        r"globals, attributes or closures \(apply fgrad\.stop_gradient to keep a plain value\)\.$"
    )
    with pytest.raises(fgrad.UnexpectedTracerError, match=expected):
        fnp.sin(leaked[0])


def test_len_of_a_zero_dimensional_tracer_is_a_type_error_like_numpy() -> None:
    with pytest.raises(TypeError, match=r"^len\(\) of a 0-d traced array$"):
        fgrad.grad(lambda x: x * len(x))(1.0)
    assert fgrad.grad(lambda x: fnp.sum(x) * len(x))(np.ones(3)).tolist() == [3.0] * 3


def test_leaked_tracer_of_a_partial_is_named_by_its_repr() -> None:
    leaked = []

    def stash(x: Any, scale: float) -> Any:
        leaked.append(x)
        return fnp.sum(x * scale)

    fgrad.grad(functools.partial(stash, scale=2.0))(np.ones(2))
    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=r"by grad\(functools\.partial\(<function .*stash at 0x\w+>, scale=2\.0\)\) after",
    ):
        fnp.sin(leaked[0])


PAIR = np.array([1.5, -0.5])


def store_refusal(fun: Any) -> str:
    """The message of the TypeError ``grad(fun)(PAIR)`` raises for a store (NumPy may chain it)."""
    with pytest.raises((TypeError, ValueError)) as info:
        fgrad.grad(fun)(PAIR)
    error = info.value if isinstance(info.value, TypeError) else info.value.__cause__
    assert isinstance(error, TypeError), repr(info.value)
    return str(error)


STORE_ADVICE = (
    "would silently drop its gradient. Build the array from traced values instead: collect "
    "them in a list and call fgrad.numpy.stack (or fgrad.numpy.array), join pieces with "
    "fgrad.numpy.concatenate, or replace an element with fgrad.numpy.where(mask, value, a) or "
    "a + fgrad.numpy.scatter_add(value - a[i], a.shape, i). To store only the number, "
)


@pytest.mark.parametrize(("dtype", "conversion"), [(np.float64, "float"), (np.int64, "int")])
def test_element_store_message_names_the_store_and_the_conversion(
    dtype: Any, conversion: str
) -> None:
    def store(x: Any) -> Any:
        out = np.zeros(2, dtype=dtype)
        out[0] = x[0]
        return fnp.sum(x)

    expected = (
        r"^grad\(.*store\): a traced value was stored into a plain NumPy array or buffer "
        rf"through an element \(a\[i\] = value\) \(at {re.escape(__file__)}:\d+\)\. That "
        rf"converts it with {conversion}\(\), which {re.escape(STORE_ADVICE)}store "
        rf"{conversion}\(value\) or fgrad\.stop_gradient\(value\) explicitly\.$"
    )
    assert re.search(expected, store_refusal(store))


def test_complex_element_store_names_complex_conversion() -> None:
    def store(x: Any) -> Any:
        out = np.zeros(2, dtype=np.complex128)
        out[0] = x[0]
        return fnp.sum(x)

    assert re.search(
        r"converts it with complex\(\).* store complex\(value\) or", store_refusal(store)
    )


def test_a_conversion_and_a_store_in_one_function_are_told_apart() -> None:
    def convert_then_store(x: Any) -> Any:
        scale = float(x[1])
        out = np.zeros(2)
        out[0] = x[0]
        return fnp.sum(x) * scale

    for _ in range(2):
        assert re.search(
            r"through an element \(a\[i\] = value\)", store_refusal(convert_then_store)
        )


def test_element_store_of_a_jit_value_computed_from_a_gradient_tracer_raises() -> None:
    def outer(x: Any) -> Any:
        def inner(y: Any) -> Any:
            scaled = y * x
            out = np.zeros(2)
            out[0] = scaled[0]
            return fnp.sum(scaled)

        return fgrad.jit(inner)(np.ones(2))

    assert re.search(r"through an element \(a\[i\] = value\)", store_refusal(outer))


@pytest.mark.parametrize(
    "call",
    [
        "np.fromiter([x[0], x[1]], dtype=float)",
        "np.fromiter([x[0]], dtype=float, count=1)",
        "out.fill(x[0])",
    ],
)
def test_storing_calls_with_keywords_are_refused(call: str) -> None:
    source = f"def store(x):\n    out = np.zeros(2)\n    {call}\n    return x.sum()\n"
    namespace: dict[str, Any] = {"np": np}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert re.search(r"through (fromiter|fill)\(\)", store_refusal(namespace["store"]))


def test_storing_call_whose_argument_needs_an_extended_argument_is_refused() -> None:
    names = [f"v{i}" for i in range(300)]
    body = "".join(f"    {name} = x\n" for name in names)
    store = f"    out.fill({names[-1]}[0])\n    return x.sum()\n"
    source = f"def store(x):\n    out = np.zeros(2)\n{body}{store}"
    namespace: dict[str, Any] = {"np": np}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert re.search(r"through fill\(\)", store_refusal(namespace["store"]))


def test_storing_call_with_a_walrus_at_module_level_is_refused() -> None:
    def run(x: Any) -> Any:
        namespace: dict[str, Any] = {"np": np, "x": x, "out": np.zeros(2)}
        exec(compile("out.fill(y := x[0])", "<generated>", "exec"), namespace)
        return fnp.sum(x)

    assert re.search(r"through fill\(\)", store_refusal(run))


def test_failed_operation_message_names_one_operand_and_ends_with_one_full_stop() -> None:
    expected = (
        r"^grad\(.*<lambda>\): 'reshape' failed on operand of shape and dtype \(2,\) float64 "
        rf"\(at {re.escape(__file__)}:\d+\): cannot reshape array of size 2 into shape \(5,\)\. "
        r"Check the shapes and dtypes of the arrays passed to it\.$"
    )
    with pytest.raises(ValueError, match=expected):
        fgrad.grad(lambda x: fnp.sum(fnp.reshape(x, (5,))))(np.ones(2))


def test_failed_operation_message_gives_each_operand_its_own_dtype() -> None:
    integers = np.ones((3, 2), dtype=np.int64)
    with pytest.raises(
        ValueError,
        match=r"'matmul' failed on operands of shape and dtype \(2, 2\) float64 and \(3, 2\) int64",
    ):
        fgrad.grad(lambda x: fnp.sum(x @ integers))(np.ones((2, 2)))


def test_complex_output_message_says_what_to_do() -> None:
    expected = (
        r"^grad\(.*<lambda>\): the function returned a complex value \(output of dtype "
        r"complex128\), but reverse-mode derivatives are taken of real-valued functions, as in "
        r"JAX\. For a holomorphic function pass holomorphic=True \(the result is then the "
        r"complex derivative f'\(z\)\); for a real loss reduce the output to a real value "
        r"\(e\.g\. fgrad\.numpy\.abs\(out\) \*\* 2 or fgrad\.numpy\.real\(out\)\); for a "
        r"non-holomorphic function with complex outputs use fgrad\.vjp directly\.$"
    )
    with pytest.raises(TypeError, match=expected):
        fgrad.grad(lambda x: fnp.sum(x * np.exp(1j)))(np.ones(2))


DEBUG_ADVICE = r"e\.g\. log or sqrt of values <= 0, division by zero, or an overflow\.$"


def test_debug_nans_message_names_the_switch_and_the_likely_causes() -> None:
    expected = (
        r"^NaN produced by the forward pass of 'log' \(the operation was called at "
        rf"{re.escape(__file__)}:\d+\) \(fgrad\.config\.debug_nans is on\)\. Look at the inputs "
        rf"of 'log' on that line: {DEBUG_ADVICE}"
    )
    with fgrad.config.debugging_nans(), np.errstate(invalid="ignore"):  # noqa: SIM117
        with pytest.raises(FloatingPointError, match=expected):
            fgrad.grad(lambda x: fnp.sum(fnp.log(x)))(np.array([-1.0, 1.0]))


def test_debug_infs_message_names_its_switch() -> None:
    with fgrad.config.debugging_infs(), np.errstate(divide="ignore"):  # noqa: SIM117
        with pytest.raises(FloatingPointError, match=r"\(fgrad\.config\.debug_infs is on\)\."):
            fgrad.grad(lambda x: fnp.sum(fnp.log(x)))(np.array([0.0, 1.0]))


def test_debug_nans_in_a_pullback_recorded_without_it_names_no_line() -> None:
    _, pullback = fgrad.vjp(lambda x: fnp.sqrt(x) * 0.0, np.array([0.0, 1.0]))
    expected = (
        r"^NaN produced by the VJP of 'sqrt' \(fgrad\.config\.debug_nans is on\)\. Look at the "
        rf"inputs of 'sqrt' on that line: {DEBUG_ADVICE}"
    )
    with fgrad.config.debugging_nans(), np.errstate(divide="ignore", invalid="ignore"):  # noqa: SIM117
        with pytest.raises(FloatingPointError, match=expected):
            pullback(np.ones(2))


# --------------------------------------------------------------------------- fgrad._jit

LARGE = 1 << 17
"""Elements of a 1 MiB float64 array: far above the size from which a replay releases
intermediates after their last use (64 KiB)."""
CHAIN = 16
PEAK_LIMIT_MIB = 6
"""A replay of CHAIN 1 MiB steps that releases each step after use peaks at a few MiB; one
that keeps them peaks above CHAIN MiB."""


def _chain(x: Any) -> Any:
    for _ in range(CHAIN // 2):
        x = fnp.sin(x) + 1.0
    middle = x
    for _ in range(CHAIN // 2):
        x = fnp.sin(x) + 1.0
    return fnp.sum(x), middle


def test_a_replay_releases_large_intermediates_after_their_last_use_but_not_outputs() -> None:
    x = np.linspace(0.0, 1.0, LARGE)
    jitted = fgrad.jit(_chain)
    eager_sum, eager_middle = _chain(x)
    jitted(x)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        replayed = jitted(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert jitted.stats.replays == 1
    assert replayed[0] == eager_sum
    assert replayed[1].tobytes() == eager_middle.tobytes()
    assert peak < PEAK_LIMIT_MIB * 2**20


INTERPRETED_STEPS = 1600
"""Two primitives a step: past the 3000 lines up to which replays are compiled to Python."""


def test_an_interpreted_replay_with_released_intermediates_is_bit_identical() -> None:
    def long(x: Any) -> Any:
        for _ in range(INTERPRETED_STEPS):
            x = x * 1.0001 + 0.5
        return fnp.sum(x), x[:3]

    x = np.linspace(0.0, 1.0, 10_000)
    jitted = fgrad.jit(long)
    eager = long(x)
    jitted(x)
    replayed = jitted(x)
    assert jitted.stats.replays == 1
    assert replayed[0] == eager[0]
    assert replayed[1].tobytes() == eager[1].tobytes()


def test_a_value_guard_keeps_its_own_copy_of_an_input_mutated_in_place() -> None:
    def branch(x: Any) -> Any:
        return x * 2.0 if float(x) > 0 else x * 3.0

    jitted = fgrad.jit(branch)
    x = np.array(1.0)
    assert jitted(x) == 2.0
    x[...] = -1.0
    assert jitted(x) == -3.0
    assert jitted.stats.guard_failures == 1


def test_leaked_tracer_of_a_wrapped_function_names_where_the_wrapped_one_is_defined() -> None:
    leaked = []

    def stash(x: Any) -> Any:
        leaked.append(x)
        return fnp.sum(x * 2.0)

    @functools.wraps(stash)
    def wrapper(x: Any) -> Any:
        return stash(x)

    fgrad.grad(wrapper)(np.ones(2))
    line = stash.__code__.co_firstlineno
    with pytest.raises(
        fgrad.UnexpectedTracerError, match=rf"defined at {re.escape(__file__)}:{line} after"
    ):
        fnp.sin(leaked[0])


def test_jit_defaults_are_the_documented_ones() -> None:
    jitted = fgrad.jit(fnp.sin)
    assert (jitted.max_variants, jitted.max_signatures) == (8, 32)


def test_jit_with_options_only_returns_a_decorator_that_keeps_both() -> None:
    decorate = fgrad.jit(max_variants=1, max_signatures=2)
    jitted = decorate(fnp.sin)
    assert (jitted.max_variants, jitted.max_signatures) == (1, 2)


def test_jit_drops_the_least_recently_used_signature_past_max_signatures() -> None:
    jitted = fgrad.jit(fnp.sin, max_signatures=2)
    one, two, three = np.ones(1), np.ones(2), np.ones(3)
    jitted(one)
    jitted(two)
    jitted(one)
    jitted(three)
    assert jitted.stats.variants == 2
    jitted(one)
    assert jitted.stats.traces == 3
    jitted(two)
    assert (jitted.stats.traces, jitted.stats.variants) == (4, 2)


def scaled_by(x: Any, *, factor: float) -> Any:
    return x * factor if float(fnp.sum(x)) > 0 else -x * factor


def test_jit_eager_fallbacks_pass_keywords_and_are_counted_once_each() -> None:
    jitted = fgrad.jit(scaled_by, max_variants=1)
    positive, negative = np.ones(2), -np.ones(2)
    assert jitted(positive, factor=2.0).tolist() == [2.0, 2.0]
    with pytest.warns(fgrad.JitRetraceWarning):
        assert jitted(negative, factor=2.0).tolist() == [2.0, 2.0]
    assert jitted(negative, factor=2.0).tolist() == [2.0, 2.0]
    assert jitted.stats.eager_calls == 2
    gradient = fgrad.grad(lambda x: fnp.sum(jitted(x, factor=2.0)))(positive)
    assert gradient.tolist() == [2.0, 2.0]
    assert jitted.stats.eager_calls == 3


def test_jit_static_arguments_of_equal_value_and_different_type_are_different_variants() -> None:
    def by_type(x: Any, flag: Any) -> Any:
        return x * 2.0 if isinstance(flag, bool) else x * 3.0

    jitted = fgrad.jit(by_type)
    assert jitted(np.ones(1), True).tolist() == [2.0]
    assert jitted(np.ones(1), 1).tolist() == [3.0]


def test_jit_refusals_name_the_type_of_the_argument() -> None:
    with pytest.raises(
        TypeError,
        match=r"^jit: arguments of type MaskedArray \(an ndarray subclass\) are not supported; "
        r"pass np\.asarray\(x\)$",
    ):
        fgrad.jit(fnp.sin)(np.ma.array([1.0]))
    with pytest.raises(TypeError, match=r"^jit: argument leaf of type bytearray is neither"):
        fgrad.jit(lambda x, b: x)(np.ones(1), bytearray(b"x"))


def _leaked_from_grad() -> Any:
    """A tracer of ``grad(stash)``, used after that transform returned."""
    leaked = []

    def stash(x: Any) -> Any:
        leaked.append(x)
        return fnp.sum(x * 2.0)

    fgrad.grad(stash)(np.ones(2))
    return leaked[0]


@pytest.mark.parametrize("leaked_first", [True, False])
def test_a_leaked_tracer_next_to_a_live_one_of_the_same_level_is_refused(
    leaked_first: bool,
) -> None:
    leaked = [_leaked_from_grad()]

    def mix(y: Any) -> Any:
        pair = [leaked[0], y] if leaked_first else [y, leaked[0]]
        return fnp.sum(fnp.concatenate(pair))

    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=r"^'concatenate' received a tracer created by grad\(.*stash\)",
    ):
        fgrad.grad(mix)(np.ones(2))


def test_a_failed_operation_of_many_operands_names_each_of_them() -> None:
    with pytest.raises(
        ValueError,
        match=r"^grad\(.*<lambda>\): 'concatenate' failed on operands of shape and dtype "
        r"\(2,\) float64 and \(2, 2\) float64 \(at ",
    ):
        fgrad.grad(lambda x: fnp.sum(fnp.concatenate([x, np.ones((2, 2))])))(np.ones(2))


def test_jit_accepts_one_variant_refuses_none_and_wraps_the_function() -> None:
    jitted = fgrad.jit(scaled_by, max_variants=1)
    assert jitted.__wrapped__ is scaled_by
    assert jitted.__name__ == "scaled_by"
    with pytest.raises(ValueError, match=r"^jit: max_variants must be at least 1, got 0$"):
        fgrad.jit(scaled_by, max_variants=0)


def test_many_operand_operations_keep_real_cotangents_and_report_nans() -> None:
    grad = fgrad.grad(
        lambda z: fnp.real(fnp.sum(fnp.concatenate([fnp.real(z), np.array([1j])]) * (1 + 2j)))
    )(np.array([1.0 + 1j, 2.0]))
    np.testing.assert_array_equal(grad, np.ones(2, complex), strict=True)
    with fgrad.config.debugging_nans():  # noqa: SIM117
        with pytest.raises(
            FloatingPointError,
            match=r"^NaN produced by the forward pass of 'concatenate' \(the operation was called "
            rf"at {re.escape(__file__)}:\d+\)",
        ):
            fgrad.grad(lambda x: fnp.sum(fnp.concatenate([x, np.array([np.nan])])))(np.ones(2))


def test_a_leaked_tracer_in_a_binary_operation_is_refused() -> None:
    leaked = [_leaked_from_grad()]
    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=r"^'multiply' received a tracer created by grad\(.*stash\) defined at ",
    ):
        leaked[0] * 2.0


# ------------------------------------------------ fgrad._core (bind1, bind2, backward_pass, traces)


@pytest.mark.parametrize("leaked_first", [True, False])
def test_a_leaked_tracer_in_a_binary_operation_with_a_live_one_names_the_leaking_transform(
    leaked_first: bool,
) -> None:
    leaked = [_leaked_from_grad()]

    def mix(y: Any) -> Any:
        return fnp.sum(leaked[0] * y if leaked_first else y * leaked[0])

    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=r"^'multiply' received a tracer created by grad\(.*stash\) defined at ",
    ):
        fgrad.grad(mix)(np.ones(2))


def test_debug_nans_names_a_binary_operation_and_the_line_calling_it() -> None:
    infinite_and_one = np.array([np.inf, 1.0])
    expected = (
        r"^NaN produced by the forward pass of 'multiply' \(the operation was called at "
        rf"{re.escape(__file__)}:\d+\) \(fgrad\.config\.debug_nans is on\)\."
    )
    with fgrad.config.debugging_nans(), np.errstate(invalid="ignore"):  # noqa: SIM117
        with pytest.raises(FloatingPointError, match=expected):
            fgrad.grad(lambda x: fnp.sum(x * infinite_and_one))(np.zeros(2))


@pytest.mark.parametrize(
    "to_complex",
    [
        lambda x: x.astype(np.complex128),
        lambda x: x[0].astype(np.complex128),
    ],
    ids=["array", "scalar"],
)
def test_a_real_value_made_complex_gets_a_real_cotangent(to_complex: Any) -> None:
    """real(z) * (1 + 2j) made complex again: its cotangent must be the real part (1), not
    1 + 2j, or real()'s transpose would carry the imaginary part back to z."""

    def f(z: Any) -> Any:
        return fnp.sum(fnp.real(to_complex(fnp.real(z)) * (1 + 2j)))

    z = np.array([1.0 + 1j, 2.0 - 1j])
    grad = fgrad.grad(f)(z)
    expected = np.ones(2, complex) if np.ndim(to_complex(np.ones(2))) else np.array([1, 0j])
    np.testing.assert_array_equal(grad, expected, strict=True)


def test_a_complex_result_inside_grad_under_jit_keeps_real_cotangents() -> None:
    jitted = fgrad.jit(fgrad.grad(lambda x: fnp.real(fnp.sum(x.astype(np.complex128) * 2j))))
    np.testing.assert_array_equal(jitted(np.ones(2)), np.zeros(2), strict=True)
    jitted = fgrad.jit(fgrad.grad(lambda z: fnp.real(fnp.sum(fnp.real(z) * (1 + 2j)))))
    np.testing.assert_array_equal(jitted(np.ones(2, complex)), np.ones(2, complex), strict=True)


# ------------------------------------------ fgrad.transforms (run of commit 3dfa969, full text)


def test_a_complex_argument_gets_a_complex_gradient() -> None:
    grad = fgrad.grad(lambda z: fnp.sum(fnp.real(z)))(np.ones(2, dtype=np.complex128))
    np.testing.assert_array_equal(grad, np.ones(2, complex), strict=True)


def test_an_integer_argument_outside_a_dataclass_gets_no_static_hint() -> None:
    with pytest.raises(TypeError, match=r"or leave this argument out of argnums\.$"):
        fgrad.grad(lambda n: fnp.sum(n * 1.0))(np.array([1, 2]))


@pytest.mark.parametrize(
    ("output", "returned"),
    [
        (lambda x: (fnp.sum(x), fnp.sum(x)), r"a tuple"),
        (lambda x: x * 2.0, r"an array of shape \(2,\)"),
    ],
    ids=["tuple", "vector"],
)
def test_a_non_scalar_output_is_described_with_the_advice(output: Any, returned: str) -> None:
    expected = (
        rf"^grad\(.*<lambda>\): the function must return a scalar, but it returned {returned}\. "
        r"Reduce it to a scalar \(e\.g\. fgrad\.numpy\.sum or mean\), or use fgrad\.vjp / "
        r"fgrad\.jacobian for non-scalar outputs\.$"
    )
    with pytest.raises(TypeError, match=expected):
        fgrad.grad(output)(np.ones(2))


@pytest.mark.parametrize(
    ("output", "dtype"),
    [(lambda x: np.array(3), "int64"), (lambda x: "3", "str")],
    ids=["integer", "string"],
)
def test_a_scalar_output_that_is_not_a_float_is_refused(output: Any, dtype: str) -> None:
    expected = (
        r"^grad\(.*<lambda>\): the function must return a real floating-point scalar, but it "
        rf"returned dtype {dtype}\. Compute the result in floating point \(e\.g\. multiply by "
        r"1\.0 or use x\.astype\(float\)\)\.$"
    )
    with pytest.raises(TypeError, match=expected):
        fgrad.grad(output)(np.ones(2))


def test_has_aux_without_a_pair_is_refused_with_the_advice() -> None:
    expected = (
        r"^grad\(.*<lambda>\): with has_aux=True the function must return a pair "
        r"\(value, aux\), but it returned a float64\. Return \(value, aux\), or drop has_aux\.$"
    )
    with pytest.raises(TypeError, match=expected):
        fgrad.grad(lambda x: np.float64(1.0), has_aux=True)(np.ones(2))


def test_grad_and_value_and_grad_pass_keyword_arguments_on() -> None:
    def scaled(x: Any, *, scale: float) -> Any:
        return fnp.sum(x) * scale

    assert fgrad.grad(scaled)(np.ones(2), scale=3.0).tolist() == [3.0, 3.0]
    value, gradient = fgrad.value_and_grad(scaled)(np.ones(2), scale=3.0)
    assert value == 6.0 and gradient.tolist() == [3.0, 3.0]


FLOAT32_FACTORS = np.random.default_rng(0).uniform(0.5, 2.0, size=(3, 64)).astype(np.float32)


def product_of_float32_factors(x: Any) -> Any:
    return fnp.sum(x * FLOAT32_FACTORS[0] * FLOAT32_FACTORS[1] * FLOAT32_FACTORS[2])


def test_the_gradient_of_a_float32_function_is_computed_in_float32() -> None:
    """Seeded with a float32 one, as ``vjp`` seeded with a float32 cotangent: the same bits."""
    x = np.ones(64, dtype=np.float32)
    _, pullback = fgrad.vjp(product_of_float32_factors, x)
    expected = pullback(np.float32(1.0))[0]
    gradient = fgrad.grad(product_of_float32_factors)(x)
    assert gradient.dtype == np.float32
    np.testing.assert_array_equal(gradient, expected)
    float64_products = (
        FLOAT32_FACTORS[2].astype(np.float64) * FLOAT32_FACTORS[1]
    ) * FLOAT32_FACTORS[0]
    assert not np.array_equal(float64_products.astype(np.float32), expected)


NOT_A_FUNCTION = {
    "jacobian": lambda: fgrad.jacobian(3),
    "jacfwd": lambda: fgrad.jacfwd(3),
    "custom_vjp": lambda: fgrad.custom_vjp(3),
    "jvp": lambda: fgrad.jvp(3, (1.0,), (1.0,)),
    "vjp": lambda: fgrad.vjp(3, 1.0),
}


@pytest.mark.parametrize("name", sorted(NOT_A_FUNCTION))
def test_transforms_refuse_what_is_not_a_function(name: str) -> None:
    expected = (
        rf"^{name} expects a function to transform, got int 3\. Pass the function itself, "
        rf"e\.g\. fgrad\.{name}\(loss\)\(params\)\.$"
    )
    with pytest.raises(TypeError, match=expected):
        NOT_A_FUNCTION[name]()


def test_jvp_refuses_a_tangent_count_that_differs_from_the_primals() -> None:
    with pytest.raises(
        ValueError, match=r"^jvp\(cube\): 1 primals but 2 tangents\. Pass one tangent per primal\.$"
    ):
        fgrad.jvp(cube, (1.0,), (1.0, 2.0))


def test_argnums_errors_give_the_whole_advice() -> None:
    with pytest.raises(
        ValueError,
        match=r"^grad\(cube\): argnums is empty, so there is nothing to differentiate\. Name at "
        r"least one positional argument, e\.g\. argnums=0\.$",
    ):
        fgrad.grad(cube, argnums=())(1.0)
    with pytest.raises(
        ValueError,
        match=r"^grad\(cube\): argnums=1 is out of range: the function was called with 1 "
        rf"positional argument \(at {re.escape(__file__)}:\d+\)\. Use argument positions from 0 "
        r"to the number of positional arguments - 1 \(keyword arguments cannot be "
        r"differentiated\)\.$",
    ):
        fgrad.grad(cube, argnums=1)(1.0)


def test_jacfwd_names_itself_for_bad_argnums() -> None:
    with pytest.raises(ValueError, match=r"^jacfwd\(.*<lambda>\): argnums=3 is out of range"):
        fgrad.jacfwd(lambda x: x * 2.0, argnums=3)(np.ones(2))


def test_jacfwd_and_value_and_grad_wrap_the_function() -> None:
    for transform in (fgrad.jacfwd, fgrad.value_and_grad):
        transformed = transform(cube)
        assert transformed.__name__ == "cube" and transformed.__wrapped__ is cube


def test_a_tracer_leaked_from_hessian_names_hessian() -> None:
    leaked = []

    def stash(x: Any) -> Any:
        leaked.append(x)
        return fnp.sum(x**3)

    fgrad.hessian(stash)(np.ones(2))
    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=r"^'multiply' received a tracer created by hessian\(.*stash\) defined at ",
    ):
        leaked[-1] * 2.0


def test_custom_vjp_messages_say_what_to_do() -> None:
    with pytest.raises(
        TypeError,
        match=r"^custom_vjp\(cube\): the function has no VJP yet\. Call cube\.defvjp\(fwd, "
        r"bwd\) before using it\.$",
    ):
        fgrad.custom_vjp(cube)(np.ones(2))
    with pytest.raises(
        TypeError,
        match=r"^custom_vjp\(.*<lambda>\): fwd returned an output pytree whose leaf \[1\] is "
        rf"dtype int64 \(at {re.escape(__file__)}:\d+\); every output leaf of a custom rule "
        r"must be a floating-point array\. Compute integer or non-array results in a separate "
        r"function\.$",
    ):
        _pair_output()
    with pytest.raises(
        TypeError,
        match=r"^custom_vjp\(cube\): bwd must return a tuple with one cotangent per positional "
        r"argument \(1\), but it returned .*\. Return a tuple, e\.g\. \(g \* 2\.0,\) for one "
        r"argument\.$",
    ):
        _custom_cube(lambda x: (x**3, x), lambda res, g: 3 * res**2 * g)()


def test_jvp_refuses_tangents_unlike_the_primals() -> None:
    primal = {"a": np.ones(2)}
    with pytest.raises(
        ValueError, match=r"^jvp\(.*<lambda>\): tangent 0 does not match primal 0: "
    ):
        fgrad.jvp(lambda p: p["a"] * 2.0, (primal,), ({"b": np.ones(2)},))
    with pytest.raises(
        ValueError,
        match=r"^jvp\(cube\): tangent 0 has structure PyTreeDef\(\(\*, \*\)\), primal 0 has "
        r"PyTreeDef\(\*\)$",
    ):
        fgrad.jvp(cube, (1.0,), ((1.0, 2.0),))
    with pytest.raises(
        ValueError,
        match=r"^jvp\(.*<lambda>\): tangent 0\['a'\] has shape \(3,\), but the primal has shape "
        r"\(2,\)\. Tangents must match the primals' shapes\.$",
    ):
        fgrad.jvp(lambda p: p["a"] * 2.0, (primal,), ({"a": np.ones(3)},))


def test_a_failure_in_a_custom_rule_under_jvp_names_jvp_and_the_function() -> None:
    misshapen = fgrad.custom_vjp(cube)
    misshapen.defvjp(lambda x: (x**3, x), lambda res, g: (g * np.ones(3),))
    with pytest.raises(ValueError, match=r"^jvp\(cube\): 'multiply' failed on operands of shape"):
        fgrad.jvp(misshapen, (np.ones(2),), (np.ones(2),))


def test_vjp_with_aux_returns_the_aux_untraced() -> None:
    out, pullback, aux = fgrad.vjp(
        lambda x: (x * 2.0, {"total": fnp.sum(x)}), np.array([1.0, 2.0]), has_aux=True
    )
    assert out.tolist() == [2.0, 4.0]
    assert type(aux["total"]) is not fgrad.Tracer and float(aux["total"]) == 3.0
    assert pullback(np.ones(2))[0].tolist() == [2.0, 2.0]


def test_vjp_refuses_misshapen_and_ragged_cotangents_with_the_advice() -> None:
    _, pullback = fgrad.vjp(cube, np.ones(2))
    with pytest.raises(
        ValueError,
        match=r"^vjp\(cube\): the cotangent has shape \(3,\), but the output leaf has shape "
        r"\(2,\)\. Pass a cotangent shaped like the output \(e\.g\. numpy\.ones_like\(out\)\)\.$",
    ):
        pullback(np.ones(3))
    with pytest.raises(
        TypeError,
        match=r"^vjp\(cube\): the cotangent has dtype object, but the output leaf has dtype "
        r"float64\. Pass a real array \(or Python number\) of shape \(2,\)\.$",
    ):
        pullback([[1.0], [1.0, 2.0]])


def test_a_float64_cotangent_of_a_float32_output_is_pulled_back_in_float32() -> None:
    _, pullback = fgrad.vjp(product_of_float32_factors, np.ones(64, dtype=np.float32))
    np.testing.assert_array_equal(pullback(np.float64(1.0))[0], pullback(np.float32(1.0))[0])


def test_power_exponent_gradient_is_zero_at_a_zero_base() -> None:
    # d/dy 0**y = 0 * log(0): JAX's rule (and fgrad's) replaces the zero base before the log.
    x = np.array([0.0, 2.0, 0.0])
    y = np.array([2.0, 3.0, 1.5])
    got = fgrad.grad(lambda y: fnp.sum(fnp.power(x, y)))(y)
    np.testing.assert_array_equal(got[[0, 2]], [0.0, 0.0])
    np.testing.assert_allclose(got[1], 8.0 * np.log(2.0), rtol=1e-15)
    both = fgrad.grad(lambda x, y: fnp.sum(x**y), argnums=(0, 1))(x, y)
    assert np.all(np.isfinite(both[1])), both
