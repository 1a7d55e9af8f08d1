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

The short names of ``jax.tree`` are aliases of the ``tree_*`` functions:
``fgrad.tree.map``, ``leaves``, ``structure``, ``flatten``, ``unflatten``,
``reduce``, ``all``, ``map_with_path``, ``flatten_with_path`` and
``leaves_with_path``. :func:`summary` tabulates a tree's leaves; a
:class:`PyTreeDef` pickles. ``ravel_pytree`` is in :mod:`fgrad.flatten_util`
and saving to ``.npz`` files in :mod:`fgrad.checkpoints`.

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
>>> fgrad.tree.map(lambda p: 2 * p, params)
{'b': 1.0, 'w': array([2., 2.])}
"""

from __future__ import annotations

import builtins
import functools
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar, final, overload

import numpy as np

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
    "summary",
    "tree_all",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_map",
    "tree_map_with_path",
    "tree_reduce",
    "tree_structure",
    "tree_unflatten",
]

T = TypeVar("T")
IsLeaf = Callable[[Any], bool]


class _PathEntry:
    """One immutable field, compared and hashed with its class, as a frozen dataclass is
    (written out: six dataclasses cost a few milliseconds of ``import fgrad``)."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _value(self) -> Any:
        return getattr(self, self.__match_args__[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__match_args__[0]}={self._value()!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._value() == other._value())

    def __hash__(self) -> int:
        return hash((self._value(),))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self._value(),)


class DictKey(_PathEntry):
    """Path entry for the value stored under ``key`` in a dict.

    Examples
    --------
    >>> str(DictKey("w")), DictKey("w") == DictKey(key="w")
    ("['w']", True)
    """

    __slots__ = ("key",)
    __match_args__ = ("key",)
    key: Hashable

    def __init__(self, key: Hashable) -> None:
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        return f"[{self.key!r}]"


class SequenceKey(_PathEntry):
    """Path entry for position ``idx`` of a list or tuple.

    Examples
    --------
    >>> str(SequenceKey(2)), SequenceKey(2)
    ('[2]', SequenceKey(idx=2))
    """

    __slots__ = ("idx",)
    __match_args__ = ("idx",)
    idx: int

    def __init__(self, idx: int) -> None:
        object.__setattr__(self, "idx", idx)

    def __str__(self) -> str:
        return f"[{self.idx}]"


class GetAttrKey(_PathEntry):
    """Path entry for the field ``name`` of a namedtuple or dataclass.

    Examples
    --------
    >>> str(GetAttrKey("weight"))
    '.weight'
    """

    __slots__ = ("name",)
    __match_args__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __str__(self) -> str:
        return f".{self.name}"


class FlattenedIndexKey(_PathEntry):
    """Path entry for child ``idx`` of a class registered with :func:`register_pytree_node`.

    Examples
    --------
    >>> str(FlattenedIndexKey(1))
    '[1]'
    """

    __slots__ = ("key",)
    __match_args__ = ("key",)
    key: int

    def __init__(self, key: int) -> None:
        object.__setattr__(self, "key", key)

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
    return "".join([str(entry) for entry in path])


def _plural(n: int) -> str:
    return f"{n} child" if n == 1 else f"{n} children"


