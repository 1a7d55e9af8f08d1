"""Pytrees: nested containers of arrays, flattened to leaves and rebuilt.

A *pytree* is a nested structure of containers (``dict``, ``list``, ``tuple``,
namedtuples, ``collections.OrderedDict``, ``None`` and registered classes)
whose non-container values are *leaves*. :func:`tree_flatten` splits a pytree
into its list of leaves and a hashable :class:`PyTreeDef` describing the
structure; :func:`tree_unflatten` rebuilds it. The semantics follow
``jax.tree_util``:

* dict children are visited in sorted key order, and an unflattened dict has
  its keys in sorted order; ``OrderedDict`` keeps insertion order;
* ``None`` is an empty subtree with no leaves;
* every other object (NumPy arrays, Python scalars, arbitrary objects) is a
  leaf, including subclasses of ``dict`` and ``list`` that are not registered.

Examples
--------
>>> params = {"w": np.ones(2), "b": 0.5}
>>> leaves, treedef = tree_flatten(params)
>>> leaves
[0.5, array([1., 1.])]
>>> treedef
PyTreeDef({'b': *, 'w': *})
>>> tree_map(lambda p, g: p - 0.1 * g, params, params)
{'b': 0.45, 'w': array([0.9, 0.9])}
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar, final, overload

__all__ = [
    "DictKey",
    "FlattenedIndexKey",
    "GetAttrKey",
    "KeyEntry",
    "KeyPath",
    "PyTreeDef",
    "SequenceKey",
    "keystr",
    "register_dataclass",
    "register_pytree_node",
    "tree_all",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_map",
    "tree_reduce",
    "tree_structure",
    "tree_unflatten",
]

T = TypeVar("T")
IsLeaf = Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class DictKey:
    """Path entry for the value stored under ``key`` in a dict.

    Examples
    --------
    >>> str(DictKey("w"))
    "['w']"
    """

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """Path entry for position ``idx`` of a list or tuple.

    Examples
    --------
    >>> str(SequenceKey(2))
    '[2]'
    """

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """Path entry for the field ``name`` of a namedtuple or dataclass.

    Examples
    --------
    >>> str(GetAttrKey("weight"))
    '.weight'
    """

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """Path entry for child ``idx`` of a class registered with :func:`register_pytree_node`.

    Examples
    --------
    >>> str(FlattenedIndexKey(1))
    '[1]'
    """

    key: int

    def __str__(self) -> str:
        return f"[{self.key}]"


KeyEntry = DictKey | SequenceKey | GetAttrKey | FlattenedIndexKey
KeyPath = tuple[KeyEntry, ...]


def keystr(path: Iterable[Any]) -> str:
    """Render a key path as Python indexing syntax.

    Parameters
    ----------
    path : iterable of KeyEntry
        A path as produced by :func:`tree_flatten_with_path`.

    Returns
    -------
    str
        Dict keys rendered with ``repr`` in brackets, sequence positions as
        ``[i]``, namedtuple and dataclass fields as ``.name``. The empty path
        renders as ``''``.

    Examples
    --------
    >>> keystr((DictKey("layers"), SequenceKey(2), SequenceKey(0)))
    "['layers'][2][0]"
    >>> keystr((GetAttrKey("w"),))
    '.w'
    """
    return "".join(map(str, path))


def _plural(n: int) -> str:
    return f"{n} child" if n == 1 else f"{n} children"


@final
class _NodeType:
    """How one container type is flattened, rebuilt, keyed, described and printed."""

    __slots__ = ("describe", "flatten", "keys", "name", "render", "unflatten")

    def __init__(
        self,
        name: str,
        flatten: Callable[[Any], tuple[Sequence[Any], Any]],
        unflatten: Callable[[Any, list[Any]], Any],
        keys: Callable[[Any, int], Sequence[KeyEntry]],
        describe: Callable[[Any, int], str],
        render: Callable[[Any, list[str]], str],
    ) -> None:
        self.name = name
        self.flatten = flatten
        self.unflatten = unflatten
        self.keys = keys
        self.describe = describe
        self.render = render

    def __repr__(self) -> str:
        return f"<pytree node type {self.name}>"


def _sequence_keys(aux: Any, n: int) -> list[KeyEntry]:
    return [SequenceKey(i) for i in range(n)]


def _dict_keys(aux: tuple[Hashable, ...], n: int) -> list[KeyEntry]:
    return [DictKey(k) for k in aux]


def _render_tuple(aux: Any, kids: list[str]) -> str:
    return f"({kids[0]},)" if len(kids) == 1 else f"({', '.join(kids)})"


def _render_mapping(aux: tuple[Hashable, ...], kids: list[str]) -> str:
    return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(aux, kids)) + "}"


def _flatten_dict(x: dict[Any, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    try:
        keys = tuple(sorted(x))
    except TypeError:
        raise TypeError(
            f"dict keys must be mutually sortable to flatten a dict as a pytree, got {list(x)!r}"
        ) from None
    return tuple([x[k] for k in keys]), keys


_TUPLE = _NodeType(
    "tuple",
    lambda x: (x, None),
    lambda aux, kids: tuple(kids),
    _sequence_keys,
    lambda aux, n: f"a tuple of {_plural(n)}",
    _render_tuple,
)
_LIST = _NodeType(
    "list",
    lambda x: (x, None),
    lambda aux, kids: kids,
    _sequence_keys,
    lambda aux, n: f"a list of {_plural(n)}",
    lambda aux, kids: f"[{', '.join(kids)}]",
)
_DICT = _NodeType(
    "dict",
    _flatten_dict,
    lambda aux, kids: dict(zip(aux, kids)),
    _dict_keys,
    lambda aux, n: f"a dict with keys {list(aux)!r}",
    _render_mapping,
)
_ORDERED_DICT = _NodeType(
    "OrderedDict",
    lambda x: (tuple(x.values()), tuple(x)),
    lambda aux, kids: OrderedDict(zip(aux, kids)),
    _dict_keys,
    lambda aux, n: f"an OrderedDict with keys {list(aux)!r}",
    lambda aux, kids: f"OrderedDict({_render_mapping(aux, kids)})",
)
_NONE = _NodeType(
    "None",
    lambda x: ((), None),
    lambda aux, kids: None,
    lambda aux, n: [],
    lambda aux, n: "None",
    lambda aux, kids: "None",
)
_NAMEDTUPLE = _NodeType(
    "namedtuple",
    lambda x: (x, type(x)),
    lambda aux, kids: aux(*kids),
    lambda aux, n: [GetAttrKey(f) for f in aux._fields],
    lambda aux, n: f"a namedtuple {aux.__qualname__} with fields {aux._fields!r}",
    lambda aux, kids: (
        f"{aux.__qualname__}({', '.join(f'{f}={c}' for f, c in zip(aux._fields, kids))})"
    ),
)

_registry: dict[type, _NodeType] = {
    tuple: _TUPLE,
    list: _LIST,
    dict: _DICT,
    OrderedDict: _ORDERED_DICT,
    type(None): _NONE,
}
_registry_lock = threading.Lock()
_registry_get = _registry.get


def _lookup(t: type) -> _NodeType | None:
    h = _registry_get(t)
    if h is None and issubclass(t, tuple) and hasattr(t, "_fields"):
        return _NAMEDTUPLE
    return h


def _register(nodetype: type, node: _NodeType) -> None:
    if not isinstance(nodetype, type):
        raise TypeError(f"expected a class to register as a pytree node, got {nodetype!r}")
    with _registry_lock:
        existing = _registry.get(nodetype)
        if existing is not None:
            what = "a built-in" if existing in (_TUPLE, _LIST, _DICT, _ORDERED_DICT, _NONE) else "a"
            raise ValueError(
                f"{nodetype.__qualname__} is already registered as {what} pytree node type; "
                "a type can only be registered once"
            )
        _registry[nodetype] = node


def register_pytree_node(
    nodetype: type[T],
    flatten_fn: Callable[[T], tuple[Iterable[Any], Any]],
    unflatten_fn: Callable[[Any, list[Any]], T],
) -> None:
    """Make instances of ``nodetype`` pytree containers instead of leaves.

    Parameters
    ----------
    nodetype : type
        The class to register. Dispatch is on the exact type, so subclasses
        must be registered separately.
    flatten_fn : callable
        ``flatten_fn(node) -> (children, aux_data)``: the children (an
        iterable of subtrees) and hashable auxiliary data describing
        everything else needed to rebuild ``node``. ``aux_data`` takes part
        in :class:`PyTreeDef` equality and hashing.
    unflatten_fn : callable
        ``unflatten_fn(aux_data, children) -> node``; ``children`` is a list.

    Raises
    ------
    TypeError
        If ``nodetype`` is not a class or a function is not callable.
    ValueError
        If ``nodetype`` is already registered (built-in containers included).

    Examples
    --------
    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda aux, kids: Pair(*kids))
    >>> leaves, treedef = tree_flatten(Pair(1, [2, 3]))
    >>> leaves
    [1, 2, 3]
    >>> treedef.unflatten([4, 5, 6]).b
    [5, 6]
    """
    if not callable(flatten_fn) or not callable(unflatten_fn):
        raise TypeError("register_pytree_node: flatten_fn and unflatten_fn must be callable")
    name = getattr(nodetype, "__qualname__", repr(nodetype))

    def flatten(x: Any) -> tuple[tuple[Any, ...], Any]:
        children, aux = flatten_fn(x)
        return tuple(children), aux

    _register(
        nodetype,
        _NodeType(
            name,
            flatten,
            unflatten_fn,
            lambda aux, n: [FlattenedIndexKey(i) for i in range(n)],
            lambda aux, n: f"a {name} node of {_plural(n)} with aux data {aux!r}",
            lambda aux, kids: f"CustomNode({name}[{aux!r}], [{', '.join(kids)}])",
        ),
    )


@overload
def register_dataclass(cls: type[T], *, static: Sequence[str] = ()) -> type[T]: ...


@overload
def register_dataclass(
    cls: None = None, *, static: Sequence[str] = ()
) -> Callable[[type[T]], type[T]]: ...


def register_dataclass(cls: type[T] | None = None, *, static: Sequence[str] = ()) -> Any:
    """Register a dataclass as a pytree node whose children are its (non-static) fields.

    Usable as a class decorator, bare or called with ``static=``. Fields are
    visited in declaration order and the instance is rebuilt by calling
    ``cls(**fields)``. *Static* fields (settings such as an activation name)
    are not leaves: they are kept in the tree structure, so transforms,
    optimizers and ``tree_map`` never see them, and two trees match only if
    their static values are equal.

    Parameters
    ----------
    cls : type
        A dataclass all of whose fields are ``__init__`` parameters.
    static : sequence of str, optional
        Names of static fields. A field declared with
        ``dataclasses.field(metadata={"static": True})`` is static too. Static
        values must be hashable and compare with ``==`` to a bool (strings,
        numbers, tuples of them), because they are part of the tree structure.

    Returns
    -------
    type
        ``cls`` itself (or, called without ``cls``, a decorator).

    Raises
    ------
    TypeError
        If ``cls`` is not a dataclass or has a field with ``init=False``.
    ValueError
        If ``cls`` is already registered or ``static`` names a field it does
        not have.

    Examples
    --------
    >>> import dataclasses
    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Linear:
    ...     w: float
    ...     b: float
    >>> tree_map(lambda x: 2 * x, Linear(w=1.0, b=3.0))
    Linear(w=2.0, b=6.0)
    >>> tree_flatten_with_path(Linear(w=1.0, b=3.0))[0]
    [((GetAttrKey(name='w'),), 1.0), ((GetAttrKey(name='b'),), 3.0)]
    >>> @register_dataclass(static=("activation",))
    ... @dataclasses.dataclass
    ... class Layer:
    ...     w: float
    ...     activation: str
    >>> tree_flatten(Layer(w=1.0, activation="tanh"))
    ([1.0], PyTreeDef(Layer[activation='tanh'](w=*)))
    """
    if cls is None:
        return functools.partial(_register_dataclass, static=tuple(static))
    return _register_dataclass(cls, static=tuple(static))


def _register_dataclass(cls: type[T], static: tuple[str, ...]) -> type[T]:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"register_dataclass expects a dataclass type, got {cls!r}")
    if isinstance(static, str):
        static = (static,)
    fields = dataclasses.fields(cls)
    no_init = [f.name for f in fields if not f.init]
    if no_init:
        raise TypeError(
            f"register_dataclass: {cls.__qualname__} has fields with init=False {no_init!r}; "
            "every field must be an __init__ parameter to rebuild the instance"
        )
    all_names = [f.name for f in fields]
    unknown = [n for n in static if n not in all_names]
    if unknown:
        raise ValueError(
            f"register_dataclass: static={static!r} names {unknown!r}, which "
            f"{cls.__qualname__} does not have; its fields are {tuple(all_names)!r}"
        )
    static_names = tuple(
        f.name for f in fields if f.name in static or f.metadata.get("static", False)
    )
    names = tuple(n for n in all_names if n not in static_names)
    name = cls.__qualname__
    get_static: Callable[[Any], Any]
    if not static_names:

        def get_static(x: Any) -> None:
            return None
    else:
        getters = operator.attrgetter(*static_names)
        if len(static_names) == 1:

            def get_static(x: Any) -> tuple[Any, ...]:
                return (getters(x),)
        else:
            get_static = getters
    flatten: Callable[[Any], tuple[tuple[Any, ...], Any]]
    if not names:

        def flatten(x: Any) -> tuple[tuple[Any, ...], Any]:
            return (), get_static(x)
    elif len(names) == 1:
        get_one = operator.attrgetter(names[0])

        def flatten(x: Any) -> tuple[tuple[Any, ...], Any]:
            return (get_one(x),), get_static(x)
    else:
        get_all = operator.attrgetter(*names)

        def flatten(x: Any) -> tuple[tuple[Any, ...], Any]:
            return get_all(x), get_static(x)

    def unflatten(aux: Any, kids: list[Any]) -> Any:
        values = dict(zip(names, kids))
        if aux is not None:
            values.update(zip(static_names, aux))
        return cls(**values)

    def static_text(aux: Any) -> str:
        if aux is None:
            return ""
        return "[" + ", ".join(f"{n}={v!r}" for n, v in zip(static_names, aux)) + "]"

    def describe(aux: Any, n: int) -> str:
        text = f"a dataclass {name} with fields {names!r}"
        if aux is not None:
            text += f" and static fields {static_text(aux)[1:-1]}"
        return text

    keys = [GetAttrKey(n) for n in names]
    _register(
        cls,
        _NodeType(
            name,
            flatten,
            unflatten,
            lambda aux, n: keys,
            describe,
            lambda aux, kids: (
                f"{name}{static_text(aux)}({', '.join(f'{f}={c}' for f, c in zip(names, kids))})"
            ),
        ),
    )
    return cls


# Internal structure: a leaf is ``None``; a container is ``(node_type, aux, children)``.
_Node = Any


def _flatten(x: Any, leaves: list[Any], is_leaf: IsLeaf | None) -> _Node:
    t = type(x)
    h = _registry_get(t)
    if h is None:
        if not (issubclass(t, tuple) and hasattr(t, "_fields")):
            leaves.append(x)
            return None
        h = _NAMEDTUPLE
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return None
    children, aux = h.flatten(x)
    kids = []
    for c in children:
        t = type(c)
        if t in _registry or (issubclass(t, tuple) and hasattr(t, "_fields")):
            kids.append(_flatten(c, leaves, is_leaf))
        else:
            leaves.append(c)
            kids.append(None)
    return (h, aux, tuple(kids))


def _unflatten(node: _Node, next_leaf: Callable[[], Any]) -> Any:
    h, aux, kids = node
    return h.unflatten(aux, [next_leaf() if k is None else _unflatten(k, next_leaf) for k in kids])


def _build(node: _Node, leaves: Iterable[Any]) -> Any:
    next_leaf = iter(leaves).__next__
    return next_leaf() if node is None else _unflatten(node, next_leaf)


def _flatten_up_to(node: _Node, x: Any, out: list[Any]) -> bool:
    h: _NodeType = node[0]
    aux, kids = node[1], node[2]
    t = type(x)
    xh = _registry_get(t)
    if xh is not h and (xh is not None or _lookup(t) is not h):
        return False
    children, xaux = h.flatten(x)
    if len(children) != len(kids) or xaux != aux:
        return False
    for k, c in zip(kids, children):
        if k is None:
            out.append(c)
        elif not _flatten_up_to(k, c, out):
            return False
    return True


def _flatten_up_to_root(node: _Node, x: Any) -> list[Any] | None:
    if node is None:
        return [x]
    out: list[Any] = []
    return out if _flatten_up_to(node, x, out) else None


def _describe_value(x: Any) -> str:
    h = _lookup(type(x))
    if h is None:
        return f"a leaf of type {type(x).__name__}"
    children, aux = h.flatten(x)
    return h.describe(aux, len(children))


def _find_mismatch(node: _Node, x: Any, path: KeyPath) -> tuple[KeyPath, str, str] | None:
    if node is None:
        return None
    h: _NodeType = node[0]
    aux, kids = node[1], node[2]
    expected = h.describe(aux, len(kids))
    if _lookup(type(x)) is not h:
        return path, expected, _describe_value(x)
    children, xaux = h.flatten(x)
    if len(children) != len(kids) or xaux != aux:
        return path, expected, h.describe(xaux, len(children))
    for key, k, c in zip(h.keys(aux, len(kids)), kids, children):
        found = _find_mismatch(k, c, (*path, key))
        if found is not None:
            return found
    return None


def _mismatch_error(node: _Node, x: Any, name: str, where: str) -> ValueError:
    found = _find_mismatch(node, x, ())
    if found is None:
        return ValueError(f"{where}: structure mismatch in {name}")
    path, expected, got = found
    return ValueError(
        f"{where}: structure mismatch at {name}{keystr(path)}: expected {expected}, got {got}"
    )


def _render(node: _Node) -> str:
    if node is None:
        return "*"
    h, aux, kids = node
    return h.render(aux, [_render(k) for k in kids])


@final
class PyTreeDef:
    """Immutable, hashable description of a pytree's structure.

    Two treedefs are equal when their containers, dict keys, namedtuple and
    dataclass types and registered aux data agree; leaves are not part of a
    treedef. Hashing is by structure, so a treedef can be used as a cache
    key. Obtain one from :func:`tree_flatten` or :func:`tree_structure`.

    Examples
    --------
    >>> treedef = tree_structure((1, [2, 3], {"a": 4}))
    >>> treedef
    PyTreeDef((*, [*, *], {'a': *}))
    >>> treedef.num_leaves
    4
    >>> treedef == tree_structure((0.0, [0.0, 0.0], {"a": 0.0}))
    True
    >>> treedef == tree_structure((1, (2, 3), {"a": 4}))
    False
    """

    __slots__ = ("_hash", "_node", "_num_leaves")

    _node: _Node
    _num_leaves: int
    _hash: int | None

    def __init__(self, node: _Node, num_leaves: int) -> None:
        _set_node(self, node)
        _set_num_leaves(self, num_leaves)
        _set_hash(self, None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PyTreeDef is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PyTreeDef is immutable")

    @property
    def num_leaves(self) -> int:
        """Number of leaves in trees with this structure.

        Examples
        --------
        >>> tree_structure({"a": [1, 2], "b": None}).num_leaves
        2
        """
        return self._num_leaves

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Build a tree with this structure from ``leaves``.

        Parameters
        ----------
        leaves : iterable
            Exactly :attr:`num_leaves` values, in flattening order.

        Returns
        -------
        pytree
            A new tree; containers are freshly built, leaves are reused.

        Raises
        ------
        ValueError
            If the number of leaves is not :attr:`num_leaves`.

        Examples
        --------
        >>> tree_structure({"b": 0, "a": (0, 0)}).unflatten([1, 2, 3])
        {'a': (1, 2), 'b': 3}
        """
        if not isinstance(leaves, (list, tuple)):
            leaves = list(leaves)
        if len(leaves) != self._num_leaves:
            raise ValueError(
                f"tree_unflatten: expected {self._num_leaves} leaves for {self!r}, "
                f"got {len(leaves)}"
            )
        return _build(self._node, leaves)

    def flatten_up_to(self, tree: Any, *, name: str = "tree") -> list[Any]:
        """Flatten ``tree`` down to the leaves of this structure.

        This structure must be a prefix of ``tree``'s: wherever it has a
        leaf, the whole corresponding subtree of ``tree`` is returned as one
        item; everywhere else the containers must match exactly.

        Parameters
        ----------
        tree : pytree
            The tree to flatten.
        name : str, optional
            How to call ``tree`` at the root of the path in error messages.

        Returns
        -------
        list
            :attr:`num_leaves` subtrees of ``tree``.

        Raises
        ------
        ValueError
            If the structures differ; the message gives the key path of the
            first difference and what each side had there.

        Examples
        --------
        >>> tree_structure([0, {"a": 0}]).flatten_up_to([(1, 2), {"a": 3}])
        [(1, 2), 3]
        >>> tree_structure([0, {"a": 0}]).flatten_up_to([1, {"b": 2}], name="params")
        Traceback (most recent call last):
            ...
        ValueError: flatten_up_to: structure mismatch at params[1]:
        expected a dict with keys ['a'], got a dict with keys ['b']
        """
        out = _flatten_up_to_root(self._node, tree)
        if out is None:
            raise _mismatch_error(self._node, tree, name, "flatten_up_to")
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return self is other or (
            self._num_leaves == other._num_leaves and self._node == other._node
        )

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self._num_leaves, self._node))
            _set_hash(self, h)
        return h

    def __copy__(self) -> PyTreeDef:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PyTreeDef:
        return self

    def __repr__(self) -> str:
        return f"PyTreeDef({_render(self._node)})"


