"""Record a function's expression graph, with every node's value and gradient.

:func:`trace_graph` runs a function once on concrete arguments, the way
:func:`fgrad.vjp` does, and keeps what the tape recorded: one node per
primitive call, one per argument leaf (``"input"``) and one per constant
operand (``"constant"``), and an edge from each operand to the operation that
used it. A single reverse sweep then stores on every node the gradient of the
output with respect to that node, which is what a scalar autodiff engine such
as micrograd keeps in each ``Value.grad``.

It is a tool for looking at small computations (draw one with
:func:`fgrad.plot.draw_graph`); the values and gradients are plain arrays and
are not themselves differentiable. Building the graph and the sweep are loops
over the tape in execution order, so graphs of any depth work.

Give intermediate values readable names with :func:`label` inside the traced
function; outside :func:`trace_graph` it does nothing.

Examples
--------
>>> from fgrad.graph import label, trace_graph
>>> def neuron(x, w, b):
...     n = label(x * w + b, "n")
...     return fnp.tanh(n)
>>> graph = trace_graph(neuron, 2.0, -3.0, 6.5)
>>> [(node.label or node.op) for node in graph.nodes]
['x', 'w', 'b', 'multiply', 'n', 'tanh']
>>> graph.edges
[(0, 3), (1, 3), (3, 4), (2, 4), (4, 5)]
>>> float(graph.find("n").value), round(float(graph.find("n").grad), 4)
(0.5, 0.7864)
"""

from __future__ import annotations

import inspect
import numbers
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fgrad._core import PARENTS, Trace, Tracer, close_trace, new_trace, peek
from fgrad.tree import keystr, tree_flatten_with_path, tree_unflatten

__all__ = ["Graph", "Node", "label", "trace_graph"]


@dataclass(frozen=True)
class Node:
    """One value of a traced computation.

    Attributes
    ----------
    index : int
        Position in :attr:`Graph.nodes`; edges refer to nodes by it.
    op : str
        The primitive that produced the value (NumPy's name, e.g.
        ``"multiply"``, ``"tanh"``, ``"matmul"``), or ``"input"`` for a leaf
        of an argument, or ``"constant"`` for an operand that was not traced.
    value : ndarray
        The value computed in the forward pass.
    grad : ndarray or None
        Gradient of the output with respect to this value, of the value's
        shape (zeros when the output does not depend on it). ``None`` for
        constants, which are not differentiated.
    label : str or None
        The argument's name (with its pytree path) for inputs, the name given
        by :func:`label` for intermediate values, else ``None``.
    params : dict
        The primitive's parameters (e.g. ``{"axis": (0,), "keepdims": False}``
        for a ``sum``); empty for inputs and constants.
    """

    index: int
    op: str
    value: npt.NDArray[Any]
    grad: npt.NDArray[Any] | None
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The label if there is one, else the operation's name."""
        return self.label if self.label is not None else self.op


@dataclass(frozen=True)
class Graph:
    """An expression graph: nodes in execution order and operand edges.

    Attributes
    ----------
    nodes : list of Node
        Topologically ordered: every edge goes from a lower to a higher index.
    edges : list of (int, int)
        ``(operand, result)`` node indices, in the order of each operation's
        arguments.
    output : int
        Index of the node holding the function's result.
    """

    nodes: list[Node]
    edges: list[tuple[int, int]]
    output: int

    def find(self, name: str) -> Node:
        """The first node whose :attr:`Node.name` (label, else op) is ``name``.

        Raises
        ------
        KeyError
            If no node has that name.
        """
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node named {name!r}; names are {[n.name for n in self.nodes]}")

    def parents(self, index: int) -> list[int]:
        """Indices of the operands of node ``index``, in argument order."""
        return [src for src, dst in self.edges if dst == index]


class _Recordings(threading.local):
    """The traces opened by :func:`trace_graph` in this thread, innermost last."""

    def __init__(self) -> None:
        self.active: list[tuple[Trace, dict[int, str]]] = []


_recordings = _Recordings()


