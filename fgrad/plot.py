"""Matplotlib helpers for classifiers and training runs.

Needs the optional ``matplotlib`` dependency (``pip install 'fgrad[examples]'``),
which is imported only when one of these functions is called. Every function
draws on ``ax`` (or a new figure's axes when ``ax is None``), returns the
axes, and never calls ``plt.show()``, so it works headless (e.g. with the Agg
backend) and in notebooks alike.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["decision_boundary", "loss_curve", "scatter_labels"]


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "fgrad.plot needs matplotlib; install it with pip install 'fgrad[examples]'"
        ) from e
    _, new_ax = plt.subplots()
    return new_ax


def _check_points(
    X: npt.ArrayLike, y: npt.ArrayLike, fn: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[Any]]:
    X_arr = np.asarray(X, dtype=np.float64)
    y_arr = np.asarray(y)
    if X_arr.ndim != 2 or X_arr.shape[1] != 2:
        raise ValueError(f"{fn}: X must have shape (n_samples, 2), got {X_arr.shape}")
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr[:, 0]
    if y_arr.shape != (X_arr.shape[0],):
        raise ValueError(
            f"{fn}: y must have shape ({X_arr.shape[0]},) to match X {X_arr.shape}, "
            f"got {y_arr.shape}"
        )
    return X_arr, y_arr


def scatter_labels(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    ax: Axes | None = None,
    *,
    cmap: str = "Spectral",
    **scatter_kwargs: Any,
) -> Axes:
    """Scatter 2-D points coloured by label.

    Parameters
    ----------
    X : array_like of shape (n_samples, 2)
    y : array_like of shape (n_samples,)
        Labels (or any values) mapped to colours through ``cmap``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when omitted.
    cmap : str, default="Spectral"
    **scatter_kwargs
        Passed on to :meth:`matplotlib.axes.Axes.scatter` (defaults:
        ``s=20, edgecolors="k", linewidths=0.5``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from fgrad.plot import scatter_labels
    >>> ax = scatter_labels([[0.0, 0.0], [1.0, 1.0]], [0, 1], marker="s")
    >>> ax.collections[0].get_offsets().shape
    (2, 2)
    >>> plt.close(ax.figure)
    """
    X_arr, y_arr = _check_points(X, y, "scatter_labels")
    ax = _axes(ax)
    kwargs: dict[str, Any] = {"s": 20, "edgecolors": "k", "linewidths": 0.5}
    kwargs.update(scatter_kwargs)
    ax.scatter(X_arr[:, 0], X_arr[:, 1], c=y_arr, cmap=cmap, **kwargs)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def decision_boundary(
    predict_fn: Callable[[npt.NDArray[np.float64]], npt.ArrayLike],
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    padding: float = 0.5,
    threshold: float | None = None,
    cmap: str = "Spectral",
) -> Axes:
    """Draw a 2-D classifier's decision regions with the labelled data on top.

    ``predict_fn`` is evaluated once, on a ``resolution x resolution`` grid
    covering the bounding box of ``X`` enlarged by ``padding``.

    Parameters
    ----------
    predict_fn : callable
        Maps grid points, an ndarray of shape ``(m, 2)``, to scores of shape
        ``(m,)``, ``(m, 1)`` or ``(m, k)``. With ``k > 1`` columns the regions
        show the argmax class; otherwise the score is drawn as a filled
        contour.
    X : array_like of shape (n_samples, 2)
    y : array_like of shape (n_samples,)
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when omitted.
    resolution : int, default=200
        Grid points per axis, >= 2.
    padding : float, default=0.5
        Margin added around the data, >= 0.
    threshold : float, optional
        For a single score column, also draw the contour line
        ``score == threshold`` (e.g. 0.5 for probabilities, 0 for logits).
    cmap : str, default="Spectral"

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from fgrad.plot import decision_boundary
    >>> X = np.array([[-1.0, 0.0], [1.0, 0.0]])
    >>> ax = decision_boundary(lambda P: P[:, 0], X, [0, 1], resolution=20, threshold=0.0)
    >>> len(ax.collections)  # filled contour, threshold line, points
    3
    >>> plt.close(ax.figure)
    """
    X_arr, y_arr = _check_points(X, y, "decision_boundary")
    if X_arr.shape[0] == 0:
        raise ValueError("decision_boundary: X must contain at least one point")
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral):
        raise TypeError(f"decision_boundary: resolution must be an int, got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"decision_boundary: resolution must be >= 2, got {resolution}")
    if not np.isfinite(padding) or padding < 0:
        raise ValueError(f"decision_boundary: padding must be a finite float >= 0, got {padding!r}")

    lo = X_arr.min(axis=0) - padding
    hi = X_arr.max(axis=0) + padding
    hi = np.where(hi > lo, hi, lo + 1.0)
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    m = grid.shape[0]

    scores = np.asarray(predict_fn(grid), dtype=np.float64)
    if scores.ndim not in (1, 2) or scores.shape[0] != m:
        raise ValueError(
            f"decision_boundary: predict_fn must return shape ({m},), ({m}, 1) or ({m}, k) "
            f"for {m} grid points, got {scores.shape}"
        )

    ax = _axes(ax)
    if scores.ndim == 2 and scores.shape[1] > 1:
        if threshold is not None:
            raise ValueError(
                "decision_boundary: threshold applies to a single score column, but "
                f"predict_fn returned {scores.shape[1]} columns (drawn as argmax classes)"
            )
        k = scores.shape[1]
        classes = scores.argmax(axis=1).reshape(xx.shape)
        vmax = max(k - 1, int(np.max(y_arr)) if np.issubdtype(y_arr.dtype, np.number) else 0)
        ax.contourf(
            xx,
            yy,
            classes,
            levels=np.arange(k + 1) - 0.5,
            cmap=cmap,
            alpha=0.4,
            vmin=0,
            vmax=vmax,
        )
        scatter_labels(X_arr, y_arr, ax, cmap=cmap, vmin=0, vmax=vmax)
    else:
        zz = scores.reshape(xx.shape)
        ax.contourf(xx, yy, zz, levels=20, cmap=cmap, alpha=0.4)
        if threshold is not None:
            ax.contour(xx, yy, zz, levels=[threshold], colors="k", linewidths=1.5)
        scatter_labels(X_arr, y_arr, ax, cmap=cmap)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return ax


def loss_curve(
    history: npt.ArrayLike | Mapping[str, npt.ArrayLike],
    ax: Axes | None = None,
    *,
    log_scale: bool = False,
    label: str | None = None,
) -> Axes:
    """Plot loss (or any metric) against the step index.

    Parameters
    ----------
    history : sequence of float, or dict mapping name to sequence of float
        One curve, or one labelled curve per entry (with a legend).
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created when omitted.
    log_scale : bool, default=False
        Use a logarithmic y axis; all values must then be positive.
    label : str, optional
        Legend label for a single curve. For a dict the keys are the labels.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from fgrad.plot import loss_curve
    >>> ax = loss_curve({"train": [1.0, 0.5, 0.2], "test": [1.1, 0.7, 0.6]}, log_scale=True)
    >>> [line.get_label() for line in ax.get_lines()], ax.get_yscale()
    (['train', 'test'], 'log')
    >>> plt.close(ax.figure)
    """
    curves: list[tuple[str | None, npt.ArrayLike]]
    if isinstance(history, Mapping):
        if label is not None:
            raise ValueError(
                "loss_curve: label is only for a single curve; a dict's keys are its labels"
            )
        curves = [(str(name), values) for name, values in history.items()]
    else:
        curves = [(label, history)]
    data = []
    for name, values in curves:
        arr = np.asarray(values, dtype=np.float64)
        what = "history" if name is None else f"history {name!r}"
        if arr.ndim != 1:
            raise ValueError(f"loss_curve: {what} must be 1-D, got shape {arr.shape}")
        if log_scale and arr.size and not (arr[np.isfinite(arr)] > 0).all():
            raise ValueError(
                f"loss_curve: log_scale=True needs positive values, but {what} has "
                f"minimum {np.nanmin(arr)!r}"
            )
        data.append((name, arr))

    ax = _axes(ax)
    for name, arr in data:
        ax.plot(np.arange(arr.size), arr, label=name)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if any(name is not None for name, _ in data):
        ax.legend()
    return ax
