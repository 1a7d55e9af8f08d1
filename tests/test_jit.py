"""fgrad.jit: replays are bit-identical to eager calls, guards catch every value read."""

from __future__ import annotations

import gc
import re

import numpy as np
import pytest

import fgrad
import fgrad._jit as jit_module
import fgrad.numpy as fnp
from fgrad._compat import NUMPY_2
from fgrad._core import Primitive, bind1, concrete
from fgrad._jit import _CODEGEN_LIMIT
from fgrad._rules.declare import plain_values


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
    f = fgrad.jit(lambda x, k: fnp.sum(x**k), static_argnums=1)
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
    with pytest.warns(fgrad.JitRetraceWarning, match="the value read at"):
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


def test_code_is_generated_on_the_first_replay_not_when_tracing(monkeypatch):
    generated = []
    generate = jit_module._generate

    def counting(*args, **kwargs):
        generated.append(1)
        return generate(*args, **kwargs)

    monkeypatch.setattr(jit_module, "_generate", counting)
    f = lambda x: fnp.exp(x) * 2.0 + 1.0  # noqa: E731
    jf = fgrad.jit(f)
    assert_bits_identical(jf(np.ones(2)), f(np.ones(2)))
    assert generated == []
    for k in range(3):
        x = np.full(2, 0.5 * k)
        assert_bits_identical(jf(x), f(x))
    assert generated == [1]
    assert jf.stats.traces == 1 and jf.stats.replays == 3


def _compiler_gives_up(*args, **kwargs):
    raise RecursionError("maximum recursion depth exceeded during compilation")


def _long_chain(x):
    for _ in range(_CODEGEN_LIMIT):
        x = x * 1.0001 + 0.1
    return x


def test_a_short_program_too_large_for_cpython_is_interpreted(monkeypatch):
    monkeypatch.setattr(jit_module, "_generate", _compiler_gives_up)
    f = lambda x: fnp.tanh(x) * 3.0 - x  # noqa: E731
    jf = fgrad.jit(f)
    for k in range(3):
        x = np.full(3, 0.25 * k)
        assert_bits_identical(jf(x), f(x))
    assert not jf.sources()[0].startswith("def replay")
    assert jf.stats.replays == 2


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
    # A compiled replay passes each parameter as a keyword argument bound to a global.
    (held,) = [v for k, v in program.replay.__globals__.items() if k.endswith("_residuals")]
    assert isinstance(held.value, np.ndarray) and held.value.shape == (3,)


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


# --- operand kinds: a replay hands every implementation what tracing handed it ---------


def kind_of(value):
    """Container type, dtype and shape (of each item of a tuple or list)."""
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(kind_of(v) for v in value))
    return (type(value), getattr(value, "dtype", None), np.shape(value))


@pytest.fixture
def operand_log(monkeypatch):
    """Every call of a primitive's implementation, as ``(name, operand kinds)``."""
    log = []
    for prim in [obj for obj in gc.get_objects() if isinstance(obj, Primitive)]:

        def recording(*args, _impl=prim.impl, _name=prim.name, **params):
            log.append((_name, tuple(kind_of(a) for a in args)))
            return _impl(*args, **params)

        monkeypatch.setattr(prim, "impl", recording)
    return log


@pytest.fixture(params=["compiled", "interpreted"])
def replay_path(request, monkeypatch):
    """Run a test with programs compiled to Python, then with every program interpreted."""
    if request.param == "interpreted":
        monkeypatch.setattr(jit_module, "_CODEGEN_LIMIT", 0)
        monkeypatch.setattr(jit_module, "_HOT_REPLAYS", 0)
    return request.param


def assert_replay_path(jitted, path):
    """Every cached program was compiled to Python (or, for "interpreted", none was)."""
    compiled = {source.startswith("def replay") for source in jitted.sources()}
    assert compiled == {path == "compiled"}


def power_loss(x, y):
    return fnp.sum(x**y * fnp.sin(x) - fnp.exp(y) / x)


def power_value_and_grads(x, y):
    return fgrad.value_and_grad(power_loss, argnums=(0, 1))(x, y)


def power_second_order(x, y):
    grads = fgrad.grad(power_loss, argnums=(0, 1))
    return grads(x, y), fgrad.jvp(grads, (x, y), (x * 0 + 0.5, y * 0 + 0.25))[1]