@final
class _NodeType:
    """How one container type is flattened, rebuilt, keyed, described and printed."""

    __slots__ = (
        "data_fields",
        "describe",
        "flatten",
        "keys",
        "kind",
        "meta_fields",
        "name",
        "nodetype",
        "render",
        "unflatten",
    )

    def __init__(
        self,
        name: str,
        flatten: Callable[[Any], tuple[Sequence[Any], Any]],
        unflatten: Callable[[Any, list[Any]], Any],
        keys: Callable[[Any, int], Sequence[KeyEntry]],
        describe: Callable[[Any, int], str],
        render: Callable[[Any, list[str]], str],
        *,
        kind: str,
        nodetype: type | None = None,
        data_fields: tuple[str, ...] = (),
        meta_fields: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.flatten = flatten
        self.unflatten = unflatten
        self.keys = keys
        self.describe = describe
        self.render = render
        # "tuple", "list", "dict", "OrderedDict", "None", "namedtuple", "dataclass" or "custom"
        self.kind = kind
        # the registered class (None for namedtuples, whose class is their aux data)
        self.nodetype = nodetype
        self.data_fields = data_fields
        self.meta_fields = meta_fields

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
    kind="tuple",
    nodetype=tuple,
)
_LIST = _NodeType(
    "list",
    lambda x: (x, None),
    lambda aux, kids: kids,
    _sequence_keys,
    lambda aux, n: f"a list of {_plural(n)}",
    lambda aux, kids: f"[{', '.join(kids)}]",
    kind="list",
    nodetype=list,
)
_DICT = _NodeType(
    "dict",
    _flatten_dict,
    lambda aux, kids: dict(zip(aux, kids)),
    _dict_keys,
    lambda aux, n: f"a dict with keys {list(aux)!r}",
    _render_mapping,
    kind="dict",
    nodetype=dict,
)
_ORDERED_DICT = _NodeType(
    "OrderedDict",
    lambda x: (tuple(x.values()), tuple(x)),
    lambda aux, kids: OrderedDict(zip(aux, kids)),
    _dict_keys,
    lambda aux, n: f"an OrderedDict with keys {list(aux)!r}",
    lambda aux, kids: f"OrderedDict({_render_mapping(aux, kids)})",
    kind="OrderedDict",
    nodetype=OrderedDict,
)
_NONE = _NodeType(
    "None",
    lambda x: ((), None),
    lambda aux, kids: None,
    lambda aux, n: [],
    lambda aux, n: "None",
    lambda aux, kids: "None",
    kind="None",
    nodetype=type(None),
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
    kind="namedtuple",
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
            kind="custom",
            nodetype=nodetype,
        ),
    )


class _UnhashableStaticField(TypeError):
    """A static (meta) field holds an unhashable value; ``path`` is filled in on the way up."""

    def __init__(self, class_name: str, field: str, value: Any) -> None:
        super().__init__(class_name, field)
        self.class_name = class_name
        self.field = field
        self.value = value
        self.path: list[KeyEntry] = []

    def __str__(self) -> str:
        where = f"at path {keystr(self.path)}" if self.path else "at the root of the tree"
        return (
            f"static field {self.class_name}.{self.field} {where} holds {self.value!r:.60}, "
            f"an unhashable {type(self.value).__name__}: static (meta) fields are part of the "
            "tree structure, which is compared and hashed (jit caches by it). Use a hashable "
            "value (a tuple instead of a list, a string, a number) or make it a data field"
        )


@overload
def register_dataclass(
    nodetype: type[T],
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
    *,
    static: Sequence[str] = (),
) -> type[T]: ...


@overload
def register_dataclass(
    nodetype: None = None,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
    *,
    static: Sequence[str] = (),
) -> Callable[[type[T]], type[T]]: ...


