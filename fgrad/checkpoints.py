"""Save parameters and optimizer states to ``.npz`` files and load them back.

A checkpoint is a NumPy ``.npz`` archive with one array per leaf, named by the
leaf's pytree path (:func:`fgrad.tree.keystr`: ``['layers'][0]['w']``, ``.mu``),
and one entry describing the tree's structure as JSON. Reading one never runs
code from the file: arrays are read with ``allow_pickle=False`` (an object
array is refused), and the structure is rebuilt from dicts, lists, tuples,
``None``, ``OrderedDict``, namedtuples (such as :mod:`fgrad.optim`'s states) and
classes registered with :func:`fgrad.tree.register_dataclass`, the last two
looked up by qualified name among the modules already imported (never
importing one). Other registered node types are saved too, but loading them
needs a template: ``load(path, like=tree)``.

Not to be confused with :func:`fgrad.checkpoint`, which recomputes a
function's intermediate values during the backward pass.

Examples
--------
>>> import tempfile, os
>>> from fgrad import checkpoints, optim
>>> params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
>>> state = optim.adam(1e-3).init(params)
>>> path = os.path.join(tempfile.mkdtemp(), "step100.npz")
>>> checkpoints.save(path, {"params": params, "opt_state": state, "step": 100})
'...step100.npz'
>>> restored = checkpoints.load(path)
>>> restored["opt_state"].mu["w"]
array([[0., 0., 0.],
       [0., 0., 0.]])
>>> type(restored["opt_state"]).__name__
'AdamState'
>>> restored["step"]
100
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import types
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from fgrad._core import Tracer
from fgrad.tree import (
    _NAMEDTUPLE,
    PyTreeDef,
    _Node,
    _NodeType,
    _registry,
    keystr,
    tree_flatten_with_path,
)

__all__ = ["CheckpointError", "load", "save"]

_STRUCTURE_ENTRY = "__fgrad_checkpoint__"
_FORMAT = "fgrad.checkpoints"
_VERSION = 1
_NUMERIC_KINDS = "biufc"
_PYTHON_KINDS: dict[str, type] = {"bool": bool, "int": int, "float": float, "complex": complex}
_BUILTIN_NODES: dict[str, _NodeType] = {
    _registry[t].kind: _registry[t] for t in (tuple, list, dict, OrderedDict, type(None))
}


class CheckpointError(ValueError):
    """A checkpoint file is malformed, or does not match the template it is loaded into.

    Examples
    --------
    >>> issubclass(CheckpointError, ValueError)
    True
    """


# --- saving ---------------------------------------------------------------------------------


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode_value(value: Any) -> Any:
    """A dict key or static field value as tagged JSON; ``["opaque", repr]`` if not describable."""
    if value is None:
        return ["None", None]
    if isinstance(value, bool):
        return ["bool", value]
    if type(value) is int:
        return ["int", value]
    if type(value) is float:
        return ["float", repr(value)]
    if type(value) is str:
        return ["str", value]
    if type(value) is tuple:
        return ["tuple", [_encode_value(v) for v in value]]
    return ["opaque", f"{value!r:.80}"]


def _describe_node(node: _Node) -> Any:
    if node is None:
        return {"type": "leaf"}
    h: _NodeType = node[0]
    aux, kids = node[1], node[2]
    children = [_describe_node(k) for k in kids]
    if h.kind in ("tuple", "list", "None"):
        return {"type": h.kind, "children": children}
    if h.kind in ("dict", "OrderedDict"):
        return {"type": h.kind, "keys": [_encode_value(k) for k in aux], "children": children}
    if h.kind == "namedtuple":
        return {
            "type": "namedtuple",
            "class": _qualified_name(aux),
            "fields": list(aux._fields),
            "children": children,
        }
    cls: Any = h.nodetype
    if h.kind == "dataclass":
        meta = None if aux is None else [_encode_value(v) for v in aux]
        return {
            "type": "dataclass",
            "class": _qualified_name(cls),
            "data_fields": list(h.data_fields),
            "meta_fields": list(h.meta_fields),
            "meta": meta,
            "children": children,
        }
    return {"type": "custom", "class": _qualified_name(cls), "children": children}


def _leaf_array(path: str, leaf: Any) -> tuple[np.ndarray, str]:
    """``leaf`` as an array to store, and its kind (``ndarray``, ``numpy_scalar``, ``float``...)."""
    if isinstance(leaf, Tracer):
        raise TypeError(
            f"checkpoints.save: the leaf at {path} is a traced value; save concrete arrays, "
            "outside grad/jit/vmap (return the parameters from the step function, then save)"
        )
    if isinstance(leaf, np.ndarray):
        kind, array = "ndarray", leaf
    elif isinstance(leaf, np.generic):
        kind, array = "numpy_scalar", np.asarray(leaf)
    elif type(leaf) in (bool, int, float, complex):
        kind, array = type(leaf).__name__, np.asarray(leaf)
    else:
        raise TypeError(
            f"checkpoints.save: the leaf at {path} is a {type(leaf).__name__} "
            f"({leaf!r:.40}); checkpoints store arrays and numbers. Keep settings out of the "
            "tree or make them static fields (fgrad.tree.register_dataclass(cls, static=...))"
        )
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"checkpoints.save: the leaf at {path} has dtype {array.dtype}; checkpoints store "
            "numeric arrays (bool, integer, float, complex) only"
        )
    return array, kind


def save(path: str | os.PathLike[str], tree: Any, *, compress: bool = False) -> str:
    """Save a pytree of arrays and numbers to an ``.npz`` checkpoint.

    The file is written to a temporary name and renamed, so an interrupted
    save never leaves a half-written checkpoint under ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination; ``.npz`` is appended if it does not end with it (as
        ``numpy.savez`` does).
    tree : pytree
        Leaves must be NumPy arrays, NumPy scalars or Python ``bool``,
        ``int``, ``float`` or ``complex`` (numeric dtypes only).
    compress : bool, optional
        Compress the arrays (``numpy.savez_compressed``).

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError
        If a leaf is not an array or number, or is a traced value; the
        message names its pytree path.
    ValueError
        If two leaves have the same path text (dict keys whose ``repr``
        coincide).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "params")
    >>> fgrad.checkpoints.save(path, {"w": np.ones(2), "lr": 0.1})
    '...params.npz'
    >>> with np.load(path + ".npz", allow_pickle=False) as data:
    ...     sorted(data.files)
    ["['lr']", "['w']", '__fgrad_checkpoint__']
    """
    target = os.fspath(path)
    if not target.endswith(".npz"):
        target += ".npz"
    pairs, treedef = tree_flatten_with_path(tree)
    arrays: dict[str, np.ndarray] = {}
    leaves = []
    for key_path, leaf in pairs:
        key = keystr(key_path)
        shown = key or "the root"
        if key in arrays:
            raise ValueError(
                f"checkpoints.save: two leaves have the path {key}; use dict keys whose repr differ"
            )
        array, kind = _leaf_array(shown, leaf)
        arrays[key] = array
        leaves.append(
            {"key": key, "kind": kind, "dtype": array.dtype.str, "shape": list(array.shape)}
        )
    description = {
        "format": _FORMAT,
        "version": _VERSION,
        "tree": _describe_node(treedef._node),
        "leaves": leaves,
    }
    text = json.dumps(description, allow_nan=False, separators=(",", ":"))
    arrays[_STRUCTURE_ENTRY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    writer: Callable[..., None] = np.savez_compressed if compress else np.savez
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f, **arrays)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return target


# --- loading --------------------------------------------------------------------------------


class _Malformed(Exception):
    """A structure description that is not what :func:`save` writes."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _Malformed(message)


