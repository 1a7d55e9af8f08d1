"""``fgrad.lax``: convolutions and windowed reductions against direct loops, derivatives to order 2.

Each registered case (``case(name, variant, fun, *args)``) goes through the machinery of the
NumPy registry (``tests/test_numpy_grads.py``: traced value equals plain value, ``check_grads``
to order 2 in both modes, ``jit`` replays bit for bit) and of the vmap sweep
(``tests/test_vmap.py``: forward and reverse against a loop, no fallback allowed). The values
are compared with direct loops over output positions written here (``reference_conv``,
``reference_reduce_window``). Exact tests follow for what finite differences cannot check
(ties in max pooling, NaNs) and for the error messages.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import test_numpy_grads as numpy_registry
import test_vmap as vmap_sweep

import fgrad
import fgrad.numpy as fnp
from fgrad import lax
from fgrad._core import Primitive
from fgrad._rules import conv as conv_rules
from fgrad._rules.declare import DECLARATIONS

REFERENCE_RTOL = 1e-12
"""Matrix products against the direct loop: summation order differs, nothing else."""
REFERENCE_ATOL = 1e-12

NHWC = ("NHWC", "HWIO", "NHWC")
_rng = np.random.default_rng(20241126)


def smooth(*shape: int) -> np.ndarray:
    return _rng.uniform(-1.5, 1.5, shape)


def distinct(*shape: int) -> np.ndarray:
    """No two values within 0.1: finite differences never cross a tie of a maximum."""
    return numpy_registry.distinct(*shape)


# --- direct loops: the reference ------------------------------------------------------------


def reference_conv(
    x: np.ndarray,
    w: np.ndarray,
    strides: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    lhs_dilation: tuple[int, ...],
    rhs_dilation: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """``NHWC``-style ``x (N, *S, C)`` and ``w (*K, I, O)``: a loop over outputs and taps."""
    nd = x.ndim - 2
    dilated_shape = [(n - 1) * d + 1 for n, d in zip(x.shape[1:-1], lhs_dilation)]
    dilated = np.zeros((x.shape[0], *dilated_shape, x.shape[-1]))
    dilated[(slice(None), *(slice(None, None, d) for d in lhs_dilation))] = x
    padded_shape = [n + lo + hi for n, (lo, hi) in zip(dilated_shape, pads)]
    padded = np.zeros((x.shape[0], *padded_shape, x.shape[-1]))
    target = tuple(
        slice(max(lo, 0), max(lo, 0) + n - max(-lo, 0) - max(-hi, 0))
        for n, (lo, hi) in zip(dilated_shape, pads)
    )
    source = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(dilated_shape, pads))
    padded[(slice(None), *target)] = dilated[(slice(None), *source)]
    kernel = w.shape[:nd]
    i_feat, o_feat = w.shape[-2:]
    o_group = o_feat // groups
    out_shape = [
        (n - (k - 1) * d - 1) // s + 1
        for n, k, d, s in zip(padded_shape, kernel, rhs_dilation, strides)
    ]
    out = np.zeros((x.shape[0], *out_shape, o_feat))
    for position in itertools.product(*map(range, out_shape)):
        for tap in itertools.product(*map(range, kernel)):
            at = tuple(p * s + t * d for p, s, t, d in zip(position, strides, tap, rhs_dilation))
            for g in range(groups):
                inputs = padded[(slice(None), *at, slice(g * i_feat, (g + 1) * i_feat))]
                weights = w[(*tap, slice(None), slice(g * o_group, (g + 1) * o_group))]
                out[(slice(None), *position, slice(g * o_group, (g + 1) * o_group))] += (
                    inputs @ weights
                )
    return out


def reference_reduce_window(
    x: np.ndarray,
    init: float,
    kind: str,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
) -> np.ndarray:
    padded = np.pad(x, pads, constant_values=init)
    reduce = {"add": np.sum, "max": np.max, "min": np.min}[kind]
    combine = {"add": np.add, "max": np.maximum, "min": np.minimum}[kind]
    out_shape = [
        (n - (w - 1) * d - 1) // s + 1
        for n, w, d, s in zip(padded.shape, window, dilation, strides)
    ]
    out = np.empty(out_shape)
    for position in itertools.product(*map(range, out_shape)):
        index = tuple(
            slice(p * s, p * s + (w - 1) * d + 1, d)
            for p, s, w, d in zip(position, strides, window, dilation)
        )
        out[position] = combine(reduce(padded[index]), init)
    return out


# --- case registry ---------------------------------------------------------------------------

CASES: list[Any] = []
VALUE_CASES: list[Any] = []
COVERED: set[str] = set()


def case(
    name: str, variant: str, fun: Callable[..., Any], reference: Callable[..., Any], *args: Any
) -> None:
    """Register ``fun(*args)``, a use of ``fgrad.lax.<name>``; ``reference`` is a direct loop."""
    COVERED.add(name)
    CASES.append(pytest.param(fun, args, id=f"{name}-{variant}"))
    VALUE_CASES.append(pytest.param(fun, reference, args, id=f"{name}-{variant}"))


def _conv_case(
    variant: str,
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    strides: tuple[int, ...],
    padding: Any,
    lhs_dilation: tuple[int, ...] | None = None,
    rhs_dilation: tuple[int, ...] | None = None,
    groups: int = 1,
) -> None:
    """A channels-last case (``x (N, *S, C)``, ``w (*K, I, O)``), spelled with string specs."""
    nd = len(x_shape) - 2
    spatial = "HWD"[:nd]
    specs = (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C")
    ones = (1,) * nd
    pads = tuple(
        lax.padtype_to_pads(
            x_shape[1:-1],
            [(k - 1) * d + 1 for k, d in zip(w_shape[:nd], rhs_dilation or ones)],
            strides,
            padding,
        )
        if isinstance(padding, str)
        else padding
    )

    def fun(x: Any, w: Any) -> Any:
        return lax.conv_general_dilated(
            x, w, strides, padding, lhs_dilation, rhs_dilation, specs, groups
        )

    def reference(x: Any, w: Any) -> Any:
        return reference_conv(
            x, w, strides, pads, lhs_dilation or ones, rhs_dilation or ones, groups
        )

    case("conv_general_dilated", variant, fun, reference, smooth(*x_shape), smooth(*w_shape))


_conv_case("2d_same", (2, 4, 4, 2), (3, 3, 2, 3), (1, 1), "SAME")
_conv_case("2d_valid_strided", (1, 5, 6, 2), (2, 3, 2, 2), (2, 3), "VALID")
_conv_case("2d_explicit_pads", (1, 4, 3, 1), (2, 2, 1, 2), (1, 2), ((1, 2), (2, 0)))
_conv_case("2d_negative_pads", (1, 5, 5, 1), (2, 2, 1, 1), (1, 1), ((-1, 1), (0, -2)))
_conv_case("2d_rhs_dilation", (1, 6, 5, 1), (2, 2, 1, 2), (1, 1), "SAME", rhs_dilation=(2, 3))
_conv_case("2d_lhs_dilation", (1, 3, 3, 2), (3, 3, 2, 1), (1, 1), ((2, 2), (1, 2)), (2, 2))
_conv_case("2d_groups", (1, 4, 4, 4), (2, 2, 2, 6), (1, 1), "SAME_LOWER", groups=2)
_conv_case("2d_depthwise", (2, 3, 4, 3), (2, 2, 1, 3), (1, 1), "VALID", groups=3)
_conv_case("1d", (2, 7, 2), (3, 2, 2), (2,), "SAME", rhs_dilation=(2,))
_conv_case("3d", (1, 3, 4, 3, 1), (2, 2, 2, 1, 2), (1, 2, 1), "VALID")
_conv_case("all_at_once", (2, 4, 5, 4), (3, 2, 2, 4), (2, 1), ((1, 2), (0, 1)), (1, 2), (2, 1), 2)


def _nchw_reference(x: Any, w: Any) -> Any:
    out = reference_conv(
        np.moveaxis(x, 1, -1), np.transpose(w, (2, 3, 1, 0)), (1, 2), ((1, 1), (0, 0)),
        (1, 1), (1, 1), 1,
    )  # fmt: skip
    return np.moveaxis(out, -1, 1)


case(
    "conv_general_dilated",
    "nchw_default_layout",
    lambda x, w: lax.conv_general_dilated(x, w, (1, 2), ((1, 1), (0, 0))),
    _nchw_reference,
    smooth(2, 2, 3, 4),
    smooth(3, 2, 2, 2),
)
case(
    "conv_general_dilated",
    "mixed_layouts",
    lambda x, w: lax.conv_general_dilated(
        x, w, (1, 1), "VALID", dimension_numbers=("NCHW", "HWIO", "NHWC")
    ),
    lambda x, w: reference_conv(
        np.moveaxis(x, 1, -1), w, (1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1), 1
    ),
    smooth(1, 2, 4, 3),
    smooth(2, 2, 2, 3),
)
case(
    "conv",
    "nchw",
    lambda x, w: lax.conv(x, w, (1, 1), "SAME"),
    lambda x, w: np.moveaxis(
        reference_conv(
            np.moveaxis(x, 1, -1),
            np.transpose(w, (2, 3, 1, 0)),
            (1, 1),
            ((0, 1), (1, 1)),
            (1, 1),
            (1, 1),
            1,
        ),
        -1,
        1,
    ),  # fmt: skip
    smooth(1, 2, 3, 4),
    smooth(2, 2, 2, 3),
)


def _pool_case(
    variant: str,
    kind: str,
    x: np.ndarray,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    padding: Any,
    dilation: tuple[int, ...] | None = None,
) -> None:
    init = {"add": 0.0, "max": -np.inf, "min": np.inf}[kind]
    computation = {"add": lax.add, "max": lax.max, "min": lax.min}[kind]
    dil = dilation or (1,) * x.ndim
    pads = (
        tuple(lax.padtype_to_pads(x.shape, [(w - 1) * d + 1 for w, d in zip(window, dil)],
                                  strides, padding))
        if isinstance(padding, str)
        else padding
    )  # fmt: skip
    case(
        "reduce_window",
        f"{kind}_{variant}",
        lambda x: lax.reduce_window(x, init, computation, window, strides, padding, None, dilation),
        lambda x: reference_reduce_window(x, init, kind, window, strides, pads, dil),
        x,
    )


_pool_case("2x2", "max", distinct(2, 4, 4, 2), (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
_pool_case("overlapping_same", "max", distinct(1, 5, 4, 2), (1, 3, 2, 1), (1, 2, 1, 1), "SAME")
_pool_case("dilated", "max", distinct(1, 6, 5), (1, 2, 2), (1, 1, 2), "VALID", (1, 2, 2))
_pool_case("2x2", "min", distinct(1, 4, 4, 1), (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
_pool_case("overlapping", "add", smooth(2, 5, 4, 2), (1, 3, 2, 1), (1, 1, 2, 1), "SAME")
_pool_case("pads", "add", smooth(3, 4), (2, 3), (2, 1), ((1, 0), (2, 1)), (1, 2))
_pool_case("1d", "add", smooth(7), (3,), (2,), "VALID")


# --- the registry's tests --------------------------------------------------------------------


@pytest.mark.parametrize(("fun", "reference", "args"), VALUE_CASES)
def test_values_match_a_direct_loop(
    fun: Callable[..., Any], reference: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    ours, theirs = np.asarray(fun(*args)), reference(*args)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_grads(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    numpy_registry.check_values_and_grads(fun, args)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_jit_replays_gradients_bit_identical_to_eager(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    numpy_registry.check_jit_replays(fun, args)


@pytest.mark.filterwarnings("error::fgrad.BatchingFallbackWarning")
@pytest.mark.parametrize(("fun", "args"), CASES)
def test_vmap_matches_a_loop_forward_and_reverse(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    vmap_sweep.test_vmap_matches_a_loop_forward_and_reverse(fun, args)


def test_every_lax_function_is_covered() -> None:
    declared = DECLARATIONS["lax"]
    assert all(d.differentiability == "differentiable" for d in declared.values())
    assert set(declared) == COVERED


def test_every_conv_primitive_has_a_batching_rule() -> None:
    primitives = [
        value
        for value in [*vars(conv_rules).values(), conv_rules._first_max_mask.primitive]  # type: ignore[attr-defined]
        if isinstance(value, Primitive)
    ]
    assert {p.name for p in primitives} == {"windows", "fold", "window_max", "window_first_max"}
    assert all(p.batch is not None for p in primitives)


def test_namespace_exports_and_names_a_missing_function() -> None:
    for name, entry in DECLARATIONS["lax"].items():
        assert getattr(lax, name) is entry.fn
    # (pytest's assertion rewriting may add '@py_builtins' to a module it collects)
    public = {n for n in vars(lax) if n.isidentifier() and not n.startswith("_")}
    assert set(lax.__all__) == public
    assert lax.max is fnp.maximum and lax.add is fnp.add and lax.min is fnp.minimum
    with pytest.raises(AttributeError, match=r"no attribute 'conv_transpose'; it has .*conv"):
        lax.conv_transpose  # noqa: B018


# --- exact tests -------------------------------------------------------------------------------


def _max_pool(x: Any, window: int = 2, stride: int = 2) -> Any:
    return lax.reduce_window(x, -np.inf, lax.max, (window, window), (stride, stride), "VALID")


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie_whole() -> None:
    x = np.array([[1.0, 3.0, 0.0, 0.0], [3.0, 3.0, 0.0, 0.0]])
    grad = fgrad.grad(lambda x: fnp.sum(_max_pool(x)))(x)
    # JAX's select_and_scatter_add keeps the first maximum in row-major window order
    np.testing.assert_array_equal(grad, [[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_overlapping_max_windows_accumulate_on_a_shared_maximum() -> None:
    x = np.array([[0.0, 5.0, 0.0], [1.0, 2.0, 3.0]])
    grad = fgrad.grad(lambda x: fnp.sum(_max_pool(x, 2, 1) * np.array([[2.0, 7.0]])))(x)
    np.testing.assert_array_equal(grad, [[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])


def test_max_pool_second_derivative_is_zero_and_forward_mode_routes_tangents() -> None:
    x = distinct(4, 4)
    hess = fgrad.hessian(lambda x: fnp.sum(_max_pool(x) ** 1))(x)
    np.testing.assert_array_equal(hess, np.zeros((4, 4, 4, 4)))
    tangent = smooth(4, 4)
    _, out_tangent = fgrad.jvp(_max_pool, (x,), (tangent,))
    winners = _max_pool(x)[..., None, None] == x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3)
    expected = (tangent.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3) * winners).sum((-1, -2))
    np.testing.assert_array_equal(out_tangent, expected)


def test_max_pool_of_a_nan_is_nan_and_the_nan_gets_the_gradient() -> None:
    x = np.array([[1.0, np.nan], [3.0, 2.0]])
    value, grad = fgrad.value_and_grad(lambda x: fnp.sum(_max_pool(x)))(x)
    assert np.isnan(value)
    np.testing.assert_array_equal(grad, [[0.0, 1.0], [0.0, 0.0]])


def test_same_padding_with_minus_infinity_never_wins_a_window() -> None:
    x = -np.arange(1.0, 10.0).reshape(3, 3) - 100
    out, grad = fgrad.value_and_grad(
        lambda x: fnp.sum(lax.reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "SAME"))
    )(x)
    assert out == -101 - 103 - 107 - 109
    np.testing.assert_array_equal(grad, [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])


def test_init_values_other_than_the_identity_join_every_window() -> None:
    x = np.array([[-1.0, -2.0], [0.5, -3.0]])
    out = lax.reduce_window(x, 0.0, lax.max, (1, 2), (1, 2), "VALID")
    np.testing.assert_array_equal(out, [[0.0], [0.5]])
    out = lax.reduce_window(x, 10.0, lax.add, (2, 1), (1, 1), "VALID")
    np.testing.assert_array_equal(out, [[9.5, 5.0]])


def test_integer_inputs_pool_and_convolve_without_gradients() -> None:
    x = np.arange(16).reshape(1, 4, 4, 1)
    pooled = lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
    np.testing.assert_array_equal(pooled[0, :, :, 0], [[5, 7], [13, 15]])
    assert pooled.dtype == x.dtype
    out = lax.conv_general_dilated(x, np.ones((2, 2, 1, 1), int), (2, 2), "VALID",
                                   dimension_numbers=NHWC)  # fmt: skip
    np.testing.assert_array_equal(out[0, :, :, 0], [[10, 18], [42, 50]])


def test_float32_stays_float32_and_replays_under_jit() -> None:
    x, w = smooth(2, 5, 5, 1).astype(np.float32), smooth(3, 3, 1, 4).astype(np.float32)

    def loss(w: Any, x: Any) -> Any:
        h = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)
        return fnp.sum(lax.reduce_window(h, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME"))

    grad = fgrad.grad(loss)(w, x)
    assert grad.dtype == np.float32
    jitted = fgrad.jit(fgrad.grad(loss))
    for _ in range(3):
        np.testing.assert_array_equal(jitted(w, x), grad)
    assert jitted.stats.replays == 2


def test_vmap_of_per_example_kernels_batches_without_a_loop() -> None:
    xs, ws = smooth(3, 1, 4, 4, 2), smooth(3, 2, 2, 2, 3)

    def one(x: Any, w: Any) -> Any:
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)

    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.BatchingFallbackWarning)
        batched = fgrad.vmap(one)(xs, ws)
        grads = fgrad.vmap(fgrad.grad(lambda x, w: fnp.sum(one(x, w) ** 2), argnums=1))(xs, ws)
    for k in range(3):
        np.testing.assert_allclose(batched[k], one(xs[k], ws[k]), rtol=1e-12, atol=1e-12)
        expected = fgrad.grad(lambda w, x: fnp.sum(one(x, w) ** 2))(ws[k], xs[k])
        np.testing.assert_allclose(grads[k], expected, rtol=1e-12, atol=1e-12)


def test_a_conv_matches_jax_semantics_on_a_known_transposed_convolution() -> None:
    # lhs dilation 2 with pads k - 1 is the transposed convolution of stride 2 (1-D, one tap
    # per output): each input spreads w over its strided position.
    x, w = np.array([[[1.0], [2.0]]]), np.array([[[1.0]], [[10.0]]])
    out = lax.conv_general_dilated(x, w, (1,), ((1, 1),), (2,), None, ("NHC", "HIO", "NHC"))
    np.testing.assert_array_equal(out[0, :, 0], [10.0, 1.0, 20.0, 2.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lax.conv(np.ones((1, 2, 4)), np.ones((1, 3, 2)), (1,), "VALID"),
         r"input has 2 features and the kernel takes 3 in 1 group"),
        (lambda: lax.conv(np.ones((1, 1, 4)), np.ones((1, 1, 5)), (1,), "VALID"),
         r"spatial axis 0 of the input has 4 entries, 4 after .* fewer than the kernel's span 5"),
        (lambda: lax.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (0,), "VALID"),
         r"window_strides must be 1 ints >= 1"),
        (lambda: lax.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (1,), "FULL"),
         r"padding must be 'SAME', 'SAME_LOWER', 'VALID'"),
        (lambda: lax.conv(np.ones((1, 1, 4)), np.ones((1, 1, 2)), (1,), [(1, 1), (0, 0)]),
         r"padding needs 1 \(low, high\) pairs, got 2"),
        (lambda: lax.conv(np.ones((1, 4)), np.ones((1, 4)), (), "VALID"),
         r"at least 3 \(batch, feature, one spatial axis or more\)"),
        (lambda: lax.conv_general_dilated(np.ones((1, 4, 1)), np.ones((2, 1, 1)), (1,), "VALID",
                                          dimension_numbers=("NHC", "HIX", "NHC")),
         r"the kernel spec 'HIX' must name each of the 3 axes once and contain 'O' and 'I'"),
        (lambda: lax.reduce_window(np.ones(3), 0.0, np.multiply, (2,), (1,), "VALID"),
         r"computation must be fgrad.lax.add, fgrad.lax.max or fgrad.lax.min"),
        (lambda: lax.reduce_window(np.ones(3), 0.0, lax.add, (2, 2), (1,), "VALID"),
         r"window_dimensions must be 1 ints >= 1"),
        (lambda: lax.reduce_window(np.ones(3), 0.0, lax.add, (4,), (1,), "VALID"),
         r"the window of 4 \(dilation 1\) is larger than axis 0 of size 3"),
        (lambda: lax.reduce_window(np.ones(3), np.zeros(2), lax.add, (2,), (1,), "VALID"),
         r"init_value must be a plain scalar"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(call: Callable[[], Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_conv_work_is_one_matrix_product_per_call() -> None:
    x, w = smooth(2, 6, 6, 3), smooth(3, 3, 3, 4)
    graph = fgrad.graph.trace_graph(
        lambda x, w: fnp.sum(
            lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)
        ),
        x,
        w,
    )
    ops = [node.op for node in graph.nodes]
    assert ops.count("matmul") == 1
    assert ops.count("windows") == 1