def zero_d(v):
    return np.array(v)


def numpy_scalar(v):
    return np.float64(v)


def one_element(v):
    return np.array([v])


# 0-d arrays first and NumPy scalars second: the case where a replay could hand np.power
# scalars instead of the 0-d arrays it was traced with (SIMD loop vs scalar math).
KIND_CALLS = [
    (zero_d, 0.7),
    (zero_d, 0.9),
    (numpy_scalar, 0.8),
    (numpy_scalar, 0.6),
    (one_element, 0.7),
    (one_element, 0.5),
    (zero_d, 0.4),
    (numpy_scalar, 0.3),
]


@pytest.fixture
def traced_operand_kinds(monkeypatch):
    """``[(name, operand kinds)]`` of each call in the program ``_record`` made last.

    Read from the recording trace's tape (the operands tracing handed each implementation),
    in program order.
    """
    compiled = []
    record_program = jit_module._record

    def recording_record(trace, input_slots, out_leaves, guards):
        kinds = {
            i: (entry[0].name, tuple(kind_of(a) for a in entry[3]))
            for i, entry in enumerate(trace.tape)
            if entry is not None
        }
        rec = record_program(trace, input_slots, out_leaves, guards)
        listed = [int(i) for i in re.findall(r"^v\[(\d+)\] = ", rec.listing, re.MULTILINE)]
        assert listed == rec.call_slots
        compiled.append([kinds[i] for i in rec.call_slots])
        return rec

    monkeypatch.setattr(jit_module, "_record", recording_record)
    return compiled


@pytest.mark.parametrize("fun", [power_value_and_grads, power_second_order])
def test_replays_hand_each_implementation_the_operand_kinds_tracing_did(
    fun, operand_log, traced_operand_kinds, replay_path, monkeypatch
):
    programs_run = []
    run = jit_module._Program.run
    init = jit_module._Program.__init__

    def recording_run(program, inputs):
        programs_run.append(program)
        return run(program, inputs)

    def recording_init(program, *args):
        init(program, *args)
        enter = program.enter

        def recording_enter(arguments, keywords):
            programs_run.append(program)
            return enter(arguments, keywords)

        program.enter = recording_enter

    monkeypatch.setattr(jit_module._Program, "run", recording_run)
    monkeypatch.setattr(jit_module._Program, "__init__", recording_init)
    jitted = fgrad.jit(fun)
    traced_with = {}
    for make, v in KIND_CALLS:
        x, y = make(v), make(v / 2)
        known = {id(p) for programs in jitted._cache.values() for p in programs}
        traces = jitted.stats.traces
        operand_log.clear()
        result = jitted(x, y)
        if jitted.stats.traces > traces:
            (new,) = [p for ps in jitted._cache.values() for p in ps if id(p) not in known]
            traced_with[id(new)] = traced_operand_kinds[-1]
        else:
            assert operand_log == traced_with[id(programs_run[-1])]
        assert_trees_identical(result, fun(x, y))
    assert jitted.stats.traces == 3 and jitted.stats.replays == len(KIND_CALLS) - 3
    assert_replay_path(jitted, replay_path)


def test_numpy_scalars_and_0d_arrays_are_different_signatures():
    jitted = fgrad.jit(power_value_and_grads)
    x = np.array(0.7)
    jitted(x, x / 2)
    nudged = x * (1 + 1e-3)
    assert type(nudged) is np.float64
    assert_trees_identical(jitted(nudged, nudged / 2), power_value_and_grads(nudged, nudged / 2))
    assert jitted.stats.traces == 2 and jitted.stats.replays == 0


def test_a_float32_call_after_a_float64_trace_returns_what_eager_returns(replay_path):
    def loss(params, X, y):
        W, b = params
        return fnp.mean((fnp.tanh(X @ W + b)[:, 0] - y) ** 2)

    step = fgrad.jit(fgrad.value_and_grad(loss))
    rng = np.random.default_rng(5)
    params = (rng.standard_normal((3, 1)), rng.standard_normal(1))
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    step(params, X, y)
    for dtype in (np.float32, np.float32, np.float64):
        args = fgrad.tree.tree_map(lambda a, dtype=dtype: a.astype(dtype), (params, X, y))
        value, grads = step(*args)
        assert value.dtype == dtype and all(g.dtype == dtype for g in grads)
        assert_trees_identical((value, grads), fgrad.value_and_grad(loss)(*args))
    assert step.stats.traces == 2 and step.stats.replays == 2
    assert_replay_path(step, replay_path)