_set_node: Callable[[PyTreeDef, Any], None] = vars(PyTreeDef)["_node"].__set__
_set_num_leaves: Callable[[PyTreeDef, Any], None] = vars(PyTreeDef)["_num_leaves"].__set__
_set_hash: Callable[[PyTreeDef, Any], None] = vars(PyTreeDef)["_hash"].__set__


def tree_flatten(tree: Any, is_leaf: IsLeaf | None = None) -> tuple[list[Any], PyTreeDef]:
    """Split a pytree into its leaves and its structure.

    Parameters
    ----------
    tree : pytree
        The tree to flatten.
    is_leaf : callable, optional
        Called on each container; if it returns true the container is
        treated as a leaf and not descended into.

    Returns
    -------
    leaves : list
        The leaves, depth first, dict children in sorted key order.
    treedef : PyTreeDef
        The structure, for :func:`tree_unflatten`.

    Examples
    --------
    >>> leaves, treedef = tree_flatten({"b": [1, 2], "a": None, "c": (3,)})
    >>> leaves
    [1, 2, 3]
    >>> treedef
    PyTreeDef({'a': None, 'b': [*, *], 'c': (*,)})
    >>> tree_flatten([[1, 2], [3]], is_leaf=lambda x: len(x) == 1)[0]
    [1, 2, [3]]
    """
    leaves: list[Any] = []
    node = _flatten(tree, leaves, is_leaf)
    return leaves, PyTreeDef(node, len(leaves))


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Build a pytree from a structure and its leaves.

    Parameters
    ----------
    treedef : PyTreeDef
        The structure, from :func:`tree_flatten` or :func:`tree_structure`.
    leaves : iterable
        Exactly ``treedef.num_leaves`` values, in flattening order.

    Returns
    -------
    pytree

    Raises
    ------
    TypeError
        If ``treedef`` is not a :class:`PyTreeDef`.
    ValueError
        If the number of leaves does not match.

    Examples
    --------
    >>> leaves, treedef = tree_flatten({"x": (1, 2), "y": 3})
    >>> tree_unflatten(treedef, [10, 20, 30])
    {'x': (10, 20), 'y': 30}
    >>> tree_unflatten(treedef, [10, 20])
    Traceback (most recent call last):
        ...
    ValueError: tree_unflatten: expected 3 leaves for PyTreeDef({'x': (*, *), 'y': *}), got 2
    """
    if type(treedef) is not PyTreeDef:
        raise TypeError(
            "tree_unflatten(treedef, leaves) expects a PyTreeDef first, "
            f"got {type(treedef).__name__}"
        )
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: IsLeaf | None = None) -> list[Any]:
    """Return the leaves of a pytree, in flattening order.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    list

    Examples
    --------
    >>> tree_leaves({"b": 2, "a": [1, None]})
    [1, 2]
    """
    leaves: list[Any] = []
    _flatten(tree, leaves, is_leaf)
    return leaves


def tree_structure(tree: Any, is_leaf: IsLeaf | None = None) -> PyTreeDef:
    """Return the structure of a pytree.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    PyTreeDef

    Examples
    --------
    >>> tree_structure([1, (2, 3)])
    PyTreeDef([*, (*, *)])
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: IsLeaf | None = None) -> Any:
    """Apply ``f`` to corresponding leaves of one or more pytrees.

    Parameters
    ----------
    f : callable
        Called as ``f(x, *xs)`` with a leaf ``x`` of ``tree`` and the
        matching items ``xs`` of ``rest``.
    tree : pytree
        Its structure is the structure of the result.
    *rest : pytree
        Trees with the same structure as ``tree``, or with ``tree`` as a
        prefix: where ``tree`` has a leaf, ``f`` receives the whole
        corresponding subtree.
    is_leaf : callable, optional
        As for :func:`tree_flatten`, applied to ``tree``.

    Returns
    -------
    pytree
        A tree with the structure of ``tree`` holding the results of ``f``.

    Raises
    ------
    ValueError
        If a tree in ``rest`` does not match ``tree``; the message names the
        key path of the first difference and what each side had there.

    Examples
    --------
    >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": (20, 30)})
    {'a': 11, 'b': (22, 33)}
    >>> tree_map(lambda x, y: x + y, {"a": 1, "b": (2, 3)}, {"a": 10, "b": [20, 30]})
    Traceback (most recent call last):
        ...
    ValueError: tree_map: structure mismatch at rest[0]['b']:
    expected a tuple of 2 children, got a list of 2 children
    """
    leaves: list[Any] = []
    node = _flatten(tree, leaves, is_leaf)
    if not rest:
        return _build(node, [f(x) for x in leaves])
    columns = [leaves]
    for i, other in enumerate(rest):
        out = _flatten_up_to_root(node, other)
        if out is None:
            raise _mismatch_error(node, other, f"rest[{i}]", "tree_map")
        columns.append(out)
    return _build(node, [f(*xs) for xs in zip(*columns)])


