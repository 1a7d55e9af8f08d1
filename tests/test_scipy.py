"""``fgrad.scipy``: every function against SciPy, its derivatives to second order, jit and vmap.

Each registered case (``case(name, variant, fun, reference, *args)``) is checked for its
value against SciPy's own function (``reference``) and then by the machinery of the NumPy
registry, called on this registry's cases: ``tests/test_numpy_grads.py`` (traced value
equals plain value, ``check_grads`` to order 2 in both modes, ``jit`` replays bit for bit)
and ``tests/test_vmap.py`` (``vmap`` forward and reverse against a loop).
``test_every_scipy_function_is_covered`` keeps the list complete. Exact tests follow for
what finite differences cannot check (boundaries, signs, tails, known closed forms).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

scipy = pytest.importorskip("scipy")

import scipy.linalg as sl  # noqa: E402
import scipy.special as sc  # noqa: E402
import scipy.stats as st  # noqa: E402
import test_numpy_grads as numpy_registry  # noqa: E402
import test_vmap as vmap_sweep  # noqa: E402

import fgrad  # noqa: E402
import fgrad.numpy as fnp  # noqa: E402
import fgrad.scipy  # noqa: E402
from fgrad._core import Primitive  # noqa: E402
from fgrad._rules import scipy_linalg, scipy_special, scipy_stats  # noqa: E402
from fgrad._rules.declare import DECLARATIONS, SCIPY_STATS  # noqa: E402
from fgrad.scipy import linalg, special, stats  # noqa: E402
from fgrad.tree import tree_flatten  # noqa: E402

REFERENCE_RTOL = 1e-12
"""fgrad's compositions (``stats``, ``cho_solve``) against SciPy's own formulas."""
REFERENCE_ATOL = 1e-14
EXACT_RTOL = 1e-13
"""Derivatives against closed forms evaluated with SciPy."""

_rng = np.random.default_rng(20240917)


def uniform(lo: float, hi: float, *shape: int) -> np.ndarray:
    return _rng.uniform(lo, hi, shape)


def smooth(*shape: int) -> np.ndarray:
    return uniform(-1.5, 1.5, *shape)


def pos(*shape: int) -> np.ndarray:
    return uniform(0.4, 3.0, *shape)


def spd(m: Any) -> Any:
    """A symmetric positive definite matrix from any square ``m`` (traced or not)."""
    return m @ m.T + 3.0 * np.eye(m.shape[-1])


def lower_triangular(n: int) -> np.ndarray:
    return np.tril(uniform(-0.5, 0.5, n, n)) + 2.0 * np.eye(n)


# --- case registry ----------------------------------------------------------------------

CASES: list[Any] = []
VALUE_CASES: list[Any] = []
COVERED: set[str] = set()


def case(
    name: str, variant: str, fun: Callable[..., Any], reference: Callable[..., Any], *args: Any
) -> None:
    """Register ``fun(*args)``, a use of ``fgrad.scipy.<name>``; ``reference`` is SciPy's."""
    COVERED.add(name)
    CASES.append(pytest.param(fun, args, id=f"{name}-{variant}"))
    VALUE_CASES.append(pytest.param(fun, reference, args, id=f"{name}-{variant}"))


# special: elementwise functions and their domains
UNARY = {
    "erf": smooth,
    "erfc": smooth,
    "erfinv": lambda *s: uniform(-0.9, 0.9, *s),
    "ndtr": lambda *s: 2 * smooth(*s),
    "log_ndtr": lambda *s: 2 * smooth(*s),
    "ndtri": lambda *s: uniform(0.05, 0.95, *s),
    "expit": lambda *s: 3 * smooth(*s),
    "logit": lambda *s: uniform(0.1, 0.9, *s),
    "gammaln": pos,
    "digamma": pos,
}
for _name, _draw in UNARY.items():
    for _variant, _shape in {"scalar": (), "vec": (3,), "mat": (2, 3)}.items():
        case(
            f"special.{_name}",
            _variant,
            getattr(special, _name),
            getattr(sc, _name),
            _draw(*_shape),
        )
case("special.log_ndtr", "tail", special.log_ndtr, sc.log_ndtr, np.array([-30.0, -9.0, -3.5]))
case("special.gammaln", "negative", special.gammaln, sc.gammaln, np.array([-0.4, -1.3, -2.6]))
case("special.digamma", "negative", special.digamma, sc.digamma, np.array([-0.4, -1.3]))
for _n in (1, 2):
    case(
        "special.polygamma",
        f"n{_n}",
        lambda x, n=_n: special.polygamma(n, x),
        lambda x, n=_n: sc.polygamma(n, x),
        pos(2, 3),
    )