def label(x: Any, name: str) -> Any:
    """Name a value for :func:`trace_graph`; returns ``x`` unchanged.

    Inside a function being traced by :func:`trace_graph`, the node holding
    ``x`` gets the label ``name`` (the last label given wins). Anywhere else,
    including under ``grad`` or ``jit``, it is the identity and costs one
    check, so labelled functions can be used as ordinary code.

    Parameters
    ----------
    x : array or tracer
        The value to name.
    name : str
        The label drawn on the node.

    Returns
    -------
    The same object ``x``.

    Examples
    --------
    >>> from fgrad.graph import label, trace_graph
    >>> f = lambda a, b: label(a * b, "e") + 1.0
    >>> trace_graph(f, 2.0, 3.0).find("e").index
    2
    >>> fgrad.grad(f)(2.0, 3.0)  # no effect outside trace_graph
    array(3.)
    """
    if not isinstance(name, str):
        raise TypeError(f"label: name must be a str, got {type(name).__name__}")
    if _recordings.active:
        level = x
        while level.__class__ is Tracer:
            for trace, names in _recordings.active:
                if level._trace is trace:
                    names[level._idx] = name
            level = level._value
    return x


def _argument_names(fun: Callable[..., Any], nargs: int) -> list[str]:
    names = [f"arg{i}" for i in range(nargs)]
    try:
        parameters = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return names
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    for i, p in enumerate(positional[:nargs]):
        names[i] = p.name
    return names


def _is_number(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, numbers.Number)) or x.__class__ is Tracer


def _as_array(x: Any) -> npt.NDArray[Any]:
    return np.asarray(peek(x))


def _box(
    trace: Trace, fun: Callable[..., Any], args: tuple[Any, ...]
) -> tuple[list[Any], list[Tracer], list[str]]:
    """Wrap every leaf of every argument as an input of ``trace``; name each input."""
    names = _argument_names(fun, len(args))
    new_args: list[Any] = []
    inputs: list[Tracer] = []
    input_names: list[str] = []
    for i, arg in enumerate(args):
        pairs, treedef = tree_flatten_with_path(arg)
        leaves = []
        for path, leaf in pairs:
            value = leaf if leaf.__class__ is Tracer else np.asarray(leaf)
            dtype = np.result_type(peek(value))
            if dtype.kind != "f":
                raise TypeError(
                    f"trace_graph differentiates every argument, but argument {i}"
                    f"{keystr(path)} has dtype {dtype}; pass floats (e.g. 2.0 rather than 2), "
                    "or close over non-float data instead of passing it"
                )
            leaves.append(trace.new_input(value))
            input_names.append(names[i] + keystr(path))
        inputs.extend(leaves)
        new_args.append(tree_unflatten(treedef, leaves))
    return new_args, inputs, input_names


def _sweep(tape: list[Any], out_slot: int, seed: Any) -> list[Any]:
    """Cotangents of *every* slot (``fgrad._core.backward_pass`` keeps only the inputs')."""
    cts: list[Any] = [None] * (out_slot + 1)
    cts[out_slot] = seed
    for i in range(out_slot, -1, -1):
        entry = tape[i]
        g = cts[i]
        if entry is None or g is None:
            continue
        prim, parents, argnums, args, params, ans = entry
        if prim.vjp_joint is None:
            contributions = [
                None if prim.vjps[k] is None else prim.vjps[k](g, ans, *args, **params)
                for k in argnums
            ]
        else:
            contributions = prim.vjp_joint(g, ans, args, params, argnums)
        for p, c in zip(parents, contributions):
            if c is not None:
                cts[p] = c if cts[p] is None else cts[p] + c
    return cts


def _ct(cts: list[Any], slot: int) -> Any:
    return cts[slot] if slot < len(cts) else None


def _gradient(ct: Any, value: npt.NDArray[Any]) -> npt.NDArray[Any]:
    dtype = value.dtype if value.dtype.kind in "fc" else np.dtype(np.float64)
    if ct is None:
        return np.zeros(value.shape, dtype=dtype)
    return np.array(np.broadcast_to(_as_array(ct), value.shape), dtype=dtype)