def _decode_value(encoded: Any, where: str) -> Any:
    _expect(
        isinstance(encoded, list) and len(encoded) == 2 and isinstance(encoded[0], str),
        f"{where}: expected a [type, value] pair, got {encoded!r:.60}",
    )
    tag, value = encoded
    if tag == "None" and value is None:
        return None
    if tag == "bool" and isinstance(value, bool):
        return value
    if tag == "int" and type(value) is int:
        return value
    if tag == "str" and isinstance(value, str):
        return value
    if tag == "float" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Malformed(f"{where}: {value!r:.40} is not a float") from None
    if tag == "tuple" and isinstance(value, list):
        return tuple(_decode_value(v, where) for v in value)
    if tag == "opaque":
        raise _NeedsTemplate(f"{where} is {value!r:.80}, which the file cannot describe")
    raise _Malformed(f"{where}: unknown value {encoded!r:.60}")


class _NeedsTemplate(Exception):
    """The file describes a structure it cannot rebuild by itself (a custom node...)."""


def _resolve_class(name: Any, where: str) -> type:
    """The class named ``module:qualname``, from modules already imported; never imports."""
    _expect(isinstance(name, str) and name.count(":") == 1, f"{where}: bad class name {name!r:.60}")
    module_name, qualname = name.split(":")
    module = sys.modules.get(module_name)
    if module is None:
        raise _NeedsTemplate(
            f"{where} is a {qualname} from module {module_name!r}, which is not imported "
            "(loading never imports modules); import it first"
        )
    found: Any = module
    for part in qualname.split("."):
        namespace = vars(found) if isinstance(found, (types.ModuleType, type)) else {}
        found = namespace.get(part)
        if found is None:
            raise _NeedsTemplate(
                f"{where} is a {qualname} of module {module_name!r}, which has no such "
                "module-level class"
            )
    if not isinstance(found, type):
        raise _NeedsTemplate(f"{where}: {name} is not a class")
    return found


