"""The tracer core: deep graphs, tape release, threads, and the errors users get."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import fgrad
import fgrad.numpy as fnp


def test_a_chain_of_a_million_primitives_differentiates_without_recursion():
    def chain(x):
        for _ in range(500_000):
            x = x * 1.0000001
            x = x + 0.0
        return x

    g = fgrad.grad(chain)(1.0)
    assert float(g) == pytest.approx(1.0000001**500_000, rel=1e-9)


def test_the_tape_and_intermediates_are_released_when_grad_returns():
    refs = []

    def f(x):
        h = fnp.exp(x)
        refs.append(weakref.ref(h._value))
        return fnp.sum(h * h)

    fgrad.grad(f)(np.ones(1000))
    gc.collect()
    assert refs[0]() is None


def test_concurrent_grads_in_threads_do_not_interfere():
    results = {}

    def work(k):
        x = np.full(3, float(k))
        for _ in range(200):
            g = fgrad.grad(lambda v: fnp.sum(v**3) * k)(x)
        results[k] = g

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(1, 5):
        np.testing.assert_allclose(results[k], 3 * k * np.full(3, float(k)) ** 2)


def test_non_scalar_output_names_the_shape_and_suggests_jacobian():
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacobian"):
        fgrad.grad(lambda x: x * 2)(np.ones(3))


def test_integer_and_bool_arguments_are_refused_with_their_path():
    with pytest.raises(TypeError, match=r"argument 0\['w'\]\[1\].*int64"):
        fgrad.grad(lambda p: fnp.sum(p["w"][0]))({"w": [np.ones(2), np.arange(3)]})
    with pytest.raises(TypeError, match="bool"):
        fgrad.grad(lambda x: 1.0)(np.array([True]))
    with pytest.raises(TypeError, match="argument 0"):
        fgrad.grad(lambda x: x * 1.0)(3)


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=2 is out of range.*2 positional arguments"):
        fgrad.grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)


def test_has_aux_requires_a_pair():
    with pytest.raises(TypeError, match="has_aux"):
        fgrad.grad(lambda x: x * 1.0, has_aux=True)(1.0)


def test_leaked_tracer_names_the_transform_and_function():
    leaked = []

    def stash(x):
        leaked.append(x * 2)
        return x * 1.0

    fgrad.grad(stash)(1.0)
    with pytest.raises(fgrad.UnexpectedTracerError, match=r"grad\(.*stash\).*returned"):
        fnp.sin(leaked[0])
    with pytest.raises(fgrad.UnexpectedTracerError):
        fgrad.grad(lambda y: y * leaked[0])(1.0)


def test_in_place_assignment_into_a_tracer_is_refused():
    def f(x):
        x[0] = 1.0
        return fnp.sum(x)

    with pytest.raises(TypeError, match="In-place assignment"):
        fgrad.grad(f)(np.ones(2))

    def g(x):
        buf = np.zeros(2)
        buf[:] = x
        return fnp.sum(buf)

    with pytest.raises(TypeError, match="drop its gradient"):
        fgrad.grad(g)(np.ones(2))


def test_numpy_function_without_a_rule_is_named():
    with pytest.raises(TypeError, match=r"numpy\.fft\.hfft.*fgrad\.numpy.*custom_vjp"):
        fgrad.grad(lambda x: np.fft.hfft(x).sum())(np.ones(4))


def test_debug_nans_names_the_primitive_forward_and_backward():
    with fgrad.config.debugging_nans(), np.errstate(invalid="ignore", divide="ignore"):
        with pytest.raises(FloatingPointError, match="forward pass of 'sqrt'"):
            fgrad.grad(lambda x: fnp.sum(fnp.sqrt(x)))(np.array([-1.0, 1.0]))
        with pytest.raises(FloatingPointError, match="VJP of 'sqrt'"):
            fgrad.grad(lambda x: fnp.sum(fnp.sqrt(x) * 0.0))(np.array([0.0, 1.0]))
    assert fgrad.config.debug_nans is False
    with np.errstate(invalid="ignore"):
        g = fgrad.grad(lambda x: fnp.sum(fnp.sqrt(x)))(np.array([-1.0, 1.0]))
    assert np.isnan(g[0])


def test_tracer_behaves_like_an_array_inside_grad():
    seen = {}

    def f(x):
        seen["shape"], seen["ndim"], seen["size"] = x.shape, x.ndim, x.size
        seen["dtype"], seen["len"] = x.dtype, len(x)
        rows = [r for r in x]
        seen["rows"] = len(rows)
        seen["float"] = float(x[0, 0])
        return x.T.sum() + x.mean() + x.reshape(3, 2).max() + x.dot(np.ones(3)).sum()

    x = np.arange(6.0).reshape(2, 3)
    g = fgrad.grad(f)(x)
    assert seen == {
        "shape": (2, 3),
        "ndim": 2,
        "size": 6,
        "dtype": np.float64,
        "len": 2,
        "rows": 2,
        "float": 0.0,
    }
    expected = np.ones((2, 3)) * (1 + 1 / 6 + 1)
    expected[1, 2] += 1
    np.testing.assert_allclose(g, expected)


def test_tracer_repr_mentions_transform_and_value():
    text = []
    fgrad.grad(lambda x: text.append(repr(x)) or x * 1.0)(2.0)
    assert "grad" in text[0] and "array(2.)" in text[0]