case(
    "special.polygamma",
    "n_array",
    lambda x: special.polygamma(np.array([0, 1, 3]), x),
    lambda x: sc.polygamma(np.array([0, 1, 3]), x),
    pos(2, 1),
)
case("special.betaln", "broadcast", special.betaln, sc.betaln, pos(3, 1), pos(4))
case("special.betaln", "scalar", special.betaln, sc.betaln, pos(), pos())
case("special.xlogy", "broadcast", special.xlogy, sc.xlogy, smooth(3, 1), pos(4))
case("special.xlogy", "zeros_in_x", special.xlogy, sc.xlogy, np.array([0.0, 0.7, 0.0]), pos(3))
case("special.xlog1py", "broadcast", special.xlog1py, sc.xlog1py, smooth(3, 1), pos(4) - 0.9)
case("special.xlog1py", "zeros_in_x", special.xlog1py, sc.xlog1py, np.array([0.0, -0.4]), pos(2))
case("special.logsumexp", "all", special.logsumexp, sc.logsumexp, smooth(2, 3))
case(
    "special.logsumexp",
    "axis_keepdims",
    lambda a: special.logsumexp(a, axis=1, keepdims=True),
    lambda a: sc.logsumexp(a, axis=1, keepdims=True),
    smooth(2, 3),
)
case(
    "special.logsumexp",
    "weights",
    lambda a, b: special.logsumexp(a, axis=0, b=b),
    lambda a, b: sc.logsumexp(a, axis=0, b=b),
    smooth(2, 3),
    pos(2, 1),
)
case(
    "special.logsumexp",
    "negative_weight",
    lambda a, b: special.logsumexp(a, axis=-1, b=b),
    lambda a, b: sc.logsumexp(a, axis=-1, b=b),
    np.array([[1.0, 0.2, -0.5], [0.3, -1.0, 0.8]]),
    np.array([2.0, -0.5, 1.0]),
)
case(
    "special.logsumexp",
    "return_sign",
    lambda a, b: special.logsumexp(a, axis=(0, 1), b=b, return_sign=True),
    lambda a, b: sc.logsumexp(a, axis=(0, 1), b=b, return_sign=True),
    np.array([[1.0, 2.0], [0.5, -0.3]]),
    np.array([[1.0, -2.0], [0.4, -0.1]]),
)
case("special.softmax", "all", special.softmax, sc.softmax, smooth(2, 3))
case(
    "special.softmax",
    "axis0",
    lambda x: special.softmax(x, axis=0),
    lambda x: sc.softmax(x, axis=0),
    smooth(2, 3),
)
case("special.log_softmax", "all", special.log_softmax, sc.log_softmax, smooth(2, 3))
case(
    "special.log_softmax",
    "axis1",
    lambda x: special.log_softmax(x, axis=1),
    lambda x: sc.log_softmax(x, axis=1),
    smooth(2, 3),
)

# stats
for _method in ("logpdf", "pdf", "cdf", "logcdf"):
    _ours, _theirs = getattr(stats.norm, _method), getattr(st.norm, _method)
    case(f"stats.norm.{_method}", "standard", _ours, _theirs, 2 * smooth(2, 3))
    case(f"stats.norm.{_method}", "loc_scale", _ours, _theirs, smooth(3), smooth(), pos())
    case(f"stats.norm.{_method}", "broadcast", _ours, _theirs, smooth(2, 1), smooth(3), pos(2, 1))
