"""One test per row of docs/errors.md: type, key parts of the message, and the next call works."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad import _core, datasets, nn, optim
from fgrad.tree import register_dataclass, tree_map

HERE = re.escape(__file__)
GRADIENT_RTOL = 1e-12
"""Gradients compared after an error are computed the same way as before it."""


def next_call_works() -> None:
    assert _core._depth.depth == 0
    np.testing.assert_allclose(
        fgrad.grad(lambda x: fnp.sum(fnp.sin(x)))(np.array([0.1, 0.2])),
        np.cos([0.1, 0.2]),
        rtol=GRADIENT_RTOL,
    )


def raises(exc: type[BaseException], *patterns: str) -> Any:
    """Like pytest.raises, then check that every regex pattern is found in the message."""

    class Check:
        def __enter__(self) -> Any:
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc_info: Any) -> bool:
            handled = self.ctx.__exit__(*exc_info)
            message = str(self.info.value)
            for pattern in patterns:
                assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
            next_call_works()
            return bool(handled)

    return Check()


# 1 --------------------------------------------------------------------------------------------


def complex_square(a: Any) -> Any:
    return fnp.sum((a + 1j * 0.3) ** 2)


def complex_phase(x: Any) -> Any:
    return fnp.abs(fnp.sum(fnp.exp(1j * x) * 2.0)) ** 2


@pytest.mark.parametrize(
    "transform", [fgrad.grad, fgrad.value_and_grad, fgrad.jacobian, fgrad.hessian]
)
def test_complex_output_needs_holomorphic(transform: Any) -> None:
    name = transform.__name__
    with raises(
        TypeError,
        rf"^{name}\(complex_square\): the function returned a complex value \(output of dtype "
        r"complex128\)",
        "For a holomorphic function pass holomorphic=True",
        r"use fgrad\.vjp directly\.$",
    ):
        transform(complex_square)(np.array([0.5, 0.2]))


def test_complex_intermediates_differentiate_in_vjp_and_jit() -> None:
    x = np.array([0.5, 0.2])
    # |2 (e^{i x0} + e^{i x1})|**2 = 8 + 8 cos(x0 - x1)
    expected = np.array([-8.0, 8.0]) * np.sin(x[0] - x[1])
    np.testing.assert_allclose(fgrad.grad(complex_phase)(x), expected, rtol=GRADIENT_RTOL)
    np.testing.assert_allclose(fgrad.vjp(complex_phase, x)[1](1.0)[0], expected, rtol=1e-12)
    np.testing.assert_allclose(fgrad.jit(fgrad.grad(complex_phase))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(fgrad.grad(lambda x: fnp.abs(x * 1j))(0.5), 1.0, rtol=0)


def test_complex_without_differentiation_is_allowed_under_jit() -> None:
    x = np.array([0.5, 0.2])
    assert fgrad.jit(complex_phase)(x) == complex_phase(x)


# 2 --------------------------------------------------------------------------------------------


def test_holomorphic_with_a_real_argument() -> None:
    with raises(
        TypeError,
        r"^grad\(.*<lambda>\): argument 0 has dtype float64, but holomorphic=True requires "
        "complex inputs",
        rf"\(at {HERE}:\d+\)",
    ):
        fgrad.grad(lambda z: z * z, holomorphic=True)(1.0)


# 3 --------------------------------------------------------------------------------------------


def mismatched_matmul(x: Any) -> Any:
    return fnp.sum(x @ np.ones((3, 2)))


def test_shape_mismatch_names_op_shapes_and_line() -> None:
    with raises(
        ValueError,
        r"^grad\(mismatched_matmul\): 'matmul' failed on operands of shape and dtype "
        r"\(2, 2\) float64 and \(3, 2\) float64",
        rf"\(at {HERE}:\d+\)",
        "core dimension",
    ) as info:
        fgrad.grad(mismatched_matmul)(np.ones((2, 2)))
    assert isinstance(info.value.__cause__, ValueError)


def test_broadcast_mismatch_under_jit_and_nested() -> None:
    def add(x: Any) -> Any:
        return fnp.sum(x + np.ones(3))

    with raises(ValueError, r"^jit\(.*add\): 'add' failed on operands .*\(2,\) float64 and \(3,\)"):
        fgrad.jit(add)(np.ones(2))
    with raises(ValueError, r"^grad\(.*add\): 'add' failed") as info:
        fgrad.grad(fgrad.grad(add))(np.ones(2))
    assert str(info.value).count("failed on") == 1


# 4, 5 -----------------------------------------------------------------------------------------


def test_vjp_accepts_python_scalars_and_array_likes() -> None:
    _, pullback = fgrad.vjp(lambda x: x + 1.8, 0.7)
    (g,) = pullback(1.0)
    assert g.dtype == np.float64 and float(g) == 1.0
    _, pullback = fgrad.vjp(lambda x: 2.0 * x, np.ones(2, np.float32))
    (g,) = pullback([1, 3])
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 6.0])


def test_vjp_wrong_cotangent() -> None:
    _, pullback = fgrad.vjp(lambda x: x * 2.0, np.ones(3))
    with raises(ValueError, r"^vjp\(.*<lambda>\): the cotangent has shape \(2,\)", r"shape \(3,\)"):
        pullback(np.ones(2))
    with raises(ValueError, r"the cotangent has shape \(1, 3\)"):
        pullback((np.ones(3),))
    with raises(TypeError, r"dtype complex128, but the output leaf has dtype float64"):
        pullback(np.ones(3) * 1j)
    _, pullback = fgrad.vjp(lambda x: {"a": x}, np.ones(3))
    with raises(ValueError, r"the cotangent leaf \['a'\] has shape \(\)"):
        pullback({"a": 1.0})
    with raises(ValueError, r"^vjp\(.*<lambda>\): the cotangent passed to vjp_fn has structure"):
        pullback([np.ones(3)])


# 6 --------------------------------------------------------------------------------------------


def test_non_scalar_output() -> None:
    with raises(
        TypeError,
        r"^grad\(.*<lambda>\): the function must return a scalar, but it returned an array of "
        r"shape \(3,\)",
        "fgrad.vjp / fgrad.jacobian",
    ):
        fgrad.grad(lambda x: x * 2.0)(np.ones(3))


# 7 --------------------------------------------------------------------------------------------


def square(x: Any) -> Any:
    return fnp.sum(x * x)


TRANSFORMS: dict[str, Callable[[Any, Any], Any]] = {
    "grad": lambda f, x: fgrad.grad(f)(x),
    "value_and_grad": lambda f, x: fgrad.value_and_grad(f)(x),
    "vjp": lambda f, x: fgrad.vjp(f, x),
    "jvp": lambda f, x: fgrad.jvp(f, (x,), (x,)),
    "jacobian": lambda f, x: fgrad.jacobian(f)(x),
    "jacrev": lambda f, x: fgrad.jacrev(f)(x),
    "jacfwd": lambda f, x: fgrad.jacfwd(f)(x),
    "hessian": lambda f, x: fgrad.hessian(f)(x),
    "check_grads": lambda f, x: fgrad.check_grads(f, (x,)),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        ({"w": np.arange(3)}, "int64"),
        ({"w": np.array([True])}, "bool"),
        ({"w": np.array([1.0], dtype=object)}, "object"),
    ],
)
def test_non_float_argument_names_transform_function_and_path(
    name: str, value: Any, dtype: str
) -> None:
    transform = "jacobian" if name == "jacrev" else name
    with raises(
        TypeError,
        rf"^{transform}\(square\): argument 0\['w'\] has dtype {dtype}",
        "Pass floats",
    ) as info:
        TRANSFORMS[name](_named_square_of_w, value)
    assert "partial_fun" not in str(info.value) and "<locals>" not in str(info.value)


def _named_square_of_w(p: Any) -> Any:
    return square(p["w"])


_named_square_of_w.__qualname__ = "square"


def test_python_int_argument() -> None:
    with raises(TypeError, r"^hessian\(square\): argument 0 has dtype int64", "1.0 instead of 1"):
        fgrad.hessian(square)(3)


# 8, 9 -----------------------------------------------------------------------------------------


@register_dataclass
@dataclasses.dataclass
class LayerWithName:
    w: Any
    activation: str


@register_dataclass(static=("activation",))
@dataclasses.dataclass
class LayerWithStaticName:
    w: Any
    activation: str


def layer_loss(layer: Any) -> Any:
    return fnp.sum(getattr(fnp, layer.activation)(layer.w))


def test_str_leaf_in_params() -> None:
    with raises(
        TypeError,
        r"^grad\(layer_loss\): argument 0\.activation is a str \('tanh'\), not an array",
        r"static=\('activation',\)",
    ):
        fgrad.grad(layer_loss)(LayerWithName(np.ones(2), "tanh"))
    with raises(TypeError, r"^grad\(.*<lambda>\): argument 0\.activation is a str \('float32'\)"):
        fgrad.grad(lambda layer: fnp.sum(layer.w))(LayerWithName(np.ones(2), "float32"))
    g = fgrad.grad(layer_loss)(LayerWithStaticName(np.zeros(2), "tanh"))
    assert g.activation == "tanh"
    np.testing.assert_allclose(g.w, [1.0, 1.0], rtol=GRADIENT_RTOL)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_init_rejects_str_leaf(name: str) -> None:
    opt = optim.sgd(0.1, momentum=0.9) if name == "sgd" else getattr(optim, name)(0.1)
    with raises(TypeError, rf"^{name}\.init: params\.activation is a str \('tanh'\)", "static"):
        opt.init(LayerWithName(np.ones(2), "tanh"))
    state = opt.init(LayerWithStaticName(np.ones(2), "tanh"))
    assert fgrad.tree.tree_leaves(state)[-1].shape == (2,)


# 10 -------------------------------------------------------------------------------------------


def test_params_are_read_only() -> None:
    params = optim.sgd_update({"w": np.ones(2)}, {"w": np.ones(2)}, lr=0.1)
    with raises(ValueError, "read-only"):
        params["w"][0] = 3.0
    frozen = nn.freeze({"w": np.ones(2)})
    with raises(ValueError, "read-only"):
        frozen["w"] -= 1.0
    new = tree_map(lambda p: p - 1.0, frozen)
    np.testing.assert_array_equal(new["w"], [0.0, 0.0])


# 11 -------------------------------------------------------------------------------------------


def two_args(x: Any, y: Any) -> Any:
    return x * y


def test_argnums() -> None:
    with raises(ValueError, r"^grad\(two_args\): argnums=3 is out of range", "2 positional"):
        fgrad.grad(two_args, argnums=3)(1.0, 2.0)
    with raises(ValueError, r"^grad\(two_args\): argnums=\(0, -2\) names the same argument"):
        fgrad.grad(two_args, argnums=(0, -2))(1.0, 2.0)
    with raises(TypeError, r"^jacobian\(two_args\): argnums must be ints, got '0'"):
        fgrad.jacobian(two_args, argnums=("0",))(1.0, 2.0)  # type: ignore[arg-type]


# 12 -------------------------------------------------------------------------------------------


def test_tree_mismatch_names_path() -> None:
    with raises(ValueError, r"^tree_map: structure mismatch at rest\[0\]\['b'\]"):
        tree_map(lambda a, b: a, {"b": (1, 2)}, {"b": [1, 2]})
    with raises(ValueError, r"^sgd_update: params and grads differ: .*rest\[0\]"):
        optim.sgd_update({"a": np.ones(1)}, {"b": np.ones(1)}, 0.1)
    with raises(ValueError, r"^apply_updates: params and updates differ"):
        optim.apply_updates({"a": np.ones(1)}, [np.ones(1)])
    opt = optim.adam(0.1)
    state = opt.init({"a": np.ones(1)})
    with raises(ValueError, r"^adam\.update: grads differ from the state"):
        opt.update({"a": np.ones(1), "b": np.ones(1)}, state)


# 13 -------------------------------------------------------------------------------------------


def test_missing_rule_names_numpy_function() -> None:
    with raises(TypeError, r"^numpy\.fft\.hfft was called on a traced array but has no gradient"):
        fgrad.grad(lambda x: np.sum(np.fft.hfft(x)))(np.ones(3))


# 14 -------------------------------------------------------------------------------------------


def test_has_aux_and_not_callable() -> None:
    with raises(TypeError, r"^grad\(square\): with has_aux=True the function must return a pair"):
        fgrad.grad(square, has_aux=True)(np.ones(2))
    with raises(TypeError, r"^grad expects a function to transform, got ndarray"):
        fgrad.grad(np.ones(2))  # type: ignore[arg-type]


# 15 -------------------------------------------------------------------------------------------


def test_in_place_write_into_tracer() -> None:
    def write(x: Any) -> Any:
        x[0] = 1.0
        return fnp.sum(x)

    with raises(TypeError, r"In-place assignment into a traced array"):
        fgrad.grad(write)(np.ones(3))
    with raises(TypeError, r"test_errors\.py:\d+\)\. Use the functional update.*"
                r"x\.at\[idx\]\.set\(v\)"):  # fmt: skip
        fgrad.grad(write)(np.ones(3))

    def write_out(x: Any) -> Any:
        out = np.zeros(3)
        np.add(out, x, out=out)
        return fnp.sum(x)

    with raises(TypeError, r"write into an existing array \(out=\)"):
        fgrad.grad(write_out)(np.ones(3))


# 16 -------------------------------------------------------------------------------------------


def test_leaked_tracer() -> None:
    leaked = []

    def keep(x: Any) -> Any:
        leaked.append(x)
        return fnp.sum(x)

    fgrad.grad(keep)(np.ones(2))
    with raises(
        _core.UnexpectedTracerError,
        r"^'sin' received a tracer created by grad\(test_leaked_tracer.<locals>.keep\) defined "
        rf"at {HERE}:\d+ after that transform returned \(at {HERE}:\d+\)",
    ):
        fnp.sin(leaked[0])


# 17 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("convert", "error"), [(bool, ValueError), (float, TypeError), (int, TypeError)]
)
def test_python_scalar_of_non_scalar_tracer(convert: Any, error: type[Exception]) -> None:
    def scaled(x: Any) -> Any:
        return fnp.sum(x) * convert(x)

    with raises(
        error,
        r"^grad\(test_python_scalar_of_non_scalar_tracer.<locals>.scaled\): "
        rf"{convert.__name__}\(\) of a traced array of shape \(3,\) \(at {HERE}:\d+\)",
        "only an array holding one number converts",
    ):
        fgrad.grad(scaled)(np.ones(3))


# 18 -------------------------------------------------------------------------------------------


def sqrt_times_zero(x: Any) -> Any:
    root = fnp.sqrt(x)
    return fnp.sum(root * 0.0)


def test_debug_nans_forward_names_primitive_and_line() -> None:
    with fgrad.config.debugging_nans(), np.errstate(invalid="ignore"):  # noqa: SIM117
        with raises(
            FloatingPointError,
            r"^NaN produced by the forward pass of 'log' \(the operation was called at "
            rf"{HERE}:\d+\)",
        ):
            fgrad.grad(lambda x: fnp.sum(fnp.log(x)))(np.array([-1.0, 1.0]))
    assert not fgrad.config.checking


def test_debug_nans_backward_names_primitive_and_line() -> None:
    line = sqrt_times_zero.__code__.co_firstlineno + 1
    with fgrad.config.debugging_nans(), np.errstate(divide="ignore", invalid="ignore"):  # noqa: SIM117
        with raises(
            FloatingPointError,
            rf"^NaN produced by the VJP of 'sqrt' \(the operation was called at {HERE}:{line}\)",
        ):
            fgrad.grad(sqrt_times_zero)(np.array([0.0, 1.0]))


def test_debug_infs() -> None:
    log_sum = fgrad.grad(lambda x: fnp.sum(fnp.log(x)))
    with fgrad.config.debugging_nans(), np.errstate(divide="ignore"):
        assert np.isinf(log_sum(np.array([0.0, 1.0]))[0])
    with fgrad.config.debugging_infs(), np.errstate(divide="ignore"):  # noqa: SIM117
        with raises(
            FloatingPointError, r"^inf produced by the forward pass of 'log'", "debug_infs"
        ):
            log_sum(np.array([0.0, 1.0]))
    fgrad.config.debug_infs = True
    try:
        assert fgrad.config.checking
    finally:
        fgrad.config.debug_infs = False
    assert not fgrad.config.checking


# 19 -------------------------------------------------------------------------------------------


def test_custom_vjp_errors_name_function() -> None:
    @fgrad.custom_vjp
    def scaled(x: Any) -> Any:
        return 2.0 * x

    with raises(TypeError, r"^custom_vjp\(test_custom_vjp_errors_name_function.<locals>.scaled\)"):
        fgrad.grad(scaled)(1.0)
    scaled.defvjp(lambda x: 2.0 * x, lambda res, g: (2.0 * g,))
    with raises(TypeError, r"^custom_vjp\(.*scaled\): fwd must return a pair \(out, residuals\)"):
        fgrad.grad(scaled)(1.0)
    scaled.defvjp(lambda x: (2.0 * x, None), lambda res, g: 2.0 * g)
    with raises(TypeError, r"^custom_vjp\(.*scaled\): bwd must return a tuple"):
        fgrad.grad(scaled)(1.0)


# 20 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: datasets.make_moons(-1), r"^make_moons: n_samples must be >= 1, got -1"),
        (lambda: datasets.make_moons((-1, 3)), r"^make_moons: n_samples\[0\] must be >= 0"),
        (lambda: datasets.make_blobs(-1), r"^make_blobs: n_samples must be >= 1, got -1"),
        (lambda: datasets.make_blobs(10, n_features=-1), r"^make_blobs: n_features must be >= 1"),
        (lambda: datasets.make_blobs(10, centers=-2), r"^make_blobs: centers must be >= 1"),
        (
            lambda: list(datasets.batches(fgrad.random.key(0), np.ones(4), np.ones(4), 0)),
            r"^batches: batch_size must be >= 1, got 0",
        ),
        (
            lambda: datasets.train_test_split(np.ones(4), test_size=-1),
            r"^test_size=-1 must be a positive int",
        ),
    ],
)
def test_dataset_sizes(call: Any, pattern: str) -> None:
    with raises(ValueError, pattern):
        call()


# depth restored after an error inside every transform -----------------------------------------


def fails_inside(x: Any) -> Any:
    fnp.sin(x)
    raise RuntimeError("user error")


@pytest.mark.parametrize(
    "run",
    [
        lambda: fgrad.grad(fails_inside)(1.0),
        lambda: fgrad.value_and_grad(fails_inside)(1.0),
        lambda: fgrad.vjp(fails_inside, 1.0),
        lambda: fgrad.jvp(fails_inside, (1.0,), (1.0,)),
        lambda: fgrad.jacobian(fails_inside)(1.0),
        lambda: fgrad.jacfwd(fails_inside)(1.0),
        lambda: fgrad.hessian(fails_inside)(1.0),
        lambda: fgrad.check_grads(fails_inside, (1.0,)),
        lambda: fgrad.jit(fails_inside)(np.ones(1)),
        lambda: fgrad.jit(fgrad.grad(fails_inside))(np.ones(())),
        lambda: fgrad.grad(fgrad.grad(fails_inside))(1.0),
    ],
)
def test_trace_depth_restored_after_user_error(run: Any) -> None:
    with raises(RuntimeError, "^user error$"):
        run()