def _children(description: dict[str, Any], where: str, count: int | None = None) -> list[Any]:
    children = description.get("children")
    if not isinstance(children, list):
        raise _Malformed(f"{where}: 'children' must be a list")
    if count is not None:
        _expect(
            len(children) == count,
            f"{where}: {len(children)} children for {count} keys or fields",
        )
    return children


def _string_list(value: Any, where: str, what: str) -> list[str]:
    _expect(
        isinstance(value, list) and all(isinstance(v, str) for v in value),
        f"{where}: {what} must be a list of strings",
    )
    return list(value)


def _rebuild_node(description: Any, where: str, counter: list[int]) -> _Node:
    """The internal node of a structure description (see :func:`fgrad.tree.tree_flatten`)."""
    _expect(isinstance(description, dict), f"{where}: expected an object, got {description!r:.60}")
    kind = description.get("type")
    if kind == "leaf":
        counter[0] += 1
        return None
    aux: Any
    if kind in ("tuple", "list", "None"):
        h = _BUILTIN_NODES[kind]
        aux = None
        children = _children(description, where, 0 if kind == "None" else None)
        keys: list[str] = [f"[{i}]" for i in range(len(children))]
    elif kind in ("dict", "OrderedDict"):
        h = _BUILTIN_NODES[kind]
        encoded = description.get("keys")
        _expect(isinstance(encoded, list), f"{where}: 'keys' must be a list")
        aux = tuple(_decode_value(k, f"{where} (a dict key)") for k in encoded)
        _expect(len(set(aux)) == len(aux), f"{where}: repeated dict keys")
        children = _children(description, where, len(aux))
        keys = [f"[{k!r}]" for k in aux]
    elif kind == "namedtuple":
        cls = _resolve_class(description.get("class"), where)
        fields = _string_list(description.get("fields"), where, "'fields'")
        if not (issubclass(cls, tuple) and list(getattr(cls, "_fields", ())) == fields):
            raise _NeedsTemplate(
                f"{where} is a namedtuple {cls.__qualname__} with fields {fields}, but "
                f"{cls.__qualname__} now is not a namedtuple with those fields"
            )
        h, aux = _NAMEDTUPLE, cls
        children = _children(description, where, len(fields))
        keys = [f".{f}" for f in fields]
    elif kind == "dataclass":
        cls = _resolve_class(description.get("class"), where)
        data_fields = _string_list(description.get("data_fields"), where, "'data_fields'")
        meta_fields = _string_list(description.get("meta_fields"), where, "'meta_fields'")
        registered = _registry.get(cls)
        if (
            registered is None
            or registered.kind != "dataclass"
            or list(registered.data_fields) != data_fields
            or list(registered.meta_fields) != meta_fields
        ):
            raise _NeedsTemplate(
                f"{where} is a {cls.__qualname__} with data fields {data_fields} and static "
                f"fields {meta_fields}, but {cls.__qualname__} is not registered with "
                "register_dataclass with those fields in this process"
            )
        h = registered
        meta = description.get("meta")
        if meta_fields:
            _expect(
                isinstance(meta, list) and len(meta) == len(meta_fields),
                f"{where}: 'meta' must list {len(meta_fields)} values",
            )
            aux = tuple(
                _decode_value(v, f"{where}.{f} (a static field)") for f, v in zip(meta_fields, meta)
            )
        else:
            _expect(meta is None, f"{where}: 'meta' must be null without static fields")
            aux = None
        children = _children(description, where, len(data_fields))
        keys = [f".{f}" for f in data_fields]
    elif kind == "custom":
        name = description.get("class")
        raise _NeedsTemplate(f"{where} is a {name} node (registered with register_pytree_node)")
    else:
        raise _Malformed(f"{where}: unknown node type {kind!r:.40}")
    kids = tuple(_rebuild_node(child, where + key, counter) for child, key in zip(children, keys))
    return (h, aux, kids)


