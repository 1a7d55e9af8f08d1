"""Matplotlib helpers for classifiers, training runs and expression graphs.

Needs the optional ``matplotlib`` dependency (``pip install 'fgrad[examples]'``),
which is imported only when one of these functions is called. Every function
draws on ``ax`` (or a new figure's axes when ``ax is None``), returns the
axes, and never calls ``plt.show()``, so it works headless (e.g. with the Agg
backend) and in notebooks alike. :class:`FigureSaver` writes finished
figures to numbered files, as the example scripts do.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from fgrad.graph import Graph, Node

__all__ = ["FigureSaver", "decision_boundary", "draw_graph", "loss_curve", "scatter_labels"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "fgrad.plot needs matplotlib; install it with pip install 'fgrad[examples]'"
        ) from e
    return plt


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _, new_ax = _pyplot().subplots()
    return new_ax


class FigureSaver:
    """Save figures into one directory as ``NN_name.png``, numbered in save order.

    Each :meth:`save` takes the next two-digit number (``01``, ``02``, ...),
    optionally tidies the layout, writes the PNG and closes the figure, so a
    script that makes many figures does not keep them all in memory.
    :meth:`next_path` hands out the next number for a file of another type
    (a GIF, say) that the caller writes itself.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Directory the files are written to; it must exist.
    dpi : float, default=100
        Resolution of the saved PNGs.
    tight_layout : bool, default=True
        Call ``fig.tight_layout()`` before saving (fits labels and titles
        snugly, at the cost of an extra render). :meth:`save` can override
        it per figure.

    Attributes
    ----------
    out_dir : pathlib.Path
    dpi : float
    tight_layout : bool
    saved : list of pathlib.Path
        Every path returned by :meth:`save` and :meth:`next_path`, in order.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from fgrad.plot import FigureSaver
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     figures = FigureSaver(tmp, dpi=50)
    ...     fig, ax = plt.subplots()
    ...     _ = ax.plot([0.0, 1.0], [1.0, 0.0])
    ...     png = figures.save(fig, "line")
    ...     gif = figures.next_path("animation", ".gif")  # written by the caller
    ...     _ = figures.save(plt.figure(), "blank", tight_layout=False)
    ...     written = png.is_file()
    >>> [path.name for path in figures.saved]
    ['01_line.png', '02_animation.gif', '03_blank.png']
    >>> written, plt.fignum_exists(fig.number)  # saved, then closed
    (True, False)
    """

    def __init__(
        self, out_dir: str | os.PathLike[str], *, dpi: float = 100, tight_layout: bool = True
    ) -> None:
        self.out_dir = Path(out_dir)
        self.dpi = dpi
        self.tight_layout = tight_layout
        self.saved: list[Path] = []
        self._count = 0  # numbers handed out so far

    def _path(self, name: str, suffix: str) -> Path:
        suffix = suffix if suffix.startswith(".") else f".{suffix}"
        return self.out_dir / f"{self._count + 1:02d}_{name}{suffix}"

    def _record(self, path: Path) -> Path:
        self._count += 1
        self.saved.append(path)
        return path

    def save(self, fig: Figure, name: str, *, tight_layout: bool | None = None) -> Path:
        """Write ``fig`` as the next ``NN_name.png``, close it and return the path.

        Parameters
        ----------
        fig : matplotlib Figure
            Closed afterwards, even if saving fails.
        name : str
            File name between the number and ``.png``.
        tight_layout : bool, optional
            Overrides the saver's ``tight_layout`` for this figure.

        Returns
        -------
        pathlib.Path
        """
        path = self._path(name, ".png")
        try:
            if self.tight_layout if tight_layout is None else tight_layout:
                fig.tight_layout()
            fig.savefig(path, dpi=self.dpi)
        finally:
            _pyplot().close(fig)
        return self._record(path)

    def next_path(self, name: str, suffix: str) -> Path:
        """Reserve the next number for a file the caller writes, ``NN_name<suffix>``.

        Parameters
        ----------
        name : str
        suffix : str
            File extension, with or without the leading dot (``".gif"``).

        Returns
        -------
        pathlib.Path
            Recorded in :attr:`saved` like the PNGs; nothing is written.
        """
        return self._record(self._path(name, suffix))


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


# --------------------------------------------------------------------------- expression graphs

_OP_SYMBOLS = {
    "add": "+",
    "subtract": "-",
    "multiply": "*",
    "divide": "/",
    "true_divide": "/",
    "power": "**",
    "negative": "neg",
    "matmul": "@",
}
_GRAPH_COLOURS = {"input": "#d6e6f5", "constant": "#eeeeee", "op": "#ffffff", "output": "#fde7a6"}
_CHAR_WIDTH = 0.6  # average glyph width, in units of the font size
_POINTS_PER_INCH = 72.0


def _format_array(value: npt.NDArray[Any] | None, precision: int) -> str:
    if value is None:
        return "-"
    v = np.asarray(value)
    if v.size == 1:
        return f"{float(v.reshape(-1)[0].real):.{precision}f}"
    if v.size <= 3:
        return "[" + ", ".join(f"{float(x.real):.2f}" for x in v.reshape(-1)) + "]"
    return f"{v.shape} norm {float(np.linalg.norm(v)):.3g}"


def _node_text(node: Node, precision: int, show_grad: bool) -> str:
    cells = [node.name, f"data {_format_array(node.value, precision)}"]
    if show_grad and node.grad is not None:
        cells.append(f"grad {_format_array(node.grad, precision)}")
    return " | ".join(cells)


def _graph_layers(graph: Graph, sweeps: int = 4) -> tuple[list[int], list[float]]:
    """Layer (column) and vertical position of every node of ``graph``.

    Operations sit one column right of their furthest operand; inputs and
    constants sit just left of their first consumer. Within a column, nodes
    are ordered by the mean position of their neighbours (barycentre sweeps),
    which keeps most arrows short and uncrossed. Loops only: no recursion.
    """
    n = len(graph.nodes)
    parents: list[list[int]] = [[] for _ in range(n)]
    children: list[list[int]] = [[] for _ in range(n)]
    for src, dst in graph.edges:
        parents[dst].append(src)
        children[src].append(dst)
    layer = [0] * n
    for i in range(n):  # nodes are in topological order
        if parents[i]:
            layer[i] = 1 + max(layer[p] for p in parents[i])
    for i in range(n):
        if not parents[i] and children[i]:
            layer[i] = min(layer[c] for c in children[i]) - 1
    columns: dict[int, list[int]] = {}
    for i in range(n):
        columns.setdefault(layer[i], []).append(i)
    y = [0.0] * n

    def place(column: list[int]) -> None:
        for rank, i in enumerate(column):
            y[i] = (len(column) - 1) / 2 - rank

    for column in columns.values():
        place(column)
    order = sorted(columns)
    for _ in range(sweeps):
        for keys, neighbours in ((order, parents), (order[::-1], children)):
            for k in keys:
                column = columns[k]
                centre = {
                    i: (sum(y[j] for j in neighbours[i]) / len(neighbours[i]))
                    if neighbours[i]
                    else y[i]
                    for i in column
                }
                column.sort(key=lambda i: -centre[i])
                place(column)
    return layer, y


def _graph_geometry(
    widths: list[float], layer: list[int], y: list[float], height: float, gap: float, across: bool
) -> tuple[list[tuple[float, float]], float, float]:
    """Box centres (in inches, y up) and the drawing's extent.

    ``across`` lays the layers out as columns from left to right; otherwise
    as rows from top to bottom. ``widths`` and ``height`` are the boxes'
    sizes; ``gap`` separates consecutive layers.
    """
    n = len(widths)
    first = min(layer)
    layers: dict[int, list[int]] = {}
    for i in sorted(range(n), key=lambda i: -y[i]):  # top (or left) first
        layers.setdefault(layer[i] - first, []).append(i)
    n_layers = max(layers) + 1
    centres = [(0.0, 0.0)] * n
    if across:
        column_width = [
            max((widths[i] for i in layers.get(k, [])), default=0.0) for k in range(n_layers)
        ]
        pitch = 2.2 * height
        x = 0.0
        for k in range(n_layers):
            x += (
                column_width[k] / 2 if k == 0 else (column_width[k - 1] + column_width[k]) / 2 + gap
            )
            for i in layers.get(k, []):
                centres[i] = (x, y[i] * pitch)
        return centres, x + column_width[-1] / 2, (max(y) - min(y)) * pitch + height
    spacing = 0.4  # between boxes of one row
    row_width = {
        k: sum(widths[i] for i in members) + spacing * (len(members) - 1)
        for k, members in layers.items()
    }
    total = max(row_width.values())
    for k, members in layers.items():
        x = (total - row_width[k]) / 2
        for i in members:
            centres[i] = (x + widths[i] / 2, -k * (height + gap))
            x += widths[i] + spacing
    return centres, total, (n_layers - 1) * (height + gap) + height


def draw_graph(
    graph: Graph,
    ax: Axes | None = None,
    *,
    direction: str = "LR",
    show_grad: bool = True,
    precision: int = 4,
    fontsize: float = 9.0,
) -> Axes:
    """Draw an expression graph from :func:`fgrad.graph.trace_graph`, in layers.

    Every node is a box ``name | data ... | grad ...`` (inputs blue,
    constants grey, the output yellow). A value computed by an operation has
    a small circle with the operation (``*``, ``+``, ``tanh``, ...) in front
    of its box, and arrows run from the operands into that circle. Each
    operation sits one layer after its furthest operand; inputs and
    constants sit just before their first use. Arrays with more than three
    elements are summarised by their shape and norm.

    Parameters
    ----------
    graph : fgrad.graph.Graph
    ax : matplotlib Axes, optional
        Where to draw. When omitted, a new figure is made just big enough
        for the boxes at ``fontsize`` (one data unit is one inch). Boxes are
        sized in points, so a small ``ax`` may make them overlap: give it
        room, or lower ``fontsize``.
    direction : {"LR", "TB"}, default="LR"
        Layers as columns from left to right, or as rows from top to bottom
        (more compact for deep graphs with long boxes).
    show_grad : bool, default=True
        Include each node's gradient.
    precision : int, default=4
        Decimals of scalar values.
    fontsize : float, default=9.0

    Returns
    -------
    matplotlib.axes.Axes
        With the axis lines hidden.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from fgrad.graph import trace_graph
    >>> from fgrad.plot import draw_graph
    >>> graph = trace_graph(lambda a, b, c: a * b + c, 2.0, -3.0, 10.0)
    >>> ax = draw_graph(graph)
    >>> sorted(t.get_text() for t in ax.texts if "|" in t.get_text())[:2]
    ['a | data 2.0000 | grad -3.0000', 'add | data 4.0000 | grad 1.0000']
    >>> plt.close(ax.figure)
    """
    if direction not in ("LR", "TB"):
        raise ValueError(f"draw_graph: direction must be 'LR' or 'TB', got {direction!r}")
    if isinstance(precision, bool) or not isinstance(precision, numbers.Integral) or precision < 0:
        raise ValueError(f"draw_graph: precision must be an int >= 0, got {precision!r}")
    if not fontsize > 0:
        raise ValueError(f"draw_graph: fontsize must be > 0, got {fontsize!r}")
    nodes = graph.nodes
    if not nodes:
        raise ValueError("draw_graph: the graph has no nodes")
    across = direction == "LR"
    layer, y = _graph_layers(graph)
    texts = [_node_text(node, precision, show_grad) for node in nodes]

    # Sizes in inches: boxes from their text, gaps with room for a circle and two arrows.
    scale = fontsize / _POINTS_PER_INCH
    pad = 0.4  # the boxes' padding, in units of the font size
    widths = [(len(text) * _CHAR_WIDTH + 2 * pad) * scale for text in texts]
    height = (1.2 + 2 * pad) * scale
    gap = (12.0 if across else 7.0) * scale
    centres, width, extent = _graph_geometry(widths, layer, y, height, gap, across)
    margin = 0.2
    top = max(c[1] for c in centres) + height / 2
    bottom = top - extent

    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError(
                "fgrad.plot needs matplotlib; install it with pip install 'fgrad[examples]'"
            ) from e
        fig = plt.figure(figsize=(width + 2 * margin, extent + 2 * margin))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-margin, width + margin)
    ax.set_ylim(bottom - margin, top + margin)
    ax.set_axis_off()

    arrow = {"arrowstyle": "-|>", "color": "0.35", "lw": 0.8, "shrinkA": 0, "shrinkB": 1}
    # Where arrows leave a box and enter a circle (or an input's box), in box fractions.
    leave, enter = ((1.0, 0.5), (0.0, 0.5)) if across else ((0.5, 0.0), (0.5, 1.0))
    circle_offset = (-0.45 * gap * _POINTS_PER_INCH, 0.0) if across else (0.0, 0.5 * gap * 72)
    boxes: list[Any] = []
    entries: list[Any] = []  # where arrows from operands end: the op circle, else the box
    for i, node in enumerate(nodes):
        kind = "output" if i == graph.output else node.op
        colour = _GRAPH_COLOURS.get(kind, _GRAPH_COLOURS["op"])
        box = ax.text(
            *centres[i],
            texts[i],
            ha="center",
            va="center",
            fontsize=fontsize,
            family="DejaVu Sans Mono",
            bbox={"boxstyle": f"round,pad={pad}", "fc": colour, "ec": "0.3", "lw": 0.8},
            zorder=3,
        )
        boxes.append(box)
        entry = box
        if node.op not in ("input", "constant"):
            entry = ax.annotate(
                _OP_SYMBOLS.get(node.op, node.op),
                xy=enter,
                xycoords=box,
                xytext=circle_offset,
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=0.85 * fontsize,
                bbox={"boxstyle": "circle,pad=0.3", "fc": "white", "ec": "0.3", "lw": 0.8},
                arrowprops=arrow,
                zorder=3,
            )
        entries.append(entry)
    multiplicity: dict[tuple[int, int], int] = {}
    for edge in graph.edges:
        multiplicity[edge] = multiplicity.get(edge, 0) + 1
    drawn: dict[tuple[int, int], int] = {}
    for edge in graph.edges:  # an operand used twice (x + x) gets two arcs
        k = drawn.get(edge, 0)
        drawn[edge] = k + 1
        bend = 0.35 * (k - (multiplicity[edge] - 1) / 2)
        ax.annotate(
            "",
            xy=enter,
            xycoords=entries[edge[1]],
            xytext=leave,
            textcoords=boxes[edge[0]],
            arrowprops={**arrow, "connectionstyle": f"arc3,rad={bend}"},
            zorder=2,
        )
    return ax
