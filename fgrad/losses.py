"""Loss functions, differentiable with fgrad and stable for extreme inputs.

Every loss takes the model output first and the targets second, checks that
their shapes agree (a ``(n, 1)`` prediction against ``(n,)`` targets would
otherwise broadcast to ``(n, n)``), and reduces with ``reduction``:

* ``"mean"`` (default) averages the per-entry losses: over every element for
  the elementwise losses (:func:`mse`, the binary cross-entropies), over the
  examples for the per-example losses (:func:`softmax_cross_entropy`,
  :func:`multiclass_hinge`);
* ``"sum"`` adds them;
* ``"none"`` returns them unreduced.

Losses keep the floating-point dtype of the predictions (float32 stays
float32). Value checks (class indices in range, binary targets in ``[0, 1]``)
look at the values a call receives; a replay of :func:`fgrad.jit` does not
repeat them.

Examples
--------
>>> from fgrad import losses
>>> logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
>>> labels = np.array([0, 1])
>>> round(float(losses.softmax_cross_entropy(logits, labels)), 4)
0.1481
>>> fgrad.grad(losses.softmax_cross_entropy)(logits, labels).shape
(2, 3)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal, TypeAlias

import numpy as np

import fgrad.numpy as fnp
from fgrad.nn import logsumexp, softplus
from fgrad.tree import tree_leaves
from fgrad.values import concrete, peek

__all__ = [
    "binary_cross_entropy",
    "l2_penalty",
    "mse",
    "multiclass_hinge",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
]

Reduction: TypeAlias = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: object, loss: str) -> None:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(
            f"{loss}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}"
        )


def _reduce(values: Any, reduction: str) -> Any:
    if reduction == "mean":
        return fnp.mean(values)
    if reduction == "sum":
        return fnp.sum(values)
    return values


def _array(x: Any) -> np.ndarray:
    """``x``'s value for checking shapes and ranges; under ``fgrad.jit`` this is no guard."""
    return np.asarray(peek(x))


def _same_shape(a: Any, b: Any, a_name: str, b_name: str, loss: str) -> None:
    sa, sb = _array(a).shape, _array(b).shape
    if sa != sb:
        raise ValueError(
            f"{loss}: {a_name} have shape {sa} but {b_name} have shape {sb}; they must match "
            "(reshape one of them, e.g. predictions.reshape(-1) or targets[:, None])"
        )


def _check_unit_interval(x: Any, name: str, loss: str) -> None:
    value = _array(x)
    if value.size and not ((value >= 0).all() and (value <= 1).all()):
        raise ValueError(
            f"{loss}: {name} must lie in [0, 1], got values in [{value.min()}, {value.max()}]"
        )


def _class_indices(labels: Any, num_classes: int, batch_shape: tuple[int, ...], loss: str) -> Any:
    value = _array(labels)
    if value.shape != batch_shape:
        raise ValueError(
            f"{loss}: integer labels must have shape {batch_shape} (one class index per "
            f"example), got shape {value.shape}"
        )
    if value.size and (value.min() < 0 or value.max() >= num_classes):
        raise ValueError(
            f"{loss}: class indices must lie in [0, {num_classes}), got values in "
            f"[{value.min()}, {value.max()}]"
        )
    return labels


def _check_scores(scores: Any, name: str, loss: str) -> tuple[int, ...]:
    shape = _array(scores).shape
    if len(shape) < 1:
        raise ValueError(f"{loss}: {name} need a class axis (the last one), got a scalar")
    return shape


def mse(predictions: Any, targets: Any, reduction: Reduction = "mean") -> Any:
    """Mean squared error ``(predictions - targets) ** 2``.

    Parameters
    ----------
    predictions, targets : array_like
        Arrays of the same shape.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over every element.

    Returns
    -------
    array
        A scalar, or the elementwise squared errors for ``"none"``.

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.

    Examples
    --------
    >>> from fgrad import losses
    >>> float(losses.mse(np.array([1.0, 2.0]), np.array([0.0, 4.0])))
    2.5
    >>> losses.mse(np.array([1.0, 2.0]), np.array([0.0, 4.0]), reduction="none")
    array([1., 4.])
    """
    _check_reduction(reduction, "mse")
    _same_shape(predictions, targets, "predictions", "targets", "mse")
    return _reduce(fnp.square(predictions - targets), reduction)