def trace_graph(fun: Callable[..., Any], *args: Any) -> Graph:
    """Run ``fun(*args)`` once and return its expression graph with gradients.

    Parameters
    ----------
    fun : callable
        A function of pytrees of floating-point arrays (or Python floats)
        returning one array, written with ``fgrad.numpy`` or operators, as
        for :func:`fgrad.grad`. Non-float data can be closed over.
    *args
        The point at which to evaluate; every leaf becomes an ``"input"``
        node named after ``fun``'s parameter (``"x"``, ``"params[0][1]"``;
        ``"arg0"``... when the signature cannot be read).

    Returns
    -------
    Graph
        The inputs, then for each primitive call that the output depends on,
        its constant operands followed by its result, in execution order.
        Each node's ``grad`` is the gradient of the output (of the sum of its
        elements, for a non-scalar output) with respect to that node, as
        :func:`fgrad.grad` would compute it.

    Raises
    ------
    TypeError
        If an argument leaf is not floating-point or ``fun`` returns a
        container rather than one array.

    Examples
    --------
    >>> from fgrad.graph import trace_graph
    >>> graph = trace_graph(lambda a, b, c: a * b + c, 2.0, -3.0, 10.0)
    >>> [(n.name, float(n.value), float(n.grad)) for n in graph.nodes]
    [('a', 2.0, -3.0), ('b', -3.0, 2.0), ('c', 10.0, 1.0),
     ('multiply', -6.0, 1.0), ('add', 4.0, 1.0)]
    >>> graph.output, graph.parents(graph.output)
    (4, [3, 2])

    Constants are nodes of their own, without a gradient:

    >>> graph = trace_graph(lambda x: 3.0 * x ** 2, 2.0)
    >>> [(n.op, float(n.value)) for n in graph.nodes]
    [('input', 2.0), ('constant', 2.0), ('power', 4.0), ('constant', 3.0), ('multiply', 12.0)]
    >>> graph.find("x").grad, graph.find("constant").grad is None
    (array(12.), True)
    """
    if not callable(fun):
        raise TypeError(f"trace_graph expects a callable, got {type(fun).__name__}")
    trace = new_trace("trace_graph", fun)
    labels: dict[int, str] = {}
    _recordings.active.append((trace, labels))
    try:
        new_args, inputs, input_names = _box(trace, fun, args)
        out = fun(*new_args)
    finally:
        _recordings.active.pop()
        close_trace(trace)
    tape = trace.tape
    trace.tape = []
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(
            f"trace_graph needs a function returning one array; it returned a {type(out).__name__}"
        )
    input_of_slot = {tracer._idx: tracer for tracer in inputs}
    for tracer, name in zip(inputs, input_names):
        labels.setdefault(tracer._idx, name)

    traced = out.__class__ is Tracer and out._trace is trace
    out_slot = out._idx if traced else -1
    out_value = _as_array(out._value if traced else out)

    # Which tape entries the output depends on: one backwards pass over the tape.
    needed = [False] * len(tape)
    if traced:
        needed[out_slot] = True
        for i in range(out_slot, -1, -1):
            entry = tape[i]
            if needed[i] and entry is not None:
                for p in entry[PARENTS]:
                    needed[p] = True

    cts: list[Any] = []
    if traced:
        seed = np.ones_like(out_value, dtype=_gradient(None, out_value).dtype)
        cts = _sweep(tape, out_slot, seed)

    nodes: list[Node] = []
    edges: list[tuple[int, int]] = []
    node_of_slot: dict[int, int] = {}
    for slot, entry in enumerate(tape):
        if entry is None:  # an input: only trace_graph itself adds these to its tape
            value = _as_array(input_of_slot[slot]._value)
            nodes.append(
                Node(len(nodes), "input", value, _gradient(_ct(cts, slot), value), labels[slot])
            )
            node_of_slot[slot] = len(nodes) - 1
            continue
        if not needed[slot]:
            continue
        prim, parents, argnums, arg_values, params, ans = entry
        operand_nodes: list[int] = []
        traced_args = dict(zip(argnums, parents))
        for k, arg in enumerate(arg_values):
            if k in traced_args:
                operand_nodes.append(node_of_slot[traced_args[k]])
            elif _is_number(arg):
                nodes.append(Node(len(nodes), "constant", _as_array(arg), None))
                operand_nodes.append(len(nodes) - 1)
        value = _as_array(ans)
        index = len(nodes)
        nodes.append(
            Node(
                index,
                prim.name,
                value,
                _gradient(_ct(cts, slot), value),
                labels.get(slot),
                dict(params),
            )
        )
        node_of_slot[slot] = index
        edges.extend((src, index) for src in operand_nodes)
    if traced:
        output = node_of_slot[out_slot]
    else:
        nodes.append(Node(len(nodes), "constant", out_value, None))
        output = len(nodes) - 1
    return Graph(nodes, edges, output)