def _parse_description(data: Any, source: str) -> dict[str, Any]:
    if _STRUCTURE_ENTRY not in data.files:
        raise CheckpointError(
            f"{source} is not an fgrad checkpoint: it has no {_STRUCTURE_ENTRY!r} entry "
            "(written by fgrad.checkpoints.save)"
        )
    raw = _read_entry(data, _STRUCTURE_ENTRY, source)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(
            f"{source}: the {_STRUCTURE_ENTRY!r} entry must be 1-D uint8 (UTF-8 JSON), got "
            f"{raw.dtype} of shape {raw.shape}"
        )
    try:
        description = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CheckpointError(
            f"{source}: the structure description is not valid JSON: {e}"
        ) from None
    if not isinstance(description, dict) or description.get("format") != _FORMAT:
        raise CheckpointError(f"{source}: the structure description is not {_FORMAT!r}")
    if description.get("version") != _VERSION:
        raise CheckpointError(
            f"{source}: checkpoint format version {description.get('version')!r:.20}; this "
            f"fgrad reads version {_VERSION}"
        )
    return description


def _leaf_specs(
    description: dict[str, Any], source: str
) -> list[tuple[str, str, np.dtype[Any], tuple[int, ...]]]:
    leaves = description.get("leaves")
    if not isinstance(leaves, list):
        raise CheckpointError(f"{source}: the structure description has no list of leaves")
    specs = []
    seen: set[str] = set()
    for i, spec in enumerate(leaves):
        ok = (
            isinstance(spec, dict)
            and isinstance(spec.get("key"), str)
            and spec.get("kind") in ("ndarray", "numpy_scalar", *_PYTHON_KINDS)
            and isinstance(spec.get("dtype"), str)
            and isinstance(spec.get("shape"), list)
            and all(type(n) is int and n >= 0 for n in spec["shape"])
        )
        if not ok:
            raise CheckpointError(f"{source}: leaf {i} of the structure description is malformed")
        key = spec["key"]
        if key in seen or key == _STRUCTURE_ENTRY:
            raise CheckpointError(f"{source}: the leaf path {key} is listed twice")
        seen.add(key)
        try:
            dtype = np.dtype(spec["dtype"])
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _NUMERIC_KINDS:
            raise CheckpointError(
                f"{source}: the leaf at {key or 'the root'} has dtype {spec['dtype']!r:.30}; "
                "checkpoints hold numeric arrays only"
            )
        shape = tuple(spec["shape"])
        python_type = _PYTHON_KINDS.get(spec["kind"])
        if python_type is not None and np.dtype(python_type).kind != dtype.kind:
            raise CheckpointError(
                f"{source}: the leaf at {key or 'the root'} is a Python {spec['kind']} "
                f"stored as {dtype}"
            )
        if spec["kind"] != "ndarray" and shape != ():
            raise CheckpointError(
                f"{source}: the leaf at {key or 'the root'} is a {spec['kind']} of shape {shape}"
            )
        specs.append((key, spec["kind"], dtype, shape))
    return specs