def register_dataclass(
    nodetype: type[T] | None = None,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
    *,
    static: Sequence[str] = (),
) -> Any:
    """Register a dataclass as a pytree node whose children are its data fields.

    The signature is ``jax.tree_util.register_dataclass``'s, plus ``static=``.
    Usable as a class decorator, bare or called with keywords. Data fields
    are the children, visited in the order given (declaration order when
    inferred); the instance is rebuilt by calling ``nodetype(**fields)``.
    *Meta* (static) fields, settings such as an activation name, are not
    leaves: they are kept in the tree structure, so transforms, optimizers
    and ``tree_map`` never see them, and two trees match only if their meta
    values are equal.

    Parameters
    ----------
    nodetype : type
        The class. Without ``data_fields`` and ``meta_fields`` it must be a
        dataclass all of whose fields are ``__init__`` parameters; with both,
        any class whose ``__init__`` takes those names as keywords.
    data_fields : sequence of str, optional
        Names of the fields that are children (array leaves or subtrees).
    meta_fields : sequence of str, optional
        Names of the static fields. Give both lists or neither; for a
        dataclass their union must be its ``__init__`` fields (less
        ``drop_fields``). When neither is given, a field declared with
        ``dataclasses.field(metadata={"static": True})`` or named in
        ``static`` is a meta field and every other field a data field.
    drop_fields : sequence of str, optional
        Dataclass ``__init__`` fields that are neither: not stored in the
        tree, so the class's default is used when rebuilding.
    static : sequence of str, optional
        fgrad's shorthand for ``meta_fields`` with inferred data fields (not
        combinable with ``data_fields``/``meta_fields``).

    Returns
    -------
    type
        ``nodetype`` itself (or, called without it, a decorator).

    Raises
    ------
    TypeError
        If ``nodetype`` is not a class, the field lists are incomplete, or a
        dataclass used without field lists has a field with ``init=False``.
        Flattening an instance whose meta field is unhashable raises a
        ``TypeError`` naming the class, the field and its pytree path.
    ValueError
        If ``nodetype`` is already registered, or a name is not a field of a
        dataclass ``nodetype``, is listed twice, or a dataclass field is left
        out.

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

    JAX's form, with explicit field lists:

    >>> @dataclasses.dataclass
    ... class Conv:
    ...     kernel: float
    ...     stride: int
    >>> _ = register_dataclass(Conv, data_fields=["kernel"], meta_fields=["stride"])
    >>> tree_leaves(Conv(kernel=0.5, stride=2))
    [0.5]
    >>> tree_structure(Conv(0.5, 2)) == tree_structure(Conv(0.1, 3))
    False
    """
    if isinstance(static, str):
        static = (static,)
    if isinstance(drop_fields, str):
        drop_fields = (drop_fields,)

    def register(cls: type[T]) -> type[T]:
        return _register_dataclass(
            cls,
            None if data_fields is None else _names(data_fields, "data_fields"),
            None if meta_fields is None else _names(meta_fields, "meta_fields"),
            _names(drop_fields, "drop_fields"),
            _names(static, "static"),
        )

    if nodetype is None:
        return register
    return register(nodetype)


def _names(names: Any, argument: str) -> tuple[str, ...]:
    if isinstance(names, str):
        return (names,)
    try:
        out = tuple(names)
    except TypeError:
        raise TypeError(
            f"register_dataclass: {argument} must be a sequence of field names, got {names!r}"
        ) from None
    bad = [n for n in out if not isinstance(n, str)]
    if bad:
        raise TypeError(
            f"register_dataclass: {argument} must hold field names (str), got {bad[0]!r}"
        )
    return out