def test_value_guards_fail_and_retrace_on_both_replay_paths(replay_path):
    def f(x):
        y = fnp.tanh(x * 1.5)
        if fnp.sum(y) > 0:
            return y * 2.0
        return y * -3.0

    jitted = fgrad.jit(f)
    for v in (1.0, 2.0, -1.0, -2.0, 0.5):
        assert_trees_identical(jitted(np.full(3, v)), f(np.full(3, v)))
    assert jitted.stats.guard_failures >= 2 and jitted.stats.variants == 2
    assert_replay_path(jitted, replay_path)


def test_shape_guards_fail_and_retrace_on_both_replay_paths(replay_path):
    def loss(w, m):
        return fnp.mean(fnp.tanh(w[m]) ** 2)

    eager = fgrad.value_and_grad(loss)
    jitted = fgrad.jit(eager)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for mask in ([1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 0], [1, 0, 0, 0]):
        m = np.array(mask, dtype=bool)
        assert_trees_identical(jitted(w, m), eager(w, m))
    assert jitted.stats.guard_failures >= 1 and jitted.stats.variants == 2
    assert_replay_path(jitted, replay_path)


def _scalar_or_0d(x):
    """``1.0`` as a NumPy scalar when ``x[0] > 0``, else as a 0-d array: same value, other kind."""
    return np.float64(1.0) if x[0] > 0 else np.array(1.0)


_SCALAR_OR_0D = Primitive("scalar_or_0d", _scalar_or_0d, (lambda g, ans, x: None,))


def scalar_or_0d(x):
    return bind1(_SCALAR_OR_0D, x, {}) if isinstance(x, fgrad.Tracer) else _scalar_or_0d(x)


def test_value_guards_compare_the_container_type_too(replay_path):
    def f(x):
        factor = 2.0 if isinstance(concrete(scalar_or_0d(x)), np.ndarray) else 3.0
        return x * factor

    jitted = fgrad.jit(f)
    for v in (1.0, -1.0, 2.0, -2.0):
        assert_trees_identical(jitted(np.full(2, v)), f(np.full(2, v)))
    assert jitted.stats.variants == 2 and jitted.stats.guard_failures == 2
    assert_replay_path(jitted, replay_path)


_INT32_OR_INT64_INDEX = plain_values(
    lambda x: np.flatnonzero(x > 0).astype(np.int32 if x[0] > 0 else np.int64), "int_index"
)


def test_shape_guards_compare_the_container_type_and_dtype_too(replay_path):
    def f(x):
        index = _INT32_OR_INT64_INDEX(x)
        return x[index] * (2.0 if index.dtype == np.int32 else 3.0)

    jitted = fgrad.jit(f)
    for x in ([1.0, -1.0, 2.0], [-1.0, 1.0, 2.0], [3.0, -1.0, 2.0], [-3.0, 1.0, 2.0]):
        assert_trees_identical(jitted(np.array(x)), f(np.array(x)))
    assert jitted.stats.variants == 2 and jitted.stats.guard_failures == 2
    assert_replay_path(jitted, replay_path)


# --- Round two of the performance work: what each optimisation of the replay keeps exact ---


def assert_bits_identical(a, b):
    """Same pytree, and leaf by leaf the same class, dtype, shape and bytes (-0.0 is not 0.0)."""
    la, lb = fgrad.tree.tree_leaves(a), fgrad.tree.tree_leaves(b)
    assert fgrad.tree.tree_structure(a) == fgrad.tree.tree_structure(b)
    for x, y in zip(la, lb):
        assert x.__class__ is y.__class__
        assert np.asarray(x).dtype == np.asarray(y).dtype
        assert np.shape(x) == np.shape(y)
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


