"""``docs/coverage.md`` says what fgrad offers for every public NumPy name: keep it in step.

The table was generated on one NumPy version (named in it). On that version the whole text
must match a fresh rendering; on any other (1.26 or 2.x) the names both versions have must be
classed alike, and the counts at the top must add up to the rows.
"""

from __future__ import annotations

import re

import numpy as np
import numpy_coverage
import pytest

REGENERATE = "out of date: run `python tests/numpy_coverage.py` and commit docs/coverage.md"
CHANGED_BETWEEN_VERSIONS = {
    "row_stack": "NumPy 1.x: vstack itself (differentiable); 2.x: a deprecated wrapper",
}
"""Names whose NumPy object itself differs between versions, so their class may too."""


@pytest.fixture(scope="module")
def written() -> str:
    return numpy_coverage.DOC.read_text()


def test_the_table_matches_the_code(written: str) -> None:
    generated_with = re.search(r"with NumPy (\S+);", written)
    assert generated_with is not None
    fresh = numpy_coverage.render(numpy_coverage.table())
    if generated_with.group(1) == np.__version__:
        assert written == fresh, REGENERATE
    documented, current = numpy_coverage.parse(written), numpy_coverage.parse(fresh)
    for namespace, rows in current.items():
        disagree = {
            name: (documented[namespace][name], cls)
            for name, cls in rows.items()
            if name in documented[namespace]
            and documented[namespace][name] != cls
            and name not in CHANGED_BETWEEN_VERSIONS
        }
        assert disagree == {}, f"{namespace}: (table, code) {disagree}; {REGENERATE}"


def test_the_counts_at_the_top_add_up_the_rows(written: str) -> None:
    counts = re.search(r"\| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", written)
    assert counts is not None
    rows = [cls for entries in numpy_coverage.parse(written).values() for cls in entries.values()]
    expected = [rows.count(c) for c in numpy_coverage.CLASSES] + [len(rows)]
    assert [int(c) for c in counts.groups()] == expected


def test_every_class_is_one_of_three_and_each_exception_has_a_reason() -> None:
    for entries in numpy_coverage.table().values():
        for cls, reason in entries.values():
            assert cls in numpy_coverage.CLASSES
            assert bool(reason) == (cls != "differentiable") or reason.startswith("NumPy's alias")
