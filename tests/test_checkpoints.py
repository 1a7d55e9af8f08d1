"""Tests for fgrad.checkpoints: .npz round trips, templates, and crafted files."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import fgrad
from fgrad import optim
from fgrad.checkpoints import CheckpointError, load, save
from fgrad.tree import register_dataclass, register_pytree_node, tree_leaves, tree_structure

STRUCTURE_ENTRY = "__fgrad_checkpoint__"


class Pair(NamedTuple):
    left: Any
    right: Any


@register_dataclass(static=("activation", "sizes"))
@dataclasses.dataclass
class Block:
    w: Any
    b: Any
    activation: str
    sizes: tuple[int, ...]


class Bag:
    """A custom node: the file cannot describe it, so loading it needs like=."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items


register_pytree_node(Bag, lambda b: (b.items, None), lambda aux, items: Bag(list(items)))


def assert_same_tree(got: Any, want: Any) -> None:
    """Same structure, and leaves of the same Python type, dtype, shape and values."""
    assert tree_structure(got) == tree_structure(want)
    for x, y in zip(tree_leaves(got), tree_leaves(want)):
        assert type(x) is type(y), (x, y)
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "ck.npz")


# --- round trips ---------------------------------------------------------------------------


def test_params_and_optimizer_states_round_trip(path: str) -> None:
    rng = np.random.default_rng(0)
    params = {
        "layers": [
            {"w": rng.normal(size=(3, 4)), "b": np.zeros(4, np.float32)},
            {"w": rng.normal(size=(4, 1)), "b": np.zeros(1, np.float32)},
        ]
    }
    grads = fgrad.tree.map(lambda p: np.ones_like(p), params)
    states = {}
    for name, opt in {
        "adam": optim.adam(1e-3),
        "sgd": optim.sgd(0.1, momentum=0.9),
        "rmsprop": optim.rmsprop(1e-3),
        "adagrad": optim.adagrad(0.1),
        "chain": optim.chain(optim.clip_by_global_norm(1.0), optim.adamw(1e-3)),
    }.items():
        state = opt.init(params)
        _, state = opt.update(grads, state, params)
        states[name] = state
    tree = {"params": params, "opt_state": states, "step": 12, "lr": 0.5}
    save(path, tree)
    restored = load(path)
    assert_same_tree(restored, tree)
    assert type(restored["opt_state"]["adam"]) is optim.AdamState
    assert type(restored["opt_state"]["chain"][0]) is optim.ClipState
    # the restored state keeps training exactly as the original
    opt = optim.adam(1e-3)
    want = opt.update(grads, states["adam"], params)
    got = opt.update(grads, restored["opt_state"]["adam"], restored["params"])
    assert_same_tree(got, want)


@pytest.mark.parametrize(
    "tree",
    [
        np.arange(3.0),
        {"a": None, "b": (), "c": [], "d": {}},
        [np.float32(1.5), np.int16(3), np.bool_(True), np.complex64(1 - 2j)],
        [1, 2.5, True, 3 + 4j],
        {3: np.ones(2), 1: np.zeros((0, 2)), 2: np.array(7, np.uint8)},
        {("a", 1): 1.0, ("b", 2): 2.0},
        OrderedDict(z=np.ones(1), a=(np.zeros(2), None)),
        Pair(np.ones(2), Pair(1.0, [np.zeros(3)])),
        {"block": Block(np.ones((2, 2)), np.zeros(2), "tanh", (2, 2))},
        {"a/b": np.ones(1), "c'd": np.ones(2), 'e"f': np.ones(3), "": np.ones(4)},
        {1.5: 1.0, float("inf"): 2.0, -0.0: 3.0},
    ],
    ids=[
        "root_leaf",
        "empty_nodes",
        "numpy_scalars",
        "python_numbers",
        "int_keys",
        "tuple_keys",
        "ordered_dict",
        "namedtuple",
        "dataclass_static",
        "odd_keys",
        "float_keys",
    ],
)
def test_structures_round_trip(path: str, tree: Any) -> None:
    save(path, tree)
    assert_same_tree(load(path), tree)


