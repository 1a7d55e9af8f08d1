"""Tests for fgrad.losses: values, reductions, validation, gradients and stability."""

import decimal
import warnings

import numpy as np
import pytest

import fgrad
from fgrad import losses

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
ONE_HOT = np.eye(4)[LABELS]
SOFT = np.exp(rng.standard_normal((5, 4)))
SOFT /= SOFT.sum(axis=1, keepdims=True)
PROBS = np.array([0.1, 0.45, 0.8, 0.6, 0.33])
TARGETS = np.array([0.0, 1.0, 1.0, 0.3, 0.0])


@pytest.fixture
def strict():
    """Every overflow, division by zero or invalid operation is an error (underflow is not)."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def naive_hinge(scores, labels, delta):
    out = np.zeros(len(scores))
    for i, (s, y) in enumerate(zip(scores, labels)):
        for j in range(len(s)):
            if j != y:
                out[i] += max(0.0, s[j] - s[y] + delta)
    return out


# --------------------------------------------------------------------------- values


def test_mse_values_and_reductions():
    p, t = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [1.0, 1.0]])
    sq = (p - t) ** 2
    np.testing.assert_allclose(losses.mse(p, t), sq.mean())
    np.testing.assert_allclose(losses.mse(p, t, reduction="sum"), sq.sum())
    np.testing.assert_array_equal(losses.mse(p, t, reduction="none"), sq)


def test_binary_cross_entropy_matches_formula():
    expected = -(TARGETS * np.log(PROBS) + (1 - TARGETS) * np.log(1 - PROBS))
    np.testing.assert_allclose(losses.binary_cross_entropy(PROBS, TARGETS, "none"), expected)
    np.testing.assert_allclose(losses.binary_cross_entropy(PROBS, TARGETS), expected.mean())


def test_binary_cross_entropy_at_exact_zero_and_one():
    p = np.array([0.0, 1.0, 0.0, 1.0])
    agree = np.array([0.0, 1.0, 0.0, 1.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        assert losses.binary_cross_entropy(p, agree, "sum") == 0.0
        g = fgrad.grad(losses.binary_cross_entropy)(p, agree)
    np.testing.assert_array_equal(g, [0.25, -0.25, 0.25, -0.25])
    with np.errstate(divide="ignore"):
        contradict = losses.binary_cross_entropy(p, 1 - agree, "none")
    np.testing.assert_array_equal(contradict, np.inf)


def test_sigmoid_binary_cross_entropy_matches_stable_formula():
    x = np.array([-30.0, -2.0, -0.1, 0.0, 0.5, 3.0, 40.0])
    t = np.array([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0])
    direct = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(losses.sigmoid_binary_cross_entropy(x, t, "none"), direct)
    moderate = slice(1, 6)
    p = 1 / (1 + np.exp(-x[moderate]))
    np.testing.assert_allclose(
        losses.sigmoid_binary_cross_entropy(x[moderate], t[moderate], "sum"),
        losses.binary_cross_entropy(p, t[moderate], "sum"),
    )


SOFT_LOGITS = np.array([-1e4, -40.0, -3.0, -0.7, 0.25, 1.5, 8.0, 40.0, 1e4])
SOFT_TARGETS = np.array([0.3, 0.9, 0.25, 0.6, 0.1, 0.75, 0.5, 0.2, 0.95])
REFERENCE_DIGITS = 50
ROUNDING_RTOL = 1e-14


def reference_sigmoid_bce(logits, targets):
    """``-(t log p + (1 - t) log(1 - p))``, ``p = 1 / (1 + exp(-x))``, in 50-digit decimals."""
    with decimal.localcontext() as ctx:
        ctx.prec = REFERENCE_DIGITS
        values = []
        for x, t in zip(logits.tolist(), targets.tolist()):
            x, t = decimal.Decimal(x), decimal.Decimal(t)
            log_p = -(1 + (-x).exp()).ln()
            log_not_p = -(1 + x.exp()).ln()
            values.append(float(-(t * log_p + (1 - t) * log_not_p)))
    return np.array(values)


def test_sigmoid_binary_cross_entropy_soft_targets_away_from_zero(strict):
    values = losses.sigmoid_binary_cross_entropy(SOFT_LOGITS, SOFT_TARGETS, "none")
    expected = reference_sigmoid_bce(SOFT_LOGITS, SOFT_TARGETS)
    np.testing.assert_allclose(values, expected, rtol=ROUNDING_RTOL)
    g = fgrad.grad(losses.sigmoid_binary_cross_entropy)(SOFT_LOGITS, SOFT_TARGETS, "sum")
    sigmoid = np.exp(-np.logaddexp(0.0, -SOFT_LOGITS))
    np.testing.assert_allclose(g, sigmoid - SOFT_TARGETS, rtol=ROUNDING_RTOL)


def test_sigmoid_binary_cross_entropy_gradient_is_sigmoid_minus_target():
    x = np.array([-3.0, 0.0, 0.0, 2.0])
    t = np.array([1.0, 1.0, 0.0, 0.25])
    g = fgrad.grad(losses.sigmoid_binary_cross_entropy)(x, t, reduction="sum")
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-x)) - t, rtol=1e-14)


def test_softmax_cross_entropy_label_forms_agree_with_formula():
    expected = -np_log_softmax(LOGITS)[np.arange(5), LABELS]
    for labels in (LABELS, LABELS.astype(np.int32), LABELS.astype(np.uint8), ONE_HOT):
        np.testing.assert_allclose(
            losses.softmax_cross_entropy(LOGITS, labels, "none"), expected, rtol=1e-14
        )
    np.testing.assert_allclose(losses.softmax_cross_entropy(LOGITS, LABELS), expected.mean())
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(LOGITS, ONE_HOT.astype(bool), "sum"), expected.sum()
    )
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(LOGITS, 2.5 * ONE_HOT, "none"), 2.5 * expected, rtol=1e-14
    )
    np.testing.assert_allclose(
        losses.softmax_cross_entropy(LOGITS, SOFT, "none"),
        -(SOFT * np_log_softmax(LOGITS)).sum(-1),
        rtol=1e-14,
    )


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    g = fgrad.grad(losses.softmax_cross_entropy)(LOGITS, LABELS, reduction="sum")
    np.testing.assert_allclose(g, np.exp(np_log_softmax(LOGITS)) - ONE_HOT, atol=1e-15)


def test_softmax_cross_entropy_batch_dims_and_single_example():
    logits = rng.standard_normal((2, 3, 4))
    labels = np.array([[0, 1, 2], [3, 3, 0]])
    out = losses.softmax_cross_entropy(logits, labels, "none")
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1, 0], -np_log_softmax(logits[1, 0])[3])
    single = losses.softmax_cross_entropy(logits[0, 0], np.array(2), "none")
    np.testing.assert_allclose(single, -np_log_softmax(logits[0, 0])[2])


def test_multiclass_hinge_matches_cs231n_loop():
    scores = rng.standard_normal((6, 5))
    labels = np.array([0, 4, 2, 2, 1, 3])
    for delta in (1.0, 0.5):
        expected = naive_hinge(scores, labels, delta)
        np.testing.assert_allclose(
            losses.multiclass_hinge(scores, labels, delta, reduction="none"), expected
        )
        np.testing.assert_allclose(
            losses.multiclass_hinge(scores, labels, delta=delta), expected.mean()
        )


def test_multiclass_hinge_gradient_counts_violations():
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    labels = np.array([0, 1, 2])
    g = fgrad.grad(losses.multiclass_hinge)(scores, labels, reduction="sum")
    np.testing.assert_array_equal(g, [[-1, 1, 0], [0, 0, 0], [1, 1, -2]])


def test_l2_penalty():
    params = ((np.array([[1.0, -2.0]]), np.array([3.0])), (), {"s": 0.5})
    assert losses.l2_penalty(params) == pytest.approx(0.5 * (1 + 4 + 9 + 0.25))
    grads = fgrad.grad(losses.l2_penalty)(params)
    np.testing.assert_array_equal(grads[0][0], params[0][0])
    np.testing.assert_array_equal(grads[2]["s"], 0.5)
    assert losses.l2_penalty(()) == 0.0
    weights_only = [p[0] for p in params[:2] if p]
    assert losses.l2_penalty(weights_only) == pytest.approx(2.5)


# --------------------------------------------------------------------------- gradients

SMOOTH_CASES = {
    "mse": (lambda p, t: losses.mse(p, t), (LOGITS, SOFT)),
    "bce": (lambda p: losses.binary_cross_entropy(p, TARGETS), (PROBS,)),
    "bce_targets": (lambda t: losses.binary_cross_entropy(PROBS, t), (TARGETS * 0.8 + 0.1,)),
    "sigmoid_bce": (
        lambda x, t: losses.sigmoid_binary_cross_entropy(x, t, "sum"),
        (LOGITS[:, 0], TARGETS * 0.8 + 0.1),
    ),
    "softmax_ce_indices": (lambda x: losses.softmax_cross_entropy(x, LABELS), (LOGITS,)),
    "softmax_ce_soft": (lambda x, y: losses.softmax_cross_entropy(x, y, "none"), (LOGITS, SOFT)),
    "l2": (losses.l2_penalty, ({"a": LOGITS, "b": (PROBS,)},)),
    "hinge": (lambda s: losses.multiclass_hinge(s, LABELS, 0.3, "none"), (LOGITS,)),
}


@pytest.mark.parametrize("name", sorted(SMOOTH_CASES))
def test_loss_gradients_order_2(name):
    f, args = SMOOTH_CASES[name]
    fgrad.check_grads(f, args, order=2)


# --------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logit_losses_stable_at_extremes(dtype, strict):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [1e4, 1e4, 1e4]], dtype=dtype)
    labels = np.array([1, 0, 2])
    y = np.eye(3, dtype=dtype)[labels]
    x64 = x.astype(np.float64)
    cross_entropy = -np_log_softmax(x64)[np.arange(3), labels]
    cases = [
        (losses.softmax_cross_entropy, labels, cross_entropy),
        (losses.softmax_cross_entropy, y, cross_entropy),
        (losses.sigmoid_binary_cross_entropy, y, None),
        (losses.multiclass_hinge, labels, naive_hinge(x64, labels, 1.0)),
        (losses.mse, y, None),
    ]
    for loss, target, expected in cases:
        values = loss(x, target, reduction="none")
        value, grads = fgrad.value_and_grad(loss)(x, target)
        hess_diag = fgrad.grad(lambda x, f=loss, t=target: fgrad.grad(f)(x, t)[0, 0])(x)
        for out in (values, value, grads, hess_diag):
            assert np.all(np.isfinite(out)), loss.__name__
            assert np.asarray(out).dtype == dtype, loss.__name__
        if expected is not None:
            np.testing.assert_allclose(values, expected, rtol=1e-6, atol=np.spacing(dtype(1e4)))
    sbce = losses.sigmoid_binary_cross_entropy(x[0], y[0], reduction="none")
    np.testing.assert_allclose(sbce, [1e4, 1e4, np.log(2)], rtol=1e-6)


def test_softmax_cross_entropy_saturated_is_exact_zero():
    out = losses.softmax_cross_entropy(np.array([[1e4, -1e4]]), np.array([0]), "none")
    assert out[0] == 0.0 and not np.signbit(out[0])


# --------------------------------------------------------------------------- validation

ALL_LOSSES = [
    (losses.mse, (LOGITS, SOFT)),
    (losses.binary_cross_entropy, (PROBS, TARGETS)),
    (losses.sigmoid_binary_cross_entropy, (LOGITS, SOFT)),
    (losses.softmax_cross_entropy, (LOGITS, LABELS)),
    (losses.multiclass_hinge, (LOGITS, LABELS)),
]


@pytest.mark.parametrize(("loss", "args"), ALL_LOSSES)
def test_reductions_are_validated_and_consistent(loss, args):
    none = loss(*args, reduction="none")
    np.testing.assert_allclose(loss(*args, reduction="sum"), none.sum())
    np.testing.assert_allclose(loss(*args), none.mean())
    for bad in ("avg", "MEAN", None):
        with pytest.raises(ValueError, match="reduction must be one of"):
            loss(*args, reduction=bad)


@pytest.mark.parametrize(
    "loss", [losses.mse, losses.binary_cross_entropy, losses.sigmoid_binary_cross_entropy]
)
def test_shape_mismatch_names_both_shapes(loss):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(np.full((4, 1), 0.5), np.zeros(4))


def test_softmax_cross_entropy_label_errors():
    with pytest.raises(ValueError, match="cast them to an integer dtype"):
        losses.softmax_cross_entropy(LOGITS, LABELS.astype(float))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        losses.softmax_cross_entropy(LOGITS, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        losses.softmax_cross_entropy(LOGITS, np.array([0, 1, 2, 3, -1]))
    with pytest.raises(ValueError, match="shape"):
        losses.softmax_cross_entropy(LOGITS, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="class axis"):
        losses.softmax_cross_entropy(np.float64(1.0), np.array(0))


def test_hinge_label_and_delta_errors():
    with pytest.raises(ValueError, match="integer class indices"):
        losses.multiclass_hinge(LOGITS, ONE_HOT)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        losses.multiclass_hinge(LOGITS, np.array([0, 1, 2, 3, 7]))
    with pytest.raises(ValueError, match="delta"):
        losses.multiclass_hinge(LOGITS, LABELS, delta=float("inf"))


def test_binary_losses_reject_values_outside_unit_interval():
    with pytest.raises(ValueError, match="targets must lie in"):
        losses.sigmoid_binary_cross_entropy(np.zeros(2), np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="probs must lie in"):
        losses.binary_cross_entropy(np.array([1.2, 0.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="targets must lie in"):
        losses.binary_cross_entropy(np.array([0.2, 0.5]), np.array([2.0, 0.0]))


def test_losses_keep_float32():
    x = LOGITS.astype(np.float32)
    assert losses.softmax_cross_entropy(x, LABELS).dtype == np.float32
    assert losses.mse(x, x * 0).dtype == np.float32
    assert losses.sigmoid_binary_cross_entropy(x, np.ones_like(x)).dtype == np.float32
    assert losses.multiclass_hinge(x, LABELS).dtype == np.float32
    assert losses.l2_penalty([x]).dtype == np.float32