def nested_step(params, batch, lr, mode, scale):
    """A function of a list of dicts, a tuple, a Python float, a bool, a string and a NumPy
    scalar, returning a tuple of a list of dicts, None and a number."""
    x, y = batch
    h = x
    for layer in params:
        h = fnp.tanh(h @ layer["w"] + layer["b"])
    loss = fnp.mean((h[:, 0] - y) ** 2) * scale
    if mode == "double":
        loss = 2.0 * loss
    new = [{"w": p["w"] * lr, "b": p["b"] - lr} for p in params] if mode else params
    return loss, new, None


def nested_arguments(seed, scale_type=np.float32):
    rng = np.random.default_rng(seed)
    params = [
        {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)},
        {"b": rng.standard_normal(1), "w": rng.standard_normal((3, 1))},
    ]
    batch = (rng.standard_normal((5, 2)), rng.standard_normal(5))
    return params, batch, 0.1 * (seed + 1), "double", scale_type(0.5 + seed)


def test_replays_skip_flattening_and_return_what_eager_returns(monkeypatch):
    flattened = []
    flatten = jit_module.tree_flatten

    def counting_flatten(tree, *rest):
        flattened.append(tree)
        return flatten(tree, *rest)

    monkeypatch.setattr(jit_module, "tree_flatten", counting_flatten)
    step = fgrad.jit(nested_step)
    step(*nested_arguments(0))
    flattened.clear()
    for seed in range(1, 4):
        arguments = nested_arguments(seed)
        assert_bits_identical(step(*arguments), nested_step(*arguments))
    assert flattened == []
    assert step.stats.replays == 3 and step.stats.traces == 1


@pytest.mark.parametrize(
    "change",
    [
        "dict key",
        "extra dict key",
        "list length",
        "tuple for list",
        "shape",
        "dtype",
        "scalar type",
        "python int for float",
        "static string",
        "static bool",
        "keyword",
    ],
)
def test_a_call_with_another_signature_is_not_replayed_by_the_generated_checks(change):
    params, batch, lr, mode, scale = nested_arguments(0)
    kwargs = {}
    if change == "dict key":
        params = [params[0], {"b": params[1]["b"], "v": params[1]["w"]}]
    elif change == "extra dict key":
        params = [params[0], {**params[1], "c": 1.0}]
    elif change == "list length":
        params = params + [{"w": np.ones((1, 1)), "b": np.zeros(1)}]
    elif change == "tuple for list":
        params = tuple(params)
    elif change == "shape":
        batch = (np.ones((4, 2)), np.ones(4))
    elif change == "dtype":
        batch = (batch[0].astype(np.float32), batch[1])
    elif change == "scalar type":
        scale = np.float64(scale)
    elif change == "python int for float":
        lr = 1
    elif change == "static string":
        mode = "single"
    elif change == "static bool":
        mode = True
    elif change == "keyword":
        kwargs = {"scale": scale}

    def step_of(*args, **kw):
        return nested_step(*args, **kw)

    jitted = fgrad.jit(step_of)
    jitted(*nested_arguments(0))
    args = (params, batch, lr, mode) if change == "keyword" else (params, batch, lr, mode, scale)
    try:
        expected = nested_step(*args, **kwargs)
    except Exception as error:  # the changed call is an error eagerly: the same error
        with pytest.raises(type(error)):
            jitted(*args, **kwargs)
        return
    assert_bits_identical(jitted(*args, **kwargs), expected)
    assert jitted.stats.traces == 2 and jitted.stats.replays == 0
    assert_bits_identical(jitted(*nested_arguments(1)), nested_step(*nested_arguments(1)))
    assert jitted.stats.replays == 1


def test_outputs_of_other_node_types_are_built_by_tree_unflatten():
    import collections

    Pair = collections.namedtuple("Pair", "first second")
    f = fgrad.jit(lambda p: Pair(p.first * 2.0, collections.OrderedDict(b=p.second, a=1.0)))
    arguments = Pair(np.ones(2), np.zeros(3))
    f(arguments)
    result = f(Pair(np.full(2, 3.0), np.ones(3)))
    assert isinstance(result, Pair) and isinstance(result.second, collections.OrderedDict)
    assert_bits_identical(
        result, Pair(np.full(2, 6.0), collections.OrderedDict(b=np.ones(3), a=1.0))
    )
    assert f.stats.replays == 1


def counting_primitive(name, log):
    def impl(x):
        log.append(name)
        return np.sin(x)

    return Primitive(name, impl)