def test_save_appends_npz_writes_atomically_and_compresses(tmp_path: Path) -> None:
    written = save(tmp_path / "params", {"w": np.zeros(10_000)}, compress=True)
    assert written == str(tmp_path / "params.npz")
    assert os.listdir(tmp_path) == ["params.npz"]
    assert os.path.getsize(written) < 10_000
    save(written, {"w": np.ones(3)})  # overwrites
    np.testing.assert_array_equal(load(written)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["params.npz"]


def test_entries_are_named_by_pytree_paths(path: str) -> None:
    save(path, {"opt": optim.sgd(0.1, momentum=0.9).init({"w": np.ones(2)}), "x": [np.ones(1)]})
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == [
            "['opt'].count",
            "['opt'].trace['w']",
            "['x'][0]",
            STRUCTURE_ENTRY,
        ]


# --- templates (like=) -----------------------------------------------------------------------


def test_custom_nodes_need_like(path: str) -> None:
    tree = {"bag": Bag([np.ones(2), 3.0])}
    save(path, tree)
    with pytest.raises(CheckpointError, match=r"tree\['bag'\] is a .*Bag node.*Pass like="):
        load(path)
    restored = load(path, like={"bag": Bag([np.zeros(2), 0.0])})
    assert isinstance(restored["bag"], Bag)
    np.testing.assert_array_equal(restored["bag"].items[0], np.ones(2))
    assert restored["bag"].items[1] == 3.0


def test_like_takes_its_structure_and_accepts_shape_dtype_templates(path: str) -> None:
    class Spec:
        def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
            self.shape, self.dtype = shape, np.dtype(dtype)

    save(path, {"a": (np.ones(2), np.ones(3, np.float32))})
    restored = load(path, like={"a": [Spec((2,), float), Spec((3,), np.float32)]})
    assert isinstance(restored["a"], list)
    np.testing.assert_array_equal(restored["a"][1], np.ones(3, np.float32))


@pytest.mark.parametrize(
    "like, message",
    [
        (
            {"w": np.ones((2, 3)), "b": np.ones(2)},
            r"at \['w'\]: shape \(2, 2\) in the checkpoint, \(2, 3\) in like=",
        ),
        (
            {"w": np.ones((2, 2), np.float32), "b": np.ones(2)},
            r"at \['w'\]: dtype float64 in the checkpoint, float32",
        ),
        ({"w": np.ones((2, 2))}, r"the checkpoint has a leaf at \['b'\] that like= does not have"),
        (
            {"w": np.ones((2, 2)), "b": np.ones(2), "c": 1.0},
            r"like= has a leaf at \['c'\] that the checkpoint does not have",
        ),
        ({"w": np.ones((2, 2)), "x": np.ones(2)}, r"like= has a leaf at \['x'\]"),
        ({"w": np.ones((2, 2)), "b": "zeros"}, r"like= has a str at \['b'\]"),
    ],
    ids=["shape", "dtype", "missing_in_like", "missing_in_file", "renamed", "not_array"],
)
def test_like_mismatch_names_the_first_path(path: str, like: Any, message: str) -> None:
    save(path, {"w": np.ones((2, 2)), "b": np.zeros(2)})
    with pytest.raises(CheckpointError, match=message):
        load(path, like=like)


def test_like_in_another_order(path: str) -> None:
    save(path, OrderedDict(a=1.0, b=2.0))
    with pytest.raises(CheckpointError, match=r"another order \(leaf 0 is \['b'\] in like="):
        load(path, like=OrderedDict(b=0.0, a=0.0))


# --- saving errors ---------------------------------------------------------------------------


def test_save_rejects_leaves_that_are_not_numbers(path: str) -> None:
    with pytest.raises(TypeError, match=r"leaf at \['cfg'\]\['act'\] is a str \('relu'\).*static"):
        save(path, {"cfg": {"act": "relu"}, "w": np.ones(1)})
    with pytest.raises(TypeError, match=r"leaf at \[0\] has dtype object"):
        save(path, [np.array([1, "a"], dtype=object)])
    with pytest.raises(TypeError, match=r"leaf at \[0\] has dtype <U3"):
        save(path, [np.array(["abc"])])

    def save_inside_grad(w: Any) -> Any:
        save(path, w)
        return (w**2).sum()

    with pytest.raises(TypeError, match=r"leaf at the root is a traced value"):
        fgrad.grad(save_inside_grad)(np.ones(2))
    assert not os.path.exists(path)


def test_save_rejects_paths_that_collide(path: str) -> None:
    class Shown(str):
        def __repr__(self) -> str:
            return "'a'"

    with pytest.raises(ValueError, match=r"two leaves have the path \['a'\]"):
        save(path, {"a": 1.0, Shown("b"): 2.0})


# --- crafted and broken files ----------------------------------------------------------------

EXECUTED: list[str] = []


def _record_execution() -> str:
    EXECUTED.append("unpickled")
    return "owned"


class Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_record_execution, ())


def write_npz(path: str, entries: dict[str, Any]) -> None:
    """Write an .npz with numpy's own writer (which pickles object arrays)."""
    np.savez(path, **entries)


def description_of(path: str) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(data[STRUCTURE_ENTRY].tobytes().decode())


def entries_of(path: str) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def encoded(description: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(description).encode(), np.uint8)