def _dataclass_fields(
    cls: type,
    data_fields: tuple[str, ...] | None,
    meta_fields: tuple[str, ...] | None,
    drop_fields: tuple[str, ...],
    static: tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The data and meta field names of ``cls``, checked against its fields."""
    import dataclasses  # not at module level: it would add milliseconds to ``import fgrad``

    name = cls.__qualname__
    explicit = data_fields is not None or meta_fields is not None
    if explicit and (data_fields is None or meta_fields is None):
        raise TypeError(
            "register_dataclass: give both data_fields and meta_fields or neither, got "
            f"data_fields={data_fields!r}, meta_fields={meta_fields!r}"
        )
    if explicit and static:
        raise TypeError(
            "register_dataclass: static= is shorthand for meta_fields= with inferred data "
            "fields; do not combine it with data_fields/meta_fields"
        )
    is_dataclass = dataclasses.is_dataclass(cls)
    if data_fields is not None and meta_fields is not None:
        listed = [*data_fields, *meta_fields, *drop_fields]
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise ValueError(f"register_dataclass: {name} fields {twice!r} are listed twice")
        if is_dataclass:
            init_names = [f.name for f in dataclasses.fields(cls) if f.init]
            unknown = [n for n in listed if n not in init_names]
            missing = [n for n in init_names if n not in listed]
            if unknown or missing:
                raise ValueError(
                    f"register_dataclass: data_fields, meta_fields and drop_fields must list "
                    f"exactly the __init__ fields of {name} {tuple(init_names)!r}; "
                    + (f"not fields: {unknown!r}" if unknown else "")
                    + ("; " if unknown and missing else "")
                    + (f"left out: {missing!r}" if missing else "")
                )
        elif drop_fields:
            raise TypeError(f"register_dataclass: drop_fields needs a dataclass, {name} is not one")
        return data_fields, meta_fields
    if not is_dataclass:
        raise TypeError(
            f"register_dataclass expects a dataclass type, got {cls!r}; other classes need "
            "explicit data_fields and meta_fields"
        )
    fields = [f for f in dataclasses.fields(cls) if f.name not in drop_fields]
    no_init = [f.name for f in fields if not f.init]
    if no_init:
        raise TypeError(
            f"register_dataclass: {name} has fields with init=False {no_init!r}; "
            "every field must be an __init__ parameter to rebuild the instance"
        )
    all_names = [f.name for f in dataclasses.fields(cls)]
    for argument, names in (("static", static), ("drop_fields", drop_fields)):
        unknown = [n for n in names if n not in all_names]
        if unknown:
            raise ValueError(
                f"register_dataclass: {argument}={names!r} names {unknown!r}, which "
                f"{name} does not have; its fields are {tuple(all_names)!r}"
            )
    meta = tuple(f.name for f in fields if f.name in static or f.metadata.get("static", False))
    data = tuple(f.name for f in fields if f.name not in meta)
    return data, meta


def _register_dataclass(
    cls: type[T],
    data_fields: tuple[str, ...] | None,
    meta_fields: tuple[str, ...] | None,
    drop_fields: tuple[str, ...],
    static: tuple[str, ...],
) -> type[T]:
    if not isinstance(cls, type):
        raise TypeError(f"register_dataclass expects a class, got {cls!r}")
    names, static_names = _dataclass_fields(cls, data_fields, meta_fields, drop_fields, static)
    name = cls.__qualname__
    get_static: Callable[[Any], Any]
    if not static_names:

        def get_static(x: Any) -> None:
            return None
    else:
        static_getter = operator.attrgetter(*static_names)
        one_static = len(static_names) == 1

        def get_static(x: Any) -> tuple[Any, ...]:
            aux = (static_getter(x),) if one_static else static_getter(x)
            try:
                hash(aux)
            except TypeError:
                for field, value in zip(static_names, aux):
                    try:
                        hash(value)
                    except TypeError:
                        raise _UnhashableStaticField(name, field, value) from None
                raise
            return aux

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
            kind="dataclass",
            nodetype=cls,
            data_fields=names,
            meta_fields=static_names,
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
    children: Sequence[Any]
    if h is _DICT:
        children, aux = _flatten_dict(x)
    elif h is _LIST or h is _TUPLE:
        children, aux = x, None
    else:
        children, aux = h.flatten(x)
    kids: list[_Node] = []
    try:
        for c in children:
            t = type(c)
            if t is _NDARRAY or not (
                t in _registry or (issubclass(t, tuple) and hasattr(t, "_fields"))
            ):
                leaves.append(c)
                kids.append(None)
            else:
                kids.append(_flatten(c, leaves, is_leaf))
    except _UnhashableStaticField as e:
        e.path.insert(0, h.keys(aux, len(children))[len(kids)])
        raise
    return (h, aux, tuple(kids))


_NDARRAY = np.ndarray


def _unflatten(node: _Node, next_leaf: Callable[[], Any]) -> Any:
    h, aux, kids = node
    children = [next_leaf() if k is None else _unflatten(k, next_leaf) for k in kids]
    if h is _DICT:
        return dict(zip(aux, children))
    if h is _LIST:
        return children
    return h.unflatten(aux, children)


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
    try:
        return out if _flatten_up_to(node, x, out) else None
    except _UnhashableStaticField:
        tree_flatten_with_path(x)  # raises the same error with the path filled in
        raise


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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the node classes (by reference), aux data and children.

        Examples
        --------
        >>> import pickle
        >>> treedef = tree_structure({"a": [1, 2], "b": None})
        >>> pickle.loads(pickle.dumps(treedef)) == treedef
        True
        """
        return (_treedef_from_portable, (_portable(self._node),))

    def __repr__(self) -> str:
        return f"PyTreeDef({_render(self._node)})"


def _portable(node: _Node) -> Any:
    """``node`` with each node type replaced by its class (``"namedtuple"`` for namedtuples)."""
    if node is None:
        return None
    h: _NodeType = node[0]
    key = "namedtuple" if h.nodetype is None else h.nodetype
    return (key, node[1], tuple([_portable(k) for k in node[2]]))


def _from_portable(portable: Any, counter: list[int]) -> _Node:
    if portable is None:
        counter[0] += 1
        return None
    key, aux, kids = portable
    if key == "namedtuple":
        if not (isinstance(aux, type) and issubclass(aux, tuple) and hasattr(aux, "_fields")):
            raise TypeError(f"unpickling a PyTreeDef: {aux!r} is not a namedtuple class")
        h = _NAMEDTUPLE
    else:
        found = _registry_get(key) if isinstance(key, type) else None
        if found is None:
            what = getattr(key, "__qualname__", repr(key))
            raise TypeError(
                f"unpickling a PyTreeDef: {what} is not registered as a pytree node type in "
                "this process; import the module that registers it before unpickling"
            )
        h = found
    return (h, aux, tuple([_from_portable(k, counter) for k in kids]))


def _treedef_from_portable(portable: Any) -> PyTreeDef:
    counter = [0]
    node = _from_portable(portable, counter)
    return PyTreeDef(node, counter[0])


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
    return builtins.all(tree_leaves(tree, is_leaf))


def _flatten_with_path(
    x: Any, path: KeyPath, out: list[tuple[KeyPath, Any]], is_leaf: IsLeaf | None
) -> _Node:
    h = _lookup(type(x))
    if h is None or (is_leaf is not None and is_leaf(x)):
        out.append((path, x))
        return None
    try:
        children, aux = h.flatten(x)
    except _UnhashableStaticField as e:
        e.path[:0] = path
        raise
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


def tree_leaves_with_path(tree: Any, is_leaf: IsLeaf | None = None) -> list[tuple[KeyPath, Any]]:
    """Return each leaf of a pytree with its key path, in flattening order.

    Parameters
    ----------
    tree : pytree
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    list of (KeyPath, leaf)
        The first item of :func:`tree_flatten_with_path`.

    Examples
    --------
    >>> [(keystr(path), leaf) for path, leaf in tree_leaves_with_path({"b": 2, "a": [1]})]
    [("['a'][0]", 1), ("['b']", 2)]
    """
    out: list[tuple[KeyPath, Any]] = []
    _flatten_with_path(tree, (), out, is_leaf)
    return out


def tree_map_with_path(
    f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: IsLeaf | None = None
) -> Any:
    """Apply ``f`` to the key path and corresponding leaves of one or more pytrees.

    Parameters
    ----------
    f : callable
        Called as ``f(path, x, *xs)`` with the key path of a leaf ``x`` of
        ``tree`` (a tuple of :class:`DictKey`, :class:`SequenceKey`... render
        it with :func:`keystr`) and the matching items ``xs`` of ``rest``.
    tree : pytree
        Its structure is the structure of the result.
    *rest : pytree
        Trees with the same structure as ``tree``, or with ``tree`` as a
        prefix, as for :func:`tree_map`.
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
    >>> params = {"w": np.ones(2), "b": np.ones(2)}
    >>> decay = lambda path, p: p * 0.5 if keystr(path) == "['w']" else p
    >>> tree_map_with_path(decay, params)
    {'b': array([1., 1.]), 'w': array([0.5, 0.5])}
    >>> tree_map_with_path(lambda path, x, y: f"{keystr(path)}={x + y}", [1, (2,)], [10, (20,)])
    ['[0]=11', ('[1][0]=22',)]
    """
    pairs: list[tuple[KeyPath, Any]] = []
    node = _flatten_with_path(tree, (), pairs, is_leaf)
    if not rest:
        return _build(node, [f(path, x) for path, x in pairs])
    columns: list[list[Any]] = [[x for _, x in pairs]]
    for i, other in enumerate(rest):
        out = _flatten_up_to_root(node, other)
        if out is None:
            raise _mismatch_error(node, other, f"rest[{i}]", "tree_map_with_path")
        columns.append(out)
    paths = [path for path, _ in pairs]
    return _build(node, [f(path, *xs) for path, *xs in zip(paths, *columns)])


def _leaf_shape_dtype(leaf: Any) -> tuple[tuple[int, ...], np.dtype[Any]] | None:
    """Shape and dtype of an array-like leaf (arrays, NumPy and Python numbers, tracers)."""
    shape = getattr(leaf, "shape", None)
    dtype = getattr(leaf, "dtype", None)
    if isinstance(shape, tuple) and isinstance(dtype, np.dtype):
        return shape, dtype
    if isinstance(leaf, (bool, int, float, complex)):
        value = np.asarray(leaf)
        if value.dtype.kind in "biufc":
            return (), value.dtype
    return None


def _format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


def summary(tree: Any, *, is_leaf: IsLeaf | None = None) -> str:
    """A table of a pytree's leaves: path, shape, dtype, parameter count and bytes.

    Works on any pytree (parameters, gradients, optimizer states), like
    flax's ``tabulate`` for a model's parameters. Leaves that are not
    arrays or numbers (strings, objects) are listed by type and counted as
    no parameters.

    Parameters
    ----------
    tree : pytree
        Arrays, NumPy or Python numbers, or traced values as leaves.
    is_leaf : callable, optional
        As for :func:`tree_flatten`.

    Returns
    -------
    str
        One row per leaf in flattening order, then a ``total`` row with the
        number of parameters (elements) and their size in bytes.

    Examples
    --------
    >>> params = {"dense": {"w": np.zeros((2, 3)), "b": np.zeros(3, np.float32)}, "scale": 1.0}
    >>> print(summary(params))
    path              shape   dtype    params  bytes
    ----------------  ------  -------  ------  -----
    ['dense']['b']    (3,)    float32       3   12 B
    ['dense']['w']    (2, 3)  float64       6   48 B
    ['scale']         ()      float64       1    8 B
    ----------------  ------  -------  ------  -----
    total (3 leaves)                       10   68 B
    """
    rows: list[tuple[str, str, str, str, str]] = []
    total_params = 0
    total_bytes = 0
    pairs = tree_leaves_with_path(tree, is_leaf)
    for path, leaf in pairs:
        where = keystr(path) or "(root)"
        info = _leaf_shape_dtype(leaf)
        if info is None:
            rows.append((where, "-", type(leaf).__name__, "0", "-"))
            continue
        shape, dtype = info
        count = 1
        for n in shape:
            count *= int(n)
        nbytes = count * dtype.itemsize
        total_params += count
        total_bytes += nbytes
        rows.append((where, str(shape), str(dtype), f"{count:,}", _format_bytes(nbytes)))
    noun = "leaf" if len(pairs) == 1 else "leaves"
    header = ("path", "shape", "dtype", "params", "bytes")
    total = (
        f"total ({len(pairs)} {noun})",
        "",
        "",
        f"{total_params:,}",
        _format_bytes(total_bytes),
    )
    widths = [max(len(r[i]) for r in [header, *rows, total]) for i in range(5)]
    right = (False, False, False, True, True)

    def line(cells: Sequence[str]) -> str:
        text = "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right))
        return text.rstrip()

    rule = line(["-" * w for w in widths])
    return "\n".join([line(header), rule, *[line(r) for r in rows], rule, line(total)])


# The short names of ``jax.tree`` (``fgrad.tree.map`` is ``tree_map``...). They are not in
# ``__all__``: ``from fgrad.tree import *`` would shadow the builtins ``map`` and ``all``.
all = tree_all
flatten = tree_flatten
flatten_with_path = tree_flatten_with_path
leaves = tree_leaves
leaves_with_path = tree_leaves_with_path
map = tree_map
map_with_path = tree_map_with_path
reduce = tree_reduce
structure = tree_structure
unflatten = tree_unflatten