case("stats.norm.logcdf", "tail", stats.norm.logcdf, st.norm.logcdf, np.array([-25.0, -8.0]))
case("stats.t.logpdf", "standard", stats.t.logpdf, st.t.logpdf, 2 * smooth(2, 3), pos())
case("stats.t.logpdf", "loc_scale", stats.t.logpdf, st.t.logpdf, smooth(3), pos(3), smooth(), pos())
case(
    "stats.beta.logpdf",
    "standard",
    stats.beta.logpdf,
    st.beta.logpdf,
    uniform(0.05, 0.95, 2, 3),
    pos(),
    pos(3),
)
case(
    "stats.beta.logpdf",
    "loc_scale",
    stats.beta.logpdf,
    st.beta.logpdf,
    np.array([-0.3, 0.2, 0.9]),
    pos(),
    pos(),
    np.array(-0.5),
    np.array(1.6),
)
case("stats.gamma.logpdf", "standard", stats.gamma.logpdf, st.gamma.logpdf, pos(2, 3), pos(3))
case(
    "stats.gamma.logpdf",
    "loc_scale",
    stats.gamma.logpdf,
    st.gamma.logpdf,
    smooth(3) + 2.0,
    pos(),
    smooth() * 0.2,
    pos(),
)
case(
    "stats.multivariate_normal.logpdf",
    "points",
    lambda x, mean, m: stats.multivariate_normal.logpdf(x, mean, spd(m)),
    lambda x, mean, m: st.multivariate_normal.logpdf(x, mean, spd(m)),
    smooth(4, 3),
    smooth(3),
    smooth(3, 3),
)
case(
    "stats.multivariate_normal.logpdf",
    "one_point",
    lambda x, mean, m: stats.multivariate_normal.logpdf(x, mean, spd(m)),
    lambda x, mean, m: st.multivariate_normal.logpdf(x, mean, spd(m)),
    smooth(2),
    smooth(2),
    smooth(2, 2),
)
case(
    "stats.multivariate_normal.logpdf",
    "diagonal_cov",
    stats.multivariate_normal.logpdf,
    st.multivariate_normal.logpdf,
    smooth(2, 1, 3),
    smooth(3),
    pos(3),
)
case(
    "stats.multivariate_normal.logpdf",
    "scalar_cov_dim1",
    stats.multivariate_normal.logpdf,
    st.multivariate_normal.logpdf,
    smooth(4),
    smooth(),
    pos(),
)

# linalg
_A = lower_triangular(3)
for _lower in (True, False):
    for _trans in (0, 1, "C"):
        for _unit in (False, True):
            _tri = _A if _lower else _A.T.copy()
            _opts = {"lower": _lower, "trans": _trans, "unit_diagonal": _unit}
            case(
                "linalg.solve_triangular",
                f"lower{_lower}_trans{_trans}_unit{_unit}",
                lambda a, b, o=_opts: linalg.solve_triangular(a, b, **o),
                lambda a, b, o=_opts: sl.solve_triangular(a, b, **o),
                _tri + uniform(-0.1, 0.1, 3, 3),
                smooth(3, 2) if _unit else smooth(3),
            )
case(
    "linalg.solve_triangular",
    "fixed_a_vector",
    lambda b: linalg.solve_triangular(_A, b, lower=True),
    lambda b: sl.solve_triangular(_A, b, lower=True),
    smooth(3),
)
case(
    "linalg.solve_triangular",
    "fixed_a_matrix",
    lambda b: linalg.solve_triangular(_A.T, b, trans=1),
    lambda b: sl.solve_triangular(_A.T, b, trans=1),
    smooth(3, 2),
)


def _scipy_factor(a: np.ndarray, lower: bool) -> np.ndarray:
    """SciPy's ``cho_factor`` with its unused triangle zeroed (fgrad's convention)."""
    c, _ = sl.cho_factor(a, lower=lower)
    return np.tril(c) if lower else np.triu(c)


for _lower in (True, False):
    case(
        "linalg.cho_factor",
        f"lower{_lower}",
        lambda m, lo=_lower: linalg.cho_factor(spd(m), lower=lo)[0],
        lambda m, lo=_lower: _scipy_factor(spd(m), lo),
        smooth(3, 3),
    )
    case(
        "linalg.cho_solve",
        f"factored_lower{_lower}",
        lambda m, b, lo=_lower: linalg.cho_solve(linalg.cho_factor(spd(m), lower=lo), b),
        lambda m, b, lo=_lower: sl.cho_solve(sl.cho_factor(spd(m), lower=lo), b),
        smooth(3, 3),
        smooth(3, 2),
    )
case(
    "linalg.cho_solve",
    "given_factor",
    lambda c, b: linalg.cho_solve((c, True), b),
    lambda c, b: sl.cho_solve((c, True), b),
    lower_triangular(3),
    smooth(3),
)
case("linalg.expm", "2x2", linalg.expm, sl.expm, smooth(2, 2))
case("linalg.expm", "3x3", linalg.expm, sl.expm, smooth(3, 3))
case("linalg.expm", "stack", linalg.expm, sl.expm, smooth(2, 3, 3))
case("linalg.expm", "inside", lambda a: fnp.sum(linalg.expm(a @ a.T) * a), None, smooth(2, 2))