def test_object_array_is_refused_without_unpickling(path: str) -> None:
    malicious = np.empty(1, dtype=object)
    malicious[0] = Payload()
    save(path, {"w": np.ones(1)})
    entries = entries_of(path)
    # described in the structure: read, and refused
    description = description_of(path)
    description["leaves"][0]["dtype"] = "|O"
    write_npz(path, {**entries, "['w']": malicious, STRUCTURE_ENTRY: encoded(description)})
    with pytest.raises(CheckpointError, match="dtype '|O'.*numeric arrays only"):
        load(path)
    # described as float64 but holding pickles: refused when read
    write_npz(path, {**entries, "['w']": malicious})
    with pytest.raises(CheckpointError, match=r"entry for \['w'\] holds pickled Python objects"):
        load(path)
    with pytest.raises(CheckpointError, match="pickled"):
        load(path, like={"w": np.ones(1)})
    # not described: refused before reading
    write_npz(path, {**entries, "['evil']": malicious})
    with pytest.raises(
        CheckpointError, match=r"entry \"\['evil'\]\" is not part of the described tree"
    ):
        load(path)
    # a pickle as the structure entry
    write_npz(path, {**entries, STRUCTURE_ENTRY: malicious})
    with pytest.raises(CheckpointError, match="pickled"):
        load(path)
    assert EXECUTED == []


def test_a_pickle_file_or_npy_or_garbage_is_not_a_checkpoint(tmp_path: Path) -> None:
    import pickle

    pickled = tmp_path / "evil.npz"
    pickled.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError, match="not a readable .npz checkpoint"):
        load(pickled)
    npy = tmp_path / "one.npy"
    np.save(npy, np.ones(2))
    with pytest.raises(CheckpointError, match="single .npy array"):
        load(npy)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="not a readable"):
        load(garbage)
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(2))
    with pytest.raises(CheckpointError, match="not an fgrad checkpoint"):
        load(plain)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")
    assert EXECUTED == []


def test_truncated_archive(path: str, tmp_path: Path) -> None:
    save(path, {"w": np.ones(1000)})
    data = Path(path).read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load(cut)


def corrupt(path: str, change: Any) -> None:
    """Rewrite the checkpoint at ``path`` with ``change(description, entries)`` applied."""
    description = description_of(path)
    entries = entries_of(path)
    change(description, entries)
    if STRUCTURE_ENTRY not in entries:
        entries[STRUCTURE_ENTRY] = encoded(description)
    write_npz(path, entries)


def replace_structure(raw: Any) -> Any:
    def change(description: dict[str, Any], entries: dict[str, Any]) -> None:
        entries[STRUCTURE_ENTRY] = raw

    return change


def edit(function: Any) -> Any:
    def change(description: dict[str, Any], entries: dict[str, Any]) -> None:
        function(description, entries)
        entries[STRUCTURE_ENTRY] = encoded(description)

    return change


def set_in(keys: list[Any], value: Any) -> Any:
    def function(description: dict[str, Any], entries: dict[str, Any]) -> None:
        target: Any = description
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit(function)