def _read_entry(data: Any, key: str, source: str) -> np.ndarray:
    shown = key or "the root"
    try:
        array = data[key]
    except ValueError as e:
        if "allow_pickle" in str(e) or "pickled" in str(e):
            raise CheckpointError(
                f"{source}: the entry for {shown} holds pickled Python objects; checkpoints are "
                "read without unpickling (allow_pickle=False), which is what keeps loading "
                "from running code"
            ) from None
        raise CheckpointError(f"{source}: cannot read the entry for {shown}: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as e:
        raise CheckpointError(f"{source}: cannot read the entry for {shown}: {e}") from None
    if not isinstance(array, np.ndarray):
        raise CheckpointError(f"{source}: the entry for {shown} is not an array")
    return array


def _restore_leaf(array: np.ndarray, kind: str) -> Any:
    if kind == "ndarray":
        return array
    if kind == "numpy_scalar":
        return array[()]
    return _PYTHON_KINDS[kind](array.item())


def _shape_dtype(leaf: Any) -> tuple[tuple[int, ...], np.dtype[Any]] | None:
    shape = getattr(leaf, "shape", None)
    dtype = getattr(leaf, "dtype", None)
    if isinstance(shape, tuple) and isinstance(dtype, np.dtype):
        return shape, dtype
    if type(leaf) in (bool, int, float, complex):
        array = np.asarray(leaf)
        return array.shape, array.dtype
    return None


def _check_against_template(
    specs: list[tuple[str, str, np.dtype[Any], tuple[int, ...]]], like: Any, source: str
) -> PyTreeDef:
    pairs, treedef = tree_flatten_with_path(like)
    template_keys = [keystr(path) for path, _ in pairs]
    file_keys = [key for key, *_ in specs]
    if template_keys != file_keys:
        counts = f"(like= has {len(template_keys)} leaves, the checkpoint {len(file_keys)})"
        only_template = [k for k in template_keys if k not in set(file_keys)]
        only_file = [k for k in file_keys if k not in set(template_keys)]
        if only_template:
            raise CheckpointError(
                f"{source} does not match like=: like= has a leaf at "
                f"{only_template[0] or 'the root'} that the checkpoint does not have {counts}"
            )
        if only_file:
            raise CheckpointError(
                f"{source} does not match like=: the checkpoint has a leaf at "
                f"{only_file[0] or 'the root'} that like= does not have {counts}"
            )
        first = next(i for i, (a, b) in enumerate(zip(template_keys, file_keys)) if a != b)
        raise CheckpointError(
            f"{source} does not match like=: its leaves are in another order (leaf {first} is "
            f"{template_keys[first]} in like=, {file_keys[first]} in the checkpoint)"
        )
    for (key, _, dtype, shape), (_, leaf) in zip(specs, pairs):
        expected = _shape_dtype(leaf)
        shown = key or "the root"
        if expected is None:
            raise CheckpointError(
                f"like= has a {type(leaf).__name__} at {shown}; its leaves must be arrays or "
                "numbers (or have .shape and .dtype)"
            )
        if expected[0] != shape:
            raise CheckpointError(
                f"{source} does not match like= at {shown}: shape {shape} in the checkpoint, "
                f"{expected[0]} in like="
            )
        if expected[1] != dtype:
            raise CheckpointError(
                f"{source} does not match like= at {shown}: dtype {dtype} in the checkpoint, "
                f"{expected[1]} in like="
            )
    return treedef


def load(path: str | os.PathLike[str], like: Any = None) -> Any:
    """Load a pytree saved by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.
    like : pytree, optional
        A template with the structure to restore: its leaves' paths, shapes
        and dtypes must match the checkpoint's (its leaves may be arrays,
        numbers, or anything with ``.shape`` and ``.dtype``). Needed when the
        tree holds nodes the file cannot describe: classes registered with
        :func:`fgrad.tree.register_pytree_node`, and namedtuples or
        dataclasses whose module is not imported. Without it the structure is
        rebuilt from the file.

    Returns
    -------
    pytree
        Leaves as saved: arrays as arrays, NumPy scalars and Python numbers
        as such.

    Raises
    ------
    CheckpointError
        (a ``ValueError``) If the file is not a checkpoint, is malformed or
        crafted (an object array, an entry missing, unexpected or of another
        dtype or shape than described, malformed JSON), or does not match
        ``like``; the message names the file and the first pytree path
        concerned.
    FileNotFoundError
        If there is no file at ``path``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = fgrad.checkpoints.save(os.path.join(tempfile.mkdtemp(), "ck"), [np.ones(2), (3,)])
    >>> fgrad.checkpoints.load(path)
    [array([1., 1.]), (3,)]
    >>> fgrad.checkpoints.load(path, like=[np.zeros(2), [0]])
    [array([1., 1.]), [3]]
    >>> fgrad.checkpoints.load(path, like=[np.zeros(3), [0]])
    Traceback (most recent call last):
        ...
    fgrad.checkpoints.CheckpointError: ...ck.npz does not match like= at [0]:
    shape (2,) in the checkpoint, (3,) in like=
    """
    source = os.fspath(path)
    try:
        opened = np.load(source, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError):
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{source} is not a readable .npz checkpoint: {e}") from None
    if not isinstance(opened, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{source} is a single .npy array, not an .npz checkpoint")
    with opened as data:
        description = _parse_description(data, source)
        specs = _leaf_specs(description, source)
        described = {key for key, *_ in specs}
        unexpected = [f for f in data.files if f not in described and f != _STRUCTURE_ENTRY]
        if unexpected:
            raise CheckpointError(
                f"{source}: entry {unexpected[0]!r:.80} is not part of the described tree"
            )
        missing = [key for key in described if key not in data.files]
        if missing:
            raise CheckpointError(
                f"{source}: the leaf at {missing[0] or 'the root'} is described but has no entry"
            )
        if like is not None:
            treedef = _check_against_template(specs, like, source)
        else:
            counter = [0]
            try:
                node = _rebuild_node(description.get("tree"), "tree", counter)
            except RecursionError:
                raise CheckpointError(f"{source}: the structure description is too deep") from None
            except _Malformed as e:
                raise CheckpointError(f"{source}: malformed structure description at {e}") from None
            except _NeedsTemplate as e:
                raise CheckpointError(
                    f"{source}: cannot rebuild the tree from the file alone: {e}. Pass "
                    "like= a tree with the same structure"
                ) from None
            if counter[0] != len(specs):
                raise CheckpointError(
                    f"{source}: the structure has {counter[0]} leaves but {len(specs)} are listed"
                )
            treedef = PyTreeDef(node, counter[0])
        leaves = []
        for key, kind, dtype, shape in specs:
            array = _read_entry(data, key, source)
            if array.dtype != dtype or array.shape != shape:
                raise CheckpointError(
                    f"{source}: the entry for {key or 'the root'} is {array.dtype} of shape "
                    f"{array.shape}, but the description says {dtype} of shape {shape}"
                )
            leaves.append(_restore_leaf(array, kind))
    return treedef.unflatten(leaves)
