"""Export lists: ``fgrad.numpy`` and ``fgrad.numpy.linalg`` hold NumPy's names, declared once.

The names come from the declarations in the rule modules (``fgrad/_rules/declare.py``),
the only source of each namespace's list. A name NumPy does not have, a private helper
that leaks, or a function exported but not declared fails here.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import fgrad
import fgrad.nn
import fgrad.numpy as fnp
from fgrad._rules.declare import DECLARATIONS

FGRAD_EXTENSIONS = {"scatter_add", "at"}
"""Names of ``fgrad.numpy`` that NumPy lacks, on purpose (documented in their docstrings)."""

NUMPY_2_NAMES = {
    "numpy": {
        "astype", "concat", "permute_dims", "pow", "unique_all", "unique_counts",
        "unique_inverse", "unique_values", "trapezoid", "matrix_transpose", "vecdot",
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_invert",
        "bitwise_left_shift", "bitwise_right_shift", "cumulative_sum", "cumulative_prod",
    },
    "numpy.linalg": {
        "cross", "diagonal", "matmul", "matrix_norm", "matrix_transpose", "outer",
        "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
    },
}  # fmt: skip
"""Names NumPy 2 added: fgrad offers them on NumPy 1.26 as well."""

NAMESPACES = [
    ("numpy", fnp, np),
    ("numpy.linalg", fnp.linalg, np.linalg),
    ("numpy.fft", fnp.fft, np.fft),
]


@pytest.mark.parametrize(("namespace", "module", "numpy_module"), NAMESPACES)
def test_every_name_is_numpys(
    namespace: str, module: types.ModuleType, numpy_module: types.ModuleType
) -> None:
    allowed = FGRAD_EXTENSIONS | {"linalg", "fft"} if namespace == "numpy" else set()
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        allowed |= NUMPY_2_NAMES.get(namespace, set())
    foreign = {n for n in module.__all__ if not hasattr(numpy_module, n)} - allowed
    assert foreign == set()


@pytest.mark.parametrize(("namespace", "module", "numpy_module"), NAMESPACES)
def test_export_list_is_the_declarations_and_nothing_leaks(
    namespace: str, module: types.ModuleType, numpy_module: types.ModuleType
) -> None:
    declared = set(DECLARATIONS[namespace])
    extra = {"linalg", "fft"} if namespace == "numpy" else set()
    assert set(module.__all__) == declared | extra
    public = {n for n in vars(module) if not n.startswith("_")}
    assert public == declared | extra
    for name in declared:
        assert getattr(module, name) is DECLARATIONS[namespace][name].fn


def test_linalg_only_functions_are_not_at_top_level() -> None:
    for name in ("inv", "cholesky", "det", "slogdet", "solve", "norm", "getitem"):
        assert not hasattr(fnp, name), name
    with pytest.raises(
        AttributeError, match=r"numpy\.linalg\.inv, so use fgrad\.numpy\.linalg\.inv"
    ):
        fnp.inv  # noqa: B018


def test_a_numpy_function_without_a_rule_is_named_with_a_way_forward() -> None:
    with pytest.raises(AttributeError, match=r"no differentiable version of numpy\.bincount"):
        fnp.bincount  # noqa: B018


def test_each_function_declared_once_per_name() -> None:
    for namespace, entries in DECLARATIONS.items():
        for short, entry in entries.items():
            assert entry.namespace == namespace
            assert entry.name.rpartition(".")[2] == short


def test_nn_functions_are_declared() -> None:
    for short, entry in DECLARATIONS["nn"].items():
        assert getattr(fgrad.nn, short) is entry.fn


def _dispatchable(numpy_fn: object) -> bool:
    return isinstance(numpy_fn, np.ufunc) or hasattr(numpy_fn, "_implementation")


def test_numpy_calls_on_tracers_reach_every_declared_function() -> None:
    from fgrad._rules.declare import FUNCTION_RULES, UFUNC_RULES, numpy_object

    for namespace in ("numpy", "numpy.linalg"):
        for entry in DECLARATIONS[namespace].values():
            numpy_fn = numpy_object(entry.name)
            if entry.differentiability == "numpy" or not _dispatchable(numpy_fn):
                continue
            rules = UFUNC_RULES if isinstance(numpy_fn, np.ufunc) else FUNCTION_RULES
            assert rules.get(numpy_fn) is entry.fn, f"numpy.{entry.name}"
