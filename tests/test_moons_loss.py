"""Acceptance check of the core issue: moons-loss gradients match finite differences to 1e-7."""

from __future__ import annotations

import numpy as np

import fgrad
import fgrad.numpy as fnp
from fgrad.checking import DEFAULT_RTOL, gradient_errors
from fgrad.datasets import make_moons
from fgrad.nn import Dense, Sigmoid, serial


def test_moons_loss_gradients_match_finite_differences_to_1e_7():
    X, y = make_moons(200, noise=0.1, random_state=0)
    layers = []
    for width in (4, 10, 4, 1):
        layers += [Dense(width), Sigmoid]
    init, apply = serial(*layers)
    _, params = init(fgrad.random.key(42), (-1, 2))

    def loss(params, X, y):
        return fnp.mean((apply(params, X)[:, 0] - y) ** 2)

    value, grads = fgrad.value_and_grad(loss)(params, X, y)
    assert np.isfinite(value)
    assert fgrad.tree.tree_structure(grads) == fgrad.tree.tree_structure(params)
    errors = gradient_errors(lambda p: loss(p, X, y), (params,), order=1, modes=("rev",))
    assert DEFAULT_RTOL == 1e-7
    assert max(errors.values()) <= 1e-7
    assert len(errors) == len(fgrad.tree.tree_leaves(params))