@pytest.mark.parametrize(
    "change, message",
    [
        (replace_structure(np.frombuffer(b"{not json", np.uint8)), "not valid JSON"),
        (replace_structure(np.frombuffer(b"\xff\xfe", np.uint8)), "not valid JSON"),
        (replace_structure(np.ones(3)), "must be 1-D uint8"),
        (replace_structure(encoded([1, 2])), "is not 'fgrad.checkpoints'"),
        (replace_structure(encoded("a string")), "is not 'fgrad.checkpoints'"),
        (
            replace_structure(np.frombuffer(b"[" * 100_000 + b"]" * 100_000, np.uint8)),
            "not valid JSON",
        ),
        (set_in(["version"], 99), "format version 99"),
        (set_in(["leaves"], {}), "no list of leaves"),
        (set_in(["leaves", 0, "shape"], [-1]), "leaf 0 of the structure description is malformed"),
        (
            set_in(["leaves", 0, "kind"], "pickle"),
            "leaf 0 of the structure description is malformed",
        ),
        (set_in(["leaves", 0, "dtype"], "not a dtype"), r"dtype 'not a dtype'"),
        (
            set_in(["leaves", 0, "dtype"], "<f4"),
            r"entry for \['a'\] is float64 of shape \(2,\), but the description says float32",
        ),
        (
            set_in(["leaves", 0, "shape"], [3]),
            r"entry for \['a'\] is float64 of shape \(2,\), but the description says "
            r"float64 of shape \(3,\)",
        ),
        (
            set_in(["leaves", 1, "kind"], "int"),
            r"leaf at \['b'\]\.left is a Python int stored as float64",
        ),
        (set_in(["leaves", 1, "key"], "['a']"), r"leaf path \['a'\] is listed twice"),
        (
            set_in(["leaves", 1, "key"], "['zzz']"),
            r"entry \"\['b'\]\.left\" is not part of the described tree",
        ),
        (
            edit(lambda description, entries: entries.pop("['a']")),
            r"the leaf at \['a'\] is described but has no entry",
        ),
        (
            set_in(["tree", "type"], "eval"),
            r"malformed structure description at tree: unknown node type 'eval'",
        ),
        (set_in(["tree", "children"], "oops"), r"at tree: 'children' must be a list"),
        (set_in(["tree", "keys"], [["str", "a"]]), r"at tree: 2 children for 1 keys"),
        (
            set_in(["tree", "keys", 0], ["code", "print(1)"]),
            r"at tree \(a dict key\): unknown value",
        ),
        (set_in(["tree", "keys", 1], ["str", "a"]), "repeated dict keys"),
        (
            set_in(["tree", "children", 1, "class"], "os:system"),
            r"tree\['b'\]: os:system is not a class",
        ),
        (
            set_in(["tree", "children", 1, "class"], "no_such_module_xyz:Pair"),
            r"module 'no_such_module_xyz', which is not imported.*Pass like=",
        ),
        (
            set_in(["tree", "children", 1, "class"], f"{__name__}:Payload"),
            r"Payload now is not a namedtuple with those fields",
        ),
        (
            set_in(["tree", "children", 1, "fields"], ["left", "middle"]),
            r"namedtuple Pair with fields \['left', 'middle'\]",
        ),
        (
            set_in(["tree", "children", 1, "children"], [{"type": "leaf"}]),
            r"tree\['b'\]: 1 children for 2 keys or fields",
        ),
        (
            set_in(["tree", "children", 0], {"type": "list", "children": [{"type": "leaf"}] * 2}),
            "the structure has 4 leaves but 3 are listed",
        ),
    ],
)
def test_crafted_descriptions_raise_checkpoint_errors(path: str, change: Any, message: str) -> None:
    save(path, {"a": np.ones(2), "b": Pair(1.0, 2.0)})
    corrupt(path, change)
    with pytest.raises(CheckpointError, match=message):
        load(path)
    assert "no_such_module_xyz" not in sys.modules


def test_crafted_dataclass_descriptions(path: str) -> None:
    save(path, Block(np.ones(2), np.zeros(2), "relu", (2,)))
    description = description_of(path)
    assert description["tree"]["meta"] == [["str", "relu"], ["tuple", [["int", 2]]]]
    for field, value, message in [
        ("meta_fields", ["activation"], "not registered with register_dataclass with those fields"),
        ("meta", [["str", "relu"]], "'meta' must list 2 values"),
        (
            "meta",
            [["opaque", "<object>"], ["int", 2]],
            r"tree\.activation \(a static field\) is '<object>'.*Pass like=",
        ),
        ("class", "builtins:dict", "not registered with register_dataclass"),
    ]:
        save(path, Block(np.ones(2), np.zeros(2), "relu", (2,)))
        corrupt(path, set_in(["tree", field], value))
        with pytest.raises(CheckpointError, match=message):
            load(path)


def test_opaque_dict_keys_need_like(path: str) -> None:
    class Key:
        def __lt__(self, other: Any) -> bool:
            return False

        def __repr__(self) -> str:
            return "Key()"

    key = Key()
    save(path, {key: np.ones(1)})
    with pytest.raises(CheckpointError, match=r"is 'Key\(\)', which the file cannot describe"):
        load(path)
    assert load(path, like={key: np.zeros(1)})[key] == 1.0


def test_a_crafted_zip_entry_name_is_not_a_leaf(path: str) -> None:
    save(path, {"a": np.ones(1)})
    with zipfile.ZipFile(path, "a") as archive:
        buffer = io.BytesIO()
        np.save(buffer, np.ones(1))
        archive.writestr("../../escape.npy", buffer.getvalue())
    with pytest.raises(CheckpointError, match="not part of the described tree"):
        load(path)


def test_loading_never_imports_the_module_a_file_names(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    module_dir = tmp_path / "modules"
    module_dir.mkdir()
    (module_dir / "fgrad_ck_side_effect.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from typing import NamedTuple\n"
        "class Pair(NamedTuple):\n    left: object\n    right: object\n"
    )
    monkeypatch.syspath_prepend(str(module_dir))
    save(path, {"a": np.ones(2), "b": Pair(1.0, 2.0)})
    corrupt(path, set_in(["tree", "children", 1, "class"], "fgrad_ck_side_effect:Pair"))
    with pytest.raises(CheckpointError, match="'fgrad_ck_side_effect', which is not imported"):
        load(path)
    assert not marker.exists()
    assert "fgrad_ck_side_effect" not in sys.modules