def binary_cross_entropy(probs: Any, targets: Any, reduction: Reduction = "mean") -> Any:
    """Binary cross-entropy ``-(t * log(p) + (1 - t) * log(1 - p))`` of probabilities.

    No clipping is applied. A probability of exactly 0 or 1 that contradicts
    its target gives an infinite loss (and gradient), with NumPy's
    divide-by-zero warning: that is the mathematically correct value. A term
    whose weight is zero contributes exactly 0, so ``p = 1, t = 1`` and
    ``p = 0, t = 0`` have zero loss and finite gradients. Probabilities
    computed as ``sigmoid(logits)`` saturate to exactly 0 or 1 for large
    logits, and ``1 - p`` loses precision near 1: prefer
    :func:`sigmoid_binary_cross_entropy` on the logits.

    Parameters
    ----------
    probs : array_like
        Predicted probabilities of the positive class, in ``[0, 1]``.
    targets : array_like
        Target probabilities (usually 0 or 1), same shape as ``probs``.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over every element.

    Raises
    ------
    ValueError
        If the shapes differ, a value lies outside ``[0, 1]``, or
        ``reduction`` is unknown.

    Examples
    --------
    >>> from fgrad import losses
    >>> p, t = np.array([0.9, 0.2]), np.array([1.0, 0.0])
    >>> bool(np.isclose(losses.binary_cross_entropy(p, t), -(np.log(0.9) + np.log(0.8)) / 2))
    True
    >>> float(losses.binary_cross_entropy(t, t, reduction="sum"))
    0.0
    """
    loss = "binary_cross_entropy"
    _check_reduction(reduction, loss)
    _same_shape(probs, targets, "probs", "targets", loss)
    _check_unit_interval(probs, "probs", loss)
    _check_unit_interval(targets, "targets", loss)
    t = np.asarray(concrete(targets))
    p_pos = fnp.where(t == 0, 1, probs)
    p_neg = fnp.where(t == 1, 0, probs)
    values = -(targets * fnp.log(p_pos) + (1 - targets) * fnp.log1p(-p_neg))
    return _reduce(values, reduction)


def sigmoid_binary_cross_entropy(logits: Any, targets: Any, reduction: Reduction = "mean") -> Any:
    """Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits.

    Evaluated as ``t * softplus(-x) + (1 - t) * softplus(x)``, which equals
    ``max(x, 0) - x * t + log1p(exp(-|x|))`` but has the exact gradient
    ``sigmoid(x) - t`` everywhere (including ``x = 0``) and no cancellation.
    Finite, without warnings, for any finite logits.

    Parameters
    ----------
    logits : array_like
        Real-valued scores; ``sigmoid(logits)`` is the probability of class 1.
    targets : array_like
        Target probabilities in ``[0, 1]`` (usually 0 or 1), same shape.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over every element.

    Raises
    ------
    ValueError
        If the shapes differ, a target lies outside ``[0, 1]`` (e.g. labels
        in ``{-1, 1}``), or ``reduction`` is unknown.

    Examples
    --------
    >>> from fgrad import losses
    >>> x, t = np.array([1e4, -1e4, 0.0]), np.array([0.0, 0.0, 1.0])
    >>> losses.sigmoid_binary_cross_entropy(x, t, reduction="none")
    array([1.00000000e+04, 0.00000000e+00, 6.93147181e-01])
    >>> np.round(fgrad.grad(losses.sigmoid_binary_cross_entropy)(x, t) * 3, 12)
    array([ 1. ,  0. , -0.5])
    """
    loss = "sigmoid_binary_cross_entropy"
    _check_reduction(reduction, loss)
    _same_shape(logits, targets, "logits", "targets", loss)
    _check_unit_interval(targets, "targets", loss)
    values = targets * softplus(-logits) + (1 - targets) * softplus(logits)
    return _reduce(values, reduction)