def test_identical_calls_are_replayed_once_and_stay_bit_identical():
    log = []
    prim = counting_primitive("counted sin", log)

    def f(x):
        return prim(x) * fnp.cos(x) + prim(x) * fnp.cos(x)

    jitted = fgrad.jit(f)
    jitted(np.linspace(0.0, 1.0, 5))
    log.clear()
    x = np.linspace(-1.0, 2.0, 5)
    replayed = jitted(x)
    assert log == ["counted sin"]
    assert_bits_identical(replayed, f(x))
    source = jitted.sources()[0]
    assert source.count("# cos") == 1 and source.count("# counted sin") == 1


def test_calls_on_constants_that_differ_in_bits_or_type_are_not_merged():
    def f(x):
        return (
            x * 0.0,
            x * -0.0,
            x * 1,
            x * 1.0,
            x * np.float32(1.0),
            fnp.sum(x, axis=0),
            fnp.sum(x, axis=1),
            x**2,
            x**2.0,
        )

    jitted = fgrad.jit(f)
    jitted(np.ones((2, 3)))
    x = -np.arange(6.0).reshape(2, 3)
    assert_bits_identical(jitted(x), f(x))
    assert jitted.sources()[0].count("# multiply") == 5


def test_merged_outputs_are_still_separate_arrays():
    f = fgrad.jit(lambda x: (fnp.sin(x), fnp.sin(x), x * 2.0))
    f(np.ones(3))
    a, b, c = f(np.ones(3))
    assert a is not b
    a[0] = 7.0
    assert b[0] == np.sin(1.0)


def test_unused_guards_random_draws_and_prints_are_still_replayed(capsys):
    from fgrad.values import recorded

    draws = []

    def draw(key):
        draws.append(int(key))
        return np.float64(key) * 0.5

    counted_draw = recorded(draw, "counted draw")

    def f(x, key):
        counted_draw(key)  # result unused
        counted_draw(key)  # identical call
        fgrad.debug_print("{}", x.sum())
        unused = fnp.sum(x) > 0  # read by Python, not returned
        return x * 2.0 if unused else x * 3.0

    jitted = fgrad.jit(f)
    jitted(np.ones(2), np.int64(1))
    draws.clear()
    assert_bits_identical(jitted(np.ones(2), np.int64(2)), np.ones(2) * 2.0)
    assert draws == [2, 2]
    assert_bits_identical(jitted(-np.ones(2), np.int64(3)), -np.ones(2) * 3.0)
    assert jitted.stats.guard_failures == 1
    # trace, replay, the replay abandoned at the guard (after printing), the new trace
    assert capsys.readouterr().out.count("\n") == 4


def test_random_draws_of_one_key_replay_each_draw():
    def f(key):
        a = fgrad.random.normal(key, (3,))
        fgrad.random.normal(key, (3,))  # unused: still drawn, like eager
        return a, fgrad.random.normal(key, (3,))

    jitted = fgrad.jit(f)
    jitted(fgrad.random.key(0))
    key = fgrad.random.key(5)
    a, b = jitted(key)
    assert_bits_identical((a, b), f(key))
    assert a is not b
    assert jitted.sources()[0].count("# random.normal") == 3


def scalar_chain(x, n=30):
    for _ in range(n):
        x = fnp.tanh(x * 1.0001 + 0.1) - 0.25 * x * x
    return x


@pytest.mark.parametrize("make", [np.float64, np.array, float], ids=["np.float64", "0-d", "float"])
def test_the_scalar_path_is_bit_identical_to_eager(make):
    vg = fgrad.value_and_grad(scalar_chain)
    jitted = fgrad.jit(vg)
    jitted(make(0.3))
    # On NumPy 1.26 fgrad's operators wrap NEP 50's promotion, so no line runs on floats.
    assert "_float(" in jitted.sources()[0] or make is float or not NUMPY_2
    for start in (0.25, -0.7, 1e-300, 5e-324, -0.0, 3.0):
        assert_bits_identical(jitted(make(start)), vg(make(start)))


