"""Tests written against the mutants of the 2026-11-26 run on commit ada4766 (docs/testing.md).

Mutants of ``fgrad/_jit.py`` (run in full) and of the part of ``fgrad/transforms.py`` not run
before that survived the rest of the suite; kept apart from ``test_mutation_kills.py`` only
because that file was being edited at the same time. The module name matches ``-k
test_mutation_kills`` like the first file.
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Any

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp
from fgrad._compat import NUMPY_2
from fgrad.values import recorded

LARGE = 1 << 17
"""Elements of a 1 MiB float64 array: far above the size from which a replay releases
intermediates after their last use (64 KiB)."""
FLOAT32_RTOL = 1e-6
"""A few float32 ulps: a second derivative computed in float32."""
INTERPRETED_STEPS = 1600
"""Two primitives a step: past the 3000 lines up to which replays are compiled to Python."""

# ------------------------------------------------- fgrad._jit (run of commit ada4766, full)


def test_recorded_runs_plain_values_directly_and_records_traced_ones() -> None:
    def scale(x: Any, factor: float) -> Any:
        return np.asarray(x) * factor

    scaled = recorded(scale, "scale")
    assert scaled.__name__ == scaled.__qualname__ == "scale"
    assert scaled(np.ones(2), factor=3.0).tolist() == [3.0, 3.0]
    jitted = fgrad.jit(lambda x: scaled(x, factor=2.0) + 1.0)
    assert jitted(np.ones(2)).tolist() == [3.0, 3.0]
    assert jitted(np.zeros(2)).tolist() == [1.0, 1.0]
    assert (jitted.stats.traces, jitted.stats.replays) == (1, 1)
    assert "  # scale\n" in jitted.sources()[0]


def test_jit_static_arguments_first_and_counted_from_the_end() -> None:
    seen: list[Any] = []

    def repeat(n: Any, x: Any, m: Any) -> Any:
        seen.append((type(n), type(m)))
        return x * n + m

    for static in (0, -1):
        seen.clear()
        jitted = fgrad.jit(repeat, static_argnums=static)
        for n in (2, 2, 3):
            assert jitted(n, np.ones(2), n).tolist() == [2.0 * n] * 2
        assert (jitted.stats.traces, jitted.stats.replays) == (2, 1)
        assert seen[0] == (int, fgrad.Tracer) if static == 0 else (fgrad.Tracer, int)


def test_jit_unhashable_static_argument_message_in_full() -> None:
    def layers(x: Any, sizes: Any) -> Any:
        return x

    expected = (
        f"jit({layers.__qualname__}): static argument 1 ('sizes') is a list, which is not "
        "hashable; a static argument must be hashable (one trace per value): pass a tuple "
        "instead of a list, or make the argument dynamic"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(expected)}$"):
        fgrad.jit(layers, static_argnums=1)(np.ones(1), [1, 2])


def test_a_leaked_python_number_argument_names_jit_and_the_function() -> None:
    leaked = []

    def keep(x: Any, lr: Any) -> Any:
        leaked.append(lr)
        return x * lr

    fgrad.jit(keep)(np.ones(2), 0.5)
    _assert_use_names_jit_of(keep, leaked[0])


def _assert_use_names_jit_of(fun: Any, leaked: Any) -> None:
    """Using the leaked tracer raises, naming ``jit(fun)`` and where ``fun`` is defined."""
    with pytest.raises(
        fgrad.UnexpectedTracerError,
        match=rf"created by jit\({re.escape(fun.__qualname__)}\) defined at "
        rf"{re.escape(__file__)}:{fun.__code__.co_firstlineno} after",
    ):
        fnp.sin(leaked)


def test_jit_guards_the_shapes_of_a_tuple_valued_instruction() -> None:
    def mean_index_of_positive(x: Any) -> Any:
        index = fnp.nonzero(x > 0)[0]
        return fnp.sum(index * 1.0) / index.shape[0]

    jitted = fgrad.jit(mean_index_of_positive)
    for x in (np.array([1.0, -1.0, 2.0]), np.array([1.0, 3.0, 2.0]), np.array([4.0, 3.0, 2.0])):
        assert jitted(x) == mean_index_of_positive(x)
    assert (jitted.stats.traces, jitted.stats.guard_failures, jitted.stats.replays) == (2, 1, 1)


def test_jit_keeps_the_shape_guard_of_a_result_only_python_reads() -> None:
    def mean_of_positive_count(x: Any) -> Any:
        return fnp.sum(x) / fnp.nonzero(x > 0)[0].shape[0]

    jitted = fgrad.jit(mean_of_positive_count)
    for x in (np.array([1.0, -1.0, 2.0]), np.array([1.0, 3.0, 2.0])):
        assert jitted(x) == mean_of_positive_count(x)


def test_debug_print_refuses_a_format_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="^debug_print: fmt must be a format string, got int$"):
        fgrad.debug_print(3)


def test_an_interpreted_replay_passes_every_operand_and_lists_its_instructions() -> None:
    add3 = recorded(lambda a, b, c: a + b + c, "add3")

    def long(x: Any) -> Any:
        for _ in range(INTERPRETED_STEPS):
            x = x * 1.0001 + 0.5
        return add3(x, 2.0 * x, 3.0 * x)

    jitted = fgrad.jit(long)
    jitted(np.ones(3))
    x = np.linspace(0.0, 1.0, 3)
    assert jitted(x).tobytes() == long(x).tobytes()
    assert jitted.stats.replays == 1
    listing = jitted.sources()[0]
    assert listing.startswith("v[1] = multiply(v[0], v[")
    last = 2 * INTERPRETED_STEPS
    assert listing.endswith(f"add3(v[{last}], v[{last + 1}], v[{last + 2}])\n")


def test_a_replay_releases_two_large_intermediates_on_the_same_line() -> None:
    def product(x: Any) -> Any:
        return fnp.sum(fnp.sin(x) * fnp.cos(x))

    x = np.linspace(0.0, 1.0, LARGE)
    jitted = fgrad.jit(product)
    jitted(x)
    assert jitted(x) == product(x)
    assert jitted.stats.replays == 1
    assert " = None\n" in jitted.sources()[0]


def test_a_binary_instruction_compiles_to_a_call_without_keywords() -> None:
    jitted = fgrad.jit(lambda x, y: x * y)
    jitted(np.ones(2), np.ones(2))
    # NumPy 1.26: fgrad's multiply wraps NEP 50's promotion, so it is a call, still positional.
    line = "    v2 = v0 * v1  # multiply\n" if NUMPY_2 else "    v2 = f0(v0, v1)  # multiply\n"
    assert line in jitted.sources()[0]


def _retrace_message(jitted: Any, calls: list[tuple[Any, ...]]) -> str:
    with pytest.warns(fgrad.JitRetraceWarning) as caught:
        for args in calls:
            jitted(*args)
    assert len(caught) == 1
    assert caught[0].filename == __file__
    return str(caught[0].message)


def test_retrace_warnings_describe_changing_python_and_numpy_scalars() -> None:
    x = np.ones(2)
    python = fgrad.jit(lambda x, n: x * n, max_signatures=1)
    message = _retrace_message(python, [(x, 1), (x, 1.0)] * 3)
    assert "argument 1 ('n') (4x, last: Python float, then Python int)" in message
    numpy = fgrad.jit(lambda x, n: x * n, max_signatures=1)
    message = _retrace_message(numpy, [(x, np.float32(1)), (x, np.float64(1))] * 3)
    assert "(4x, last: NumPy scalar float64, then NumPy scalar float32)" in message


def test_retrace_warning_names_a_changing_pytree_structure() -> None:
    jitted = fgrad.jit(lambda tree: sum(fnp.sum(leaf) for leaf in tree.values()))
    calls = [({key: np.ones(2)},) for key in "abcdef"]
    message = _retrace_message(jitted, calls)
    assert "What changed: the pytree structure of the arguments (4x)." in message


def test_retrace_warning_names_a_changing_keyword_argument() -> None:
    jitted = fgrad.jit(lambda w, batch: fnp.sum(batch @ w))
    message = _retrace_message(jitted, [(np.ones(2), np.ones((n, 2))) for n in range(1, 7)])
    assert "What changed: argument 1 ('batch') (4x, last: float64 array" in message
    keyword = fgrad.jit(lambda w, batch: fnp.sum(batch @ w))
    with pytest.warns(fgrad.JitRetraceWarning) as caught:
        for n in range(1, 7):
            keyword(np.ones(2), batch=np.ones((n, 2)))
    assert "What changed: keyword argument ['batch'] (4x, last: float64 array" in str(
        caught[0].message
    )


def test_retrace_warning_names_the_leaf_inside_an_argument() -> None:
    jitted = fgrad.jit(lambda params, x: fnp.sum(params["w"] * x))
    calls = [({"w": np.ones(n)}, 1.0) for n in range(1, 7)]
    message = _retrace_message(jitted, calls)
    assert "What changed: argument 0 ('params') at ['w'] (4x, last: float64 array" in message


def test_retrace_warning_counts_replays_and_eager_calls() -> None:
    jitted = fgrad.jit(lambda x: x * 2.0)
    jitted(np.ones(1))
    jitted(np.ones(1))
    for _ in range(2):
        fgrad.grad(lambda x: fnp.sum(jitted(x)))(np.ones(1))
    message = _retrace_message(jitted, [(np.ones(n),) for n in range(2, 6)])
    assert "traced 5 times in 8 calls instead of replaying." in message


def test_retrace_warning_waits_for_traces_in_more_than_half_of_the_calls() -> None:
    jitted = fgrad.jit(lambda x: x * 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fgrad.JitRetraceWarning)
        for n in (1, 1, 1, 2, 2, 3, 3, 4, 4, 5):
            jitted(np.ones(n))
    assert (jitted.stats.traces, jitted.stats.replays) == (5, 5)
    message = _retrace_message(jitted, [(np.ones(6),)])
    assert "traced 6 times in 11 calls" in message


def test_retrace_warning_lists_the_three_most_frequent_changes() -> None:
    jitted = fgrad.jit(lambda a, b, c, d: a.sum() + b.sum() + c.sum() + d.sum())
    sizes = [(1, 1, 1, 1), (2, 1, 1, 1), (2, 3, 1, 1), (2, 3, 5, 1), (2, 3, 5, 7)]
    message = _retrace_message(jitted, [tuple(np.ones(n) for n in call) for call in sizes])
    assert message.count("(1x, last: float64 array of shape") == 3


RETRACE_ADVICE = (
    "Pass values that change from call to call as array or Python number arguments (not read "
    "by Python code: float(x), if x > 0, shapes), and mark arguments that select code as "
    "static_argnums/static_argnames. (Warned once per function.)"
)


def _product_of_sums(x: Any, y: Any) -> Any:
    return fnp.sum(x) * fnp.sum(y)


def test_retrace_warning_in_full() -> None:
    one, two, three, four = (np.ones(n) for n in range(1, 5))
    calls = [(one, one), (two, one), (two, three), ([two], three), (four, three)]
    message = _retrace_message(fgrad.jit(_product_of_sums), calls)
    line = _product_of_sums.__code__.co_firstlineno
    assert message == (
        f"jit(_product_of_sums) (defined at {__file__}:{line}) traced 5 times in 5 calls instead "
        "of replaying. What changed: the pytree structure of the arguments (2x); argument 0 "
        "('x') (1x, last: float64 array of shape (1,), then float64 array of shape (2,)); "
        "argument 1 ('y') (1x, last: float64 array of shape (1,), then float64 array of shape "
        f"(3,)). {RETRACE_ADVICE}"
    )


def test_retrace_warning_of_a_function_without_code_names_no_definition() -> None:
    jitted = fgrad.jit(functools.partial(_product_of_sums, y=np.ones(1)))
    message = _retrace_message(jitted, [(np.ones(n),) for n in range(1, 6)])
    assert message.startswith("jit(functools.partial(<function _product_of_sums at ")
    assert (
        "]))) traced 5 times in 5 calls instead of replaying. What changed: argument 0" in message
    )


def test_retrace_warning_of_a_function_running_eagerly_in_full() -> None:
    def branch(x: Any) -> Any:
        return x * 2.0 if float(x) > 0 else x

    message = _retrace_message(
        fgrad.jit(branch, max_variants=1), [(np.array(1.0),), (np.array(-1.0),)]
    )
    line = branch.__code__.co_firstlineno
    assert message == (
        f"jit({branch.__qualname__}) (defined at {__file__}:{line}) traced 1 times in 2 calls "
        "instead of replaying. It now runs eagerly: more than max_variants=1 variants. What "
        f"changed: the value read at {__file__}:{line + 1} (1x). {RETRACE_ADVICE}"
    )


def test_a_leaked_array_argument_names_jit_and_the_function() -> None:
    leaked = []

    def keep(x: Any) -> Any:
        leaked.append(x)
        return x * 2.0

    fgrad.jit(keep)(np.ones(2))
    _assert_use_names_jit_of(keep, leaked[0])


def test_retrace_warning_names_arguments_without_parameter_names() -> None:
    variadic = fgrad.jit(lambda *xs: fnp.sum(xs[0]))
    message = _retrace_message(variadic, [(np.ones(n),) for n in range(1, 6)])
    assert "What changed: argument 0 (4x, last: float64 array of shape (4,)" in message
    no_signature = fgrad.jit(max, max_signatures=1)
    calls = [(np.array(1.0, dtype), np.array(2.0, dtype)) for dtype in ("f4", "f8") * 3]
    message = _retrace_message(no_signature, calls)
    assert "What changed: argument 0 (4x, last: float64 array of shape (), then float32" in message


def test_jit_traces_once_per_python_number_class() -> None:
    jitted = fgrad.jit(lambda x, n: (x * n, n * 2))
    x = np.ones(2, np.float32)
    for n in (2, 2.0, 2, 2.0):
        assert type(jitted(x, n)[1]) is type(n)
    assert (jitted.stats.traces, jitted.stats.replays) == (2, 2)


class _Rate(float):
    """A float subclass: static, by value."""


class _Flag(int):
    """An int subclass equal to ``True``: static, by type and value."""


def test_jit_keys_static_leaves_by_type_and_value() -> None:
    from decimal import Decimal
    from fractions import Fraction

    def pick(x: Any, s: Any) -> Any:
        return x * (float(s) + (10.0 if isinstance(s, (bool, Fraction)) else 0.0))

    jitted = fgrad.jit(pick)
    x = np.ones(1)
    with pytest.warns(fgrad.JitRetraceWarning, match="static value 1, then static value"):
        for s in (_Rate(0.5), _Rate(0.25), True, _Flag(1), Fraction(1, 2), Fraction(1, 3)):
            assert jitted(x, s) == pick(x, s)
    assert jitted(x, Fraction(1)) == pick(x, Fraction(1)) == 11.0
    assert jitted(x, Decimal(1)) == pick(x, Decimal(1)) == 1.0
    assert jitted.stats.traces == 8


def test_a_jitted_call_under_grad_keeps_its_static_arguments() -> None:
    jitted = fgrad.jit(lambda x, n: fnp.sum(x**n), static_argnums=1)
    assert fgrad.grad(lambda x: jitted(x, 3))(np.array([2.0])).tolist() == [12.0]
    assert jitted.stats.eager_calls == 1


def test_dropping_a_signature_drops_all_its_variants() -> None:
    jitted = fgrad.jit(lambda x: x * 2.0 if float(x[0]) > 0 else x, max_signatures=1)
    jitted(np.ones(1))
    jitted(-np.ones(1))
    assert jitted.stats.variants == 2
    jitted(np.ones(2))
    assert jitted.stats.variants == 1


def test_a_failed_shape_guard_past_max_variants_warns_without_a_line() -> None:
    def positive(x: Any) -> Any:
        return fnp.sum(fnp.nonzero(x > 0)[0] * 1.0)

    jitted = fgrad.jit(positive, max_variants=1)
    jitted(np.array([1.0, -1.0]))
    with pytest.warns(fgrad.JitRetraceWarning, match=r"the value read at an unknown line \(1x\)"):
        assert jitted(np.array([1.0, 1.0])) == 1.0


def test_a_jitted_function_closing_over_a_tracer_counts_each_eager_call() -> None:
    def loss(w: Any) -> Any:
        scaled = fgrad.jit(lambda x: x * w)
        total = fnp.sum(scaled(np.ones(2))) + fnp.sum(scaled(np.ones(2)))
        assert (scaled.stats.traces, scaled.stats.eager_calls) == (2, 2)
        return total

    assert fgrad.grad(loss)(np.array(3.0)) == 4.0


def _three_args(n: Any, x: Any, m: Any) -> Any:
    return x * n + m


@pytest.mark.filterwarnings("ignore::fgrad.JitRetraceWarning")
def test_jit_completes_static_argnums_and_static_argnames_from_each_other() -> None:
    x = np.ones(2)
    for jitted in (
        fgrad.jit(_three_args, static_argnums=0, static_argnames="m"),
        fgrad.jit(static_argnums=0, static_argnames="m")(_three_args),
    ):
        for n, m in ((2, 1), (2, 1), (3, 1), (3, 2)):
            assert jitted(n, x, m).tolist() == [float(n + m)] * 2
        assert jitted(n=3, x=x, m=2).tolist() == [5.0, 5.0]
        assert jitted(n=4, x=x, m=2).tolist() == [6.0, 6.0]
        assert (jitted.stats.traces, jitted.stats.replays) == (5, 1)
    variadic = fgrad.jit(lambda x, *rest: x * rest[0], static_argnums=1)
    assert variadic(x, 2).tolist() == [2.0, 2.0]
    assert variadic(x, 3).tolist() == [3.0, 3.0]
    assert variadic.stats.traces == 2


def test_jit_refusals_of_bad_static_arguments_name_the_function() -> None:
    with pytest.raises(
        TypeError, match=r"^jit\(_three_args\): static_argnums must be ints, got 'x'$"
    ):
        fgrad.jit(_three_args, static_argnums="x")
    with pytest.raises(
        TypeError, match=r"^jit\(_three_args\): static_argnames must be strings, got 1$"
    ):
        fgrad.jit(_three_args, static_argnames=[1])


def test_a_function_past_max_variants_runs_eagerly_with_its_static_arguments() -> None:
    def branch(x: Any, n: Any) -> Any:
        return x * n if float(x) > 0 else x - n

    jitted = fgrad.jit(branch, static_argnums=1, max_variants=1)
    assert jitted(np.array(1.0), 3) == 3.0
    with pytest.warns(fgrad.JitRetraceWarning) as caught:
        assert jitted(np.array(-1.0), 3) == -4.0
    assert caught[0].filename == __file__
    assert jitted.stats.eager_calls == 1


def test_retrace_warning_counts_changing_values_read_by_python() -> None:
    def step(x: Any, lr: Any) -> Any:
        return x * float(lr)

    calls = [(np.ones(2), np.array(0.1 * (i + 1))) for i in range(5)]
    message = _retrace_message(fgrad.jit(step), calls)
    line = step.__code__.co_firstlineno + 1
    assert f"What changed: the value read at {__file__}:{line} (4x). Pass" in message


def test_retrace_warning_after_clearing_the_cache_names_the_dropped_signature() -> None:
    jitted = fgrad.jit(lambda x: x * 2.0)
    with pytest.warns(fgrad.JitRetraceWarning) as caught:
        for _ in range(5):
            jitted(np.ones(2))
            jitted.clear_cache()
    assert (
        "What changed: a signature dropped from the cache (raise max_signatures) (4x). Pass"
        in str(caught[0].message)
    )


# ------------------------- fgrad.transforms (the functions not run on 3dfa969; run of ada4766)


def test_vjp_names_the_cotangent_leaf_of_a_pytree_output() -> None:
    def halves(x: Any) -> Any:
        return {"a": x * 2.0, "b": fnp.sum(x)}

    _, pullback = fgrad.vjp(halves, np.ones(2))
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"vjp({halves.__qualname__}): the cotangent leaf ['a'] has shape (3,), but the "
            "output leaf has shape (2,)."
        ),
    ):
        pullback({"a": np.ones(3), "b": 1.0})
    _, pullback = fgrad.vjp(lambda x: (x * 2.0, "tag"), np.ones(2))
    with pytest.raises(
        TypeError, match=r"leaf \[1\] has dtype <U3, but the output leaf has dtype object"
    ):
        pullback((np.ones(2), "tag"))


def test_a_pullback_recorded_under_debug_nans_names_the_line() -> None:
    def root(x: Any) -> Any:
        return fnp.sqrt(x) * 0.0

    line = root.__code__.co_firstlineno + 1
    with fgrad.config.debugging_nans(), np.errstate(divide="ignore", invalid="ignore"):
        _, pullback = fgrad.vjp(root, np.array([0.0, 1.0]))
        with pytest.raises(
            FloatingPointError,
            match=rf"VJP of 'sqrt' \(the operation was called at {re.escape(__file__)}:{line}\)",
        ):
            pullback(np.ones(2))


def test_a_gradient_taken_inside_a_transform_has_the_argument_dtype() -> None:
    weights = np.array([1.0, 2.0])

    def inner(x: Any) -> Any:
        return fnp.sum(fnp.sin(x) * weights)

    def outer(x: Any) -> Any:
        gradient = fgrad.grad(inner)(x)
        assert (gradient.dtype, gradient.shape) == (np.float32, (2,))
        return fnp.sum(gradient)

    x = np.array([0.5, 1.0], dtype=np.float32)
    second = fgrad.grad(outer)(x)
    assert second.dtype == np.float32
    np.testing.assert_allclose(second, -np.sin(x) * weights, rtol=FLOAT32_RTOL)


def test_vjp_refuses_integer_primals_and_grad_names_what_a_leaf_is() -> None:
    with pytest.raises(TypeError, match=r"argument 0 has dtype int64, but only floating-point"):
        fgrad.vjp(lambda x: x * 2, np.arange(3))
    with pytest.raises(TypeError, match=r"argument 0 is a str \('abc'\), not an array"):
        fgrad.grad(lambda x: 1.0)("abc")
    with pytest.raises(TypeError, match=r"argument 0 has dtype int64, but only floating-point"):
        fgrad.grad(lambda x: x * 1.0)(1)