def softmax_cross_entropy(logits: Any, labels: Any, reduction: Reduction = "mean") -> Any:
    """Cross-entropy between ``softmax(logits)`` and the labels.

    The class axis is the last one. Labels are recognised by shape and
    dtype:

    * integer class indices, of shape ``logits.shape[:-1]`` (e.g.
      ``(batch,)``), giving ``-log_softmax(logits)[i, labels[i]]``;
    * one-hot rows or probability distributions of ``logits.shape``, giving
      ``-sum(labels * log_softmax(logits), axis=-1)``.

    ``-log_softmax(x)`` is evaluated as ``logsumexp(x) - x`` with the stable
    :func:`fgrad.nn.logsumexp`, so the loss is finite, without warnings, for
    any finite logits (and exactly ``+0.0`` when saturated).

    Parameters
    ----------
    logits : array_like
        Unnormalised scores of shape ``(..., num_classes)``.
    labels : array_like
        Class indices or target distributions, as above.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over the examples; ``"none"`` returns one loss per
        example (shape ``logits.shape[:-1]``).

    Raises
    ------
    ValueError
        If the labels' shape fits neither form, class indices are out of
        range, floating-point labels have the batch shape (cast indices to
        int), or ``reduction`` is unknown.

    Examples
    --------
    >>> from fgrad import losses
    >>> logits = np.array([[0.0, 0.0], [1e4, -1e4]])
    >>> losses.softmax_cross_entropy(logits, np.array([1, 0]), reduction="none")
    array([0.69314718, 0.        ])
    >>> one_hot = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> losses.softmax_cross_entropy(logits, one_hot, reduction="none")
    array([0.69314718, 0.        ])
    """
    loss = "softmax_cross_entropy"
    _check_reduction(reduction, loss)
    shape = _check_scores(logits, "logits", loss)
    label_value = _array(labels)
    normalizer = logsumexp(logits, axis=-1, keepdims=True)
    if label_value.shape == shape:
        values = fnp.sum(labels * (normalizer - logits), axis=-1)
    elif label_value.dtype.kind in "iu":
        idx = _class_indices(labels, shape[-1], shape[:-1], loss)
        picked = fnp.take_along_axis(logits, fnp.expand_dims(idx, -1), axis=-1)
        values = fnp.squeeze(normalizer - picked, axis=-1)
    else:
        hint = (
            " (these look like class indices: cast them to an integer dtype)"
            if label_value.shape == shape[:-1]
            else ""
        )
        raise ValueError(
            f"{loss}: labels must be integer class indices of shape {shape[:-1]} or "
            f"one-hot/probabilities of the logits' shape {shape}; got shape "
            f"{label_value.shape} and dtype {label_value.dtype}{hint}"
        )
    return _reduce(values, reduction)


def multiclass_hinge(
    scores: Any, labels: Any, delta: float = 1.0, reduction: Reduction = "mean"
) -> Any:
    """Multiclass SVM (Weston-Watkins / CS231n) hinge loss.

    For example ``i`` with correct class ``y = labels[i]`` the loss is
    ``sum over j != y of max(0, scores[i, j] - scores[i, y] + delta)``.
    Vectorised over the batch; the gradient is a subgradient at the kinks.

    Parameters
    ----------
    scores : array_like
        Class scores of shape ``(..., num_classes)``.
    labels : array_like of int
        Correct class indices of shape ``scores.shape[:-1]``.
    delta : float, default=1.0
        Margin by which the correct score should beat every other one.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` averages over the examples.

    Raises
    ------
    ValueError
        If the labels are not integer indices of the batch shape or are out
        of range, ``delta`` is not finite, or ``reduction`` is unknown.

    Examples
    --------
    >>> from fgrad import losses
    >>> scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    >>> losses.multiclass_hinge(scores, np.array([0, 1, 2]), reduction="none")
    array([ 2.9,  0. , 12.9])
    """
    loss = "multiclass_hinge"
    _check_reduction(reduction, loss)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not math.isfinite(delta):
        raise ValueError(f"{loss}: delta must be a finite real number, got {delta!r}")
    shape = _check_scores(scores, "scores", loss)
    label_value = _array(labels)
    if label_value.dtype.kind not in "iu":
        raise ValueError(
            f"{loss}: labels must be integer class indices of shape {shape[:-1]}, got dtype "
            f"{label_value.dtype} and shape {label_value.shape}"
        )
    idx = np.asarray(concrete(_class_indices(labels, shape[-1], shape[:-1], loss)))
    correct = fnp.take_along_axis(scores, idx[..., None], axis=-1)
    margins = fnp.maximum(scores - correct + float(delta), 0)
    others = np.arange(shape[-1]) != idx[..., None]
    values = fnp.sum(fnp.where(others, margins, 0), axis=-1)
    return _reduce(values, reduction)


def l2_penalty(params: Any) -> Any:
    """Half the sum of squares of every leaf of a pytree: ``0.5 * sum(p ** 2)``.

    All leaves are included, biases too. To penalise only some of them, pass
    just those, e.g. the weight matrices of a :func:`fgrad.nn.serial` model of
    :func:`fgrad.nn.Dense` layers: ``l2_penalty([p[0] for p in params if p])``.
    Add it to a loss as ``loss + weight_decay * l2_penalty(params)``.

    Parameters
    ----------
    params : pytree
        Arrays or scalars in any nesting of containers.

    Returns
    -------
    scalar
        0.0 for a tree without leaves.

    Examples
    --------
    >>> from fgrad import losses
    >>> params = ((np.array([[1.0, 2.0]]), np.array([3.0])), ())
    >>> float(losses.l2_penalty(params))
    7.0
    >>> fgrad.grad(losses.l2_penalty)(params)
    ((array([[1., 2.]]), array([3.])), ())
    """
    square_sums = [fnp.sum(fnp.square(leaf)) for leaf in tree_leaves(params)]
    if not square_sums:
        return 0.0
    total = square_sums[0]
    for square_sum in square_sums[1:]:
        total = total + square_sum
    return fnp.multiply(0.5, total)