def test_the_scalar_path_keeps_numpys_floating_point_errors():
    def blow_up(x):
        return x * 1e200 * 1e200 - x

    jitted = fgrad.jit(blow_up)
    with np.errstate(over="ignore"):
        jitted(np.float64(2.0))
    assert "_float(" in jitted.sources()[0] or not NUMPY_2
    with np.errstate(over="ignore"):
        assert_bits_identical(jitted(np.float64(3.0)), blow_up(np.float64(3.0)))
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            blow_up(np.float64(3.0))
        with pytest.raises(FloatingPointError):
            jitted(np.float64(3.0))


def test_large_integer_constants_stay_numpy_operations():
    big = 2**60 + 1
    f = fgrad.jit(lambda x: x * big + x)
    f(np.float64(1.5))
    assert f(np.float64(2.5)).tobytes() == (np.float64(2.5) * big + np.float64(2.5)).tobytes()
    assert "_float(" not in f.sources()[0].split("# multiply")[0]


def test_long_programs_are_compiled_once_hot():
    chain = _long_chain
    jitted = fgrad.jit(chain)
    jitted(np.ones(2))
    for k in range(1, jit_module._HOT_REPLAYS + 1):
        assert not jitted.sources()[0].startswith("def replay")
        x = np.full(2, 0.1 * k)
        assert_bits_identical(jitted(x), chain(x))
    assert jitted.sources()[0].startswith("def replay")
    assert_bits_identical(jitted(np.zeros(2)), chain(np.zeros(2)))


def test_scalar_division_by_zero_replays_as_numpy_computes_it():
    f = fgrad.jit(lambda x, y: (x * 2.0) / (y * 1.0) - x)
    f(np.float64(1.0), np.float64(2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        for x in (1.0, -1.0, 0.0):
            args = (np.float64(x), np.float64(0.0))
            assert_bits_identical(f(*args), (args[0] * 2.0) / (args[1] * 1.0) - args[0])


@pytest.mark.parametrize("why", ["past _COMPILE_LIMIT", "too large for CPython's compiler"])
def test_long_programs_stay_interpreted_when_they_cannot_be_compiled(why, monkeypatch):
    if why == "past _COMPILE_LIMIT":
        monkeypatch.setattr(jit_module, "_COMPILE_LIMIT", _CODEGEN_LIMIT)
    else:
        monkeypatch.setattr(jit_module, "_generate", _compiler_gives_up)
    chain = _long_chain
    jitted = fgrad.jit(chain)
    jitted(np.ones(2))
    for k in range(jit_module._HOT_REPLAYS + 2):
        x = np.full(2, 0.1 * k)
        assert_bits_identical(jitted(x), chain(x))
    assert not jitted.sources()[0].startswith("def replay")
    assert jitted.stats.replays == jit_module._HOT_REPLAYS + 2


def test_a_guarded_value_is_never_merged_into_an_unguarded_one():
    def f(x):
        total = fnp.sum(x)  # returned, never read by Python
        if float(fnp.sum(x)) > 0:  # the same computation, read by Python: guarded
            return total, x * 2.0
        return total, x * 3.0

    jitted = fgrad.jit(f)
    jitted(np.ones(2))
    for x in (np.ones(2), -np.ones(2)):
        assert_bits_identical(jitted(x), f(x))
    assert jitted.stats.traces == 2 and jitted.stats.replays == 1
    assert jitted.stats.guard_failures == 1


def test_compiled_replays_release_small_arrays_after_their_last_use():
    def f(x):
        return fnp.sum(fnp.sin(x) * fnp.cos(x)), x * 2.0

    jitted = fgrad.jit(f)
    jitted(np.ones(3))
    source = jitted.sources()[0]
    assert re.search(r"^    v\d+ = v\d+ = None$", source, re.MULTILINE)  # sin and cos results
    x = np.linspace(0.0, 1.0, 3)
    assert_bits_identical(jitted(x), f(x))


def test_only_one_input_ufuncs_take_the_scalar_paths_python_floats():
    tripled = Primitive("tripled", lambda x: x * 3.0)  # a Python float in, a Python float out

    def f(x):
        y = x * 2.0 + 1.0
        return -y, fnp.tanh(y), fgrad.nn.sigmoid(y), fnp.abs(y), tripled(y)

    jitted = fgrad.jit(f)
    jitted(np.float64(0.5))
    for x in (np.float64(-3.0), np.float64(0.25)):
        assert_bits_identical(jitted(x), f(x))