# --- the registry's checks --------------------------------------------------------------


def _leaves(tree: Any) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in tree_flatten(tree)[0]]


@pytest.mark.parametrize(("fun", "reference", "args"), VALUE_CASES)
def test_values_match_scipy(
    fun: Callable[..., Any], reference: Callable[..., Any] | None, args: tuple[Any, ...]
) -> None:
    if reference is None:
        pytest.skip("a composition: its pieces are compared with SciPy")
    ours, theirs = _leaves(fun(*args)), _leaves(reference(*args))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_grads(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    numpy_registry.test_grads(fun, args)


@pytest.mark.parametrize(("fun", "args"), CASES)
def test_jit_replays_gradients_bit_identical_to_eager(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    numpy_registry.test_jit_replays_gradients_bit_identical_to_eager(fun, args)


@pytest.mark.filterwarnings("error::fgrad.BatchingFallbackWarning")
@pytest.mark.parametrize(("fun", "args"), CASES)
def test_vmap_matches_a_loop_forward_and_reverse(
    fun: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    vmap_sweep.test_vmap_matches_a_loop_forward_and_reverse(fun, args)


def _scipy_declarations() -> dict[str, Any]:
    return {
        f"{namespace.removeprefix('scipy.')}.{short}": entry
        for namespace, entries in DECLARATIONS.items()
        if namespace.startswith("scipy.")
        for short, entry in entries.items()
    }


def test_every_scipy_function_is_covered() -> None:
    declared = _scipy_declarations()
    assert all(d.differentiability == "differentiable" for d in declared.values())
    assert set(declared) == COVERED


def test_every_scipy_primitive_has_a_batching_rule() -> None:
    objects = [v for m in (scipy_special, scipy_linalg, scipy_stats) for v in vars(m).values()]
    objects += [getattr(v, "primitive", None) for v in objects]
    primitives = {
        value.name: value
        for value in objects
        if isinstance(value, Primitive) and value.name.startswith("scipy.")
    }
    assert len(primitives) >= 15
    assert {name for name, prim in primitives.items() if prim.batch is None} == set()


# --- namespaces ---------------------------------------------------------------------------

NAMESPACES = [
    ("scipy.special", special, sc),
    ("scipy.linalg", linalg, sl),
    *((f"scipy.stats.{d}", getattr(stats, d), getattr(st, d)) for d in SCIPY_STATS),
]


@pytest.mark.parametrize(("namespace", "module", "scipy_object"), NAMESPACES)
def test_every_name_is_scipys_and_the_export_list_is_the_declarations(
    namespace: str, module: types.ModuleType, scipy_object: Any
) -> None:
    declared = set(DECLARATIONS[namespace])
    assert declared
    assert {name for name in declared if not hasattr(scipy_object, name)} == set()
    assert set(module.__all__) == declared
    assert {name for name in vars(module) if not name.startswith("_")} == declared
    for name in declared:
        assert getattr(module, name) is DECLARATIONS[namespace][name].fn


def test_a_scipy_function_without_a_rule_is_named_with_a_way_forward() -> None:
    with pytest.raises(AttributeError, match=r"no differentiable version of scipy\.special\.gamma"):
        special.gamma  # noqa: B018
    with pytest.raises(AttributeError, match=r"scipy\.stats\.norm\.ppf"):
        stats.norm.ppf  # noqa: B018
    with pytest.raises(AttributeError, match=r"has no attribute 'no_such_function'$"):
        linalg.no_such_function  # noqa: B018


def test_importing_fgrad_does_not_import_scipy() -> None:
    code = (
        "import sys, fgrad, fgrad.numpy, fgrad.nn\n"
        "print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_without_scipy_importing_fgrad_scipy_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(sys.modules):
        if name == "scipy" or name.startswith(("scipy.", "fgrad.scipy", "fgrad._rules.scipy_")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # what `import scipy` sees when absent
    with pytest.raises(ImportError, match=r"fgrad\.scipy needs SciPy.*pip install fgrad\[scipy\]"):
        importlib.import_module("fgrad.scipy")
    assert "fgrad.scipy" not in sys.modules


# --- exact values: closed forms, boundaries, tails, signs --------------------------------


def test_second_derivatives_of_inverse_and_gamma_functions_are_their_closed_forms() -> None:
    x = np.array([-0.7, 0.1, 0.95])
    y = sc.erfinv(x)
    second = fgrad.vmap(fgrad.grad(fgrad.grad(special.erfinv)))(x)
    np.testing.assert_allclose(second, np.pi / 2 * y * np.exp(2 * y * y), rtol=EXACT_RTOL)
    p = np.array([0.02, 0.5, 0.9])
    z = sc.ndtri(p)
    second = fgrad.vmap(fgrad.grad(fgrad.grad(special.ndtri)))(p)
    np.testing.assert_allclose(second, 2 * np.pi * z * np.exp(z * z), rtol=EXACT_RTOL)
    x = np.array([0.3, 2.5, 11.0])
    for fun, order in ((special.gammaln, 1), (special.digamma, 2)):
        np.testing.assert_allclose(
            fgrad.vmap(fgrad.grad(fgrad.grad(fun)))(x), sc.polygamma(order, x), rtol=EXACT_RTOL
        )
    third = fgrad.vmap(fgrad.grad(fgrad.grad(fgrad.grad(special.gammaln))))(x)
    np.testing.assert_allclose(third, sc.polygamma(2, x), rtol=EXACT_RTOL)


def test_log_ndtr_gradient_stays_finite_far_in_the_left_tail() -> None:
    x = np.array([-40.0, -200.0])
    grad = fgrad.vmap(fgrad.grad(special.log_ndtr))(x)
    mills = np.exp(st.norm.logpdf(x) - st.norm.logcdf(x))
    np.testing.assert_allclose(grad, mills, rtol=EXACT_RTOL)


def test_xlogy_at_zero_x() -> None:
    def f(x: Any, y: Any) -> Any:
        return special.xlogy(x, y)

    with np.errstate(divide="ignore"):
        dx, dy = fgrad.grad(f, argnums=(0, 1))(0.0, 0.0)
        assert dy == 0.0 and dx == -np.inf
        dy = fgrad.grad(special.xlog1py, argnums=1)(0.0, -1.0)
        assert dy == 0.0
    dx, dy = fgrad.grad(f, argnums=(0, 1))(0.0, 2.0)
    assert dx == np.log(2.0) and dy == 0.0
    mixed = fgrad.grad(fgrad.grad(f, argnums=1), argnums=0)(0.0, 2.0)
    np.testing.assert_allclose(mixed, 0.5, rtol=EXACT_RTOL)


@pytest.mark.parametrize(
    ("logpdf", "reference", "params"),
    [
        (stats.beta.logpdf, st.beta.logpdf, (2.5, 1.5)),
        (stats.beta.logpdf, st.beta.logpdf, (1.0, 2.0)),
        (stats.gamma.logpdf, st.gamma.logpdf, (2.5,)),
        (stats.gamma.logpdf, st.gamma.logpdf, (1.0,)),
    ],
)
def test_logpdf_outside_and_on_the_edge_of_the_support(
    logpdf: Callable[..., Any], reference: Callable[..., Any], params: tuple[float, ...]
) -> None:
    with np.errstate(divide="ignore"):
        edges = np.array([0.0, 1.0])
        np.testing.assert_array_equal(logpdf(edges, *params), reference(edges, *params))
    outside = np.array([-0.5, -1e-9]) if logpdf is stats.gamma.logpdf else np.array([-0.5, 1.5])
    np.testing.assert_array_equal(logpdf(outside, *params), -np.inf)
    grads = fgrad.grad(lambda *p: fnp.sum(fnp.exp(logpdf(*p))), argnums=(0, 1))(outside, *params)
    np.testing.assert_array_equal(grads[0], 0.0)
    assert grads[1] == 0.0


def test_logsumexp_sign_and_gradient_of_a_negative_weighted_sum() -> None:
    a, b = np.array([0.5, 1.5, -0.2]), np.array([1.0, -2.0, 0.5])
    (value, sign), pullback = fgrad.vjp(lambda a: special.logsumexp(a, b=b, return_sign=True), a)
    expected_value, expected_sign = sc.logsumexp(a, b=b, return_sign=True)
    np.testing.assert_allclose(value, expected_value, rtol=EXACT_RTOL)
    assert sign == expected_sign == -1.0
    total = np.sum(b * np.exp(a))
    np.testing.assert_allclose(pullback((1.0, 0.0))[0], b * np.exp(a) / total, rtol=EXACT_RTOL)


def test_expm_gradient_is_scipys_frechet_derivative() -> None:
    a = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4], [0.1, 0.9, -1.1]])
    g = np.array([[1.0, 0.5, -2.0], [0.0, 0.3, 1.0], [-0.7, 0.2, 0.4]])
    _, pullback = fgrad.vjp(linalg.expm, a)
    np.testing.assert_allclose(
        pullback(g)[0], sl.expm_frechet(a.T, g, compute_expm=False), rtol=EXACT_RTOL
    )


def test_solve_triangular_reads_only_its_triangle() -> None:
    a = np.array([[2.0, 7.0, 9.0], [0.3, 5.0, 8.0], [0.1, -0.4, 6.0]])
    b = np.array([0.3, -1.2, 0.5])
    for unit, read in ((False, np.tril(np.ones((3, 3)))), (True, np.tril(np.ones((3, 3)), -1))):
        x, pullback = fgrad.vjp(
            lambda a, u=unit: linalg.solve_triangular(a, b, lower=True, unit_diagonal=u), a
        )
        np.testing.assert_array_equal(x, sl.solve_triangular(a, b, lower=True, unit_diagonal=unit))
        grad = pullback(np.ones(3))[0]
        np.testing.assert_array_equal(grad[read == 0], 0.0)
        assert np.all(grad[read == 1] != 0.0)


def test_vmap_of_solve_triangular_batches_the_matrix_too() -> None:
    a = np.stack([lower_triangular(3) for _ in range(4)])
    b = smooth(4, 3, 2)
    out = fgrad.vmap(lambda a, b: linalg.solve_triangular(a, b, lower=True))(a, b)
    loop = [sl.solve_triangular(a[i], b[i], lower=True) for i in range(4)]
    np.testing.assert_allclose(out, np.stack(loop), rtol=EXACT_RTOL)


# --- bad input -----------------------------------------------------------------------------


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"solve_triangular: a must be a square matrix.*\(2, 3\)"):
        linalg.solve_triangular(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\) or \(3, K\).*got \(2,\)"):
        linalg.solve_triangular(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match=r"trans must be 0, 1, 2, 'N', 'T' or 'C', got 'X'"):
        linalg.solve_triangular(np.eye(2), np.ones(2), trans="X")
    with pytest.raises(ValueError, match=r"expm: A must be a square matrix.*\(3,\)"):
        linalg.expm(np.ones(3))
    with pytest.raises(TypeError, match=r"polygamma: n must be integers, got dtype float64"):
        special.polygamma(1.0, np.ones(2))
    with pytest.raises(ValueError, match=r"points of dimension 2 .*mean and cov have dimension 3"):
        stats.multivariate_normal.logpdf(np.ones((4, 2)), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match=r"got mean of shape \(3,\) and cov of shape \(2, 2\)"):
        stats.multivariate_normal.logpdf(np.ones(3), np.zeros(3), np.eye(2))
    with pytest.raises(NotImplementedError, match="allow_singular=True"):
        stats.multivariate_normal.logpdf(np.ones(3), np.zeros(3), np.eye(3), allow_singular=True)


def test_fgrad_scipy_is_the_package() -> None:
    assert fgrad.scipy.special is special and fgrad.scipy.stats.norm is stats.norm


def test_a_negative_scale_or_shape_gives_nan_as_in_scipy() -> None:
    x = np.array([0.3, 0.6])
    with np.errstate(invalid="ignore"):
        for ours, theirs, params in [
            (stats.norm.logpdf, st.norm.logpdf, (0.0, -1.0)),
            (stats.t.logpdf, st.t.logpdf, (3.0, 0.0, -1.0)),
            (stats.t.logpdf, st.t.logpdf, (-3.0, 0.0, 1.0)),
            (stats.gamma.logpdf, st.gamma.logpdf, (2.0, -1.0, -1.0)),
            (stats.gamma.logpdf, st.gamma.logpdf, (-2.0, 0.0, 1.0)),
            (stats.beta.logpdf, st.beta.logpdf, (2.0, 1.5, -1.0, -1.0)),
            (stats.beta.logpdf, st.beta.logpdf, (2.0, -1.5, 0.0, 1.0)),
        ]:
            np.testing.assert_array_equal(ours(x, *params), theirs(x, *params))
            assert np.all(np.isnan(ours(x, *params)))