_NO_INITIALIZER: Any = object()


def tree_reduce(
    function: Callable[[Any, Any], Any],
    tree: Any,
    initializer: Any = _NO_INITIALIZER,
    is_leaf: IsLeaf | None = None,
) -> Any:
    """Fold ``function`` over the leaves of a pytree, left to right.

    Parameters
    ----------
    function : callable
        ``function(accumulated, leaf) -> accumulated``.
    tree : pytree
    initializer : optional
        Starting value; without it the first leaf is used.
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    object
        The reduced value.

    Raises
    ------
    TypeError
        If the tree has no leaves and no ``initializer`` is given.

    Examples
    --------
    >>> import operator
    >>> tree_reduce(operator.add, {"a": 1, "b": [2, 3]})
    6
    >>> tree_reduce(operator.add, [None], initializer=0)
    0
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        if not leaves:
            raise TypeError("tree_reduce: the tree has no leaves and no initializer was given")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree: Any, is_leaf: IsLeaf | None = None) -> bool:
    """Return whether every leaf of a pytree is truthy.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    bool
        ``True`` for a tree without leaves.

    Examples
    --------
    >>> tree_all({"a": True, "b": [1, 2]})
    True
    >>> tree_all([True, 0])
    False
    """
    return all(tree_leaves(tree, is_leaf))


def _flatten_with_path(
    x: Any, path: KeyPath, out: list[tuple[KeyPath, Any]], is_leaf: IsLeaf | None
) -> _Node:
    h = _lookup(type(x))
    if h is None or (is_leaf is not None and is_leaf(x)):
        out.append((path, x))
        return None
    children, aux = h.flatten(x)
    keys = h.keys(aux, len(children))
    return (
        h,
        aux,
        tuple([_flatten_with_path(c, (*path, k), out, is_leaf) for k, c in zip(keys, children)]),
    )


def tree_flatten_with_path(
    tree: Any, is_leaf: IsLeaf | None = None
) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Flatten a pytree, pairing each leaf with its key path.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    leaves_with_paths : list of (KeyPath, leaf)
        In the same order as :func:`tree_flatten`'s leaves. Render a path
        with :func:`keystr`.
    treedef : PyTreeDef
        The same structure :func:`tree_flatten` returns.

    Examples
    --------
    >>> pairs, treedef = tree_flatten_with_path({"layers": [(1, 2)], "lr": 0.1})
    >>> [(keystr(path), leaf) for path, leaf in pairs]
    [("['layers'][0][0]", 1), ("['layers'][0][1]", 2), ("['lr']", 0.1)]
    """
    out: list[tuple[KeyPath, Any]] = []
    node = _flatten_with_path(tree, (), out, is_leaf)
    return out, PyTreeDef(node, len(out))
