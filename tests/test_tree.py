"""Tests for fgrad.tree: flattening, rebuilding, mapping and describing pytrees."""

from __future__ import annotations

import copy
import dataclasses
import functools
import operator
import pickle
import threading
import warnings
from collections import OrderedDict, defaultdict, namedtuple
from typing import Any, NamedTuple

import numpy as np
import pytest

from fgrad import JitStats
from fgrad.flatten_util import ravel_pytree
from fgrad.tree import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    keystr,
    register_dataclass,
    register_pytree_node,
    summary,
    tree_all,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_leaves_with_path,
    tree_map,
    tree_map_with_path,
    tree_reduce,
    tree_structure,
    tree_unflatten,
)


class Point(NamedTuple):
    x: Any
    y: Any


OtherPoint = namedtuple("OtherPoint", ["x", "y"])


class Box:
    """A registered container with aux data: a label and a list of items."""

    def __init__(self, label: str, items: list[Any]) -> None:
        self.label = label
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and (self.label, self.items) == (other.label, other.items)


register_pytree_node(
    Box, lambda b: (b.items, b.label), lambda label, items: Box(label, list(items))
)


@register_dataclass
@dataclasses.dataclass
class Dense:
    w: Any
    b: Any


def assert_tree_equal(a: Any, b: Any) -> None:
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        assert type(x) is type(y)
        np.testing.assert_array_equal(x, y)


def roundtrip(tree: Any) -> Any:
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, leaves)


@pytest.mark.parametrize(
    "tree",
    [
        1.5,
        np.arange(3.0),
        [1, 2, 3],
        (1, 2),
        (1,),
        {"b": 1, "a": 2},
        OrderedDict([("z", 1), ("a", 2)]),
        Point(1, [2, 3]),
        None,
        [],
        (),
        {},
        [None, (None,), {"n": None}],
        Box("lbl", [1, (2, 3)]),
        Dense(w=np.ones((2, 2)), b=np.zeros(2)),
        {"layers": [(np.ones(2), 1.0), Point(x={"k": 2}, y=None)], "opt": OrderedDict(m=[3])},
    ],
    ids=lambda t: type(t).__name__,
)
def test_roundtrip_preserves_tree(tree: Any) -> None:
    rebuilt = roundtrip(tree)
    assert type(rebuilt) is type(tree)
    assert_tree_equal(rebuilt, tree)
    assert repr(tree_structure(rebuilt)) == repr(tree_structure(tree))


def test_roundtrip_builds_new_containers_and_reuses_leaves() -> None:
    leaf = np.ones(3)
    tree = {"a": [leaf], "b": (leaf,)}
    rebuilt = roundtrip(tree)
    assert rebuilt["a"] is not tree["a"]
    assert rebuilt["a"][0] is leaf


def test_leaf_order_is_depth_first() -> None:
    tree = [1, (2, [3, 4]), {"b": 6, "a": 5}, Point(7, 8), Dense(w=9, b=10)]
    assert tree_leaves(tree) == list(range(1, 11))


def test_none_is_an_empty_subtree() -> None:
    leaves, treedef = tree_flatten([1, None, {"a": None, "b": 2}])
    assert leaves == [1, 2]
    assert treedef.num_leaves == 2
    assert tree_leaves(None) == []
    assert tree_structure(None).num_leaves == 0
    assert tree_unflatten(tree_structure(None), []) is None
    assert tree_map(lambda x: x + 1, [1, None]) == [2, None]
    assert tree_structure([None]) != tree_structure([1])


def test_dict_children_in_sorted_key_order() -> None:
    tree = {"c": 3, "a": 1, "b": 2}
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1, 2, 3]
    rebuilt = tree_unflatten(treedef, leaves)
    assert list(rebuilt) == ["a", "b", "c"]
    assert treedef == tree_structure({"a": 0, "b": 0, "c": 0})


def test_unsortable_dict_keys_raise_type_error() -> None:
    with pytest.raises(TypeError, match="mutually sortable"):
        tree_flatten({1: "a", "x": "b"})


def test_ordered_dict_keeps_insertion_order() -> None:
    tree = OrderedDict([("c", 3), ("a", 1)])
    leaves, treedef = tree_flatten(tree)
    assert leaves == [3, 1]
    rebuilt = tree_unflatten(treedef, [30, 10])
    assert type(rebuilt) is OrderedDict
    assert list(rebuilt.items()) == [("c", 30), ("a", 10)]
    assert treedef != tree_structure(OrderedDict([("a", 1), ("c", 3)]))
    assert treedef != tree_structure({"c": 3, "a": 1})


def test_namedtuple_roundtrip_keeps_type() -> None:
    rebuilt = roundtrip(Point(1, OtherPoint(2, 3)))
    assert type(rebuilt) is Point
    assert type(rebuilt.y) is OtherPoint
    assert rebuilt == Point(1, OtherPoint(2, 3))
    assert tree_structure(Point(1, 2)) != tree_structure(OtherPoint(1, 2))
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))


def test_subclasses_of_builtin_containers_are_leaves() -> None:
    class MyDict(dict):
        pass

    d = MyDict(a=1)
    dd: defaultdict[str, int] = defaultdict(int, a=1)
    assert tree_leaves([d, dd]) == [d, dd]


def test_registered_class_roundtrip_and_aux_data() -> None:
    box = Box("first", [1, [2, 3]])
    leaves, treedef = tree_flatten(box)
    assert leaves == [1, 2, 3]
    assert tree_unflatten(treedef, [4, 5, 6]) == Box("first", [4, [5, 6]])
    assert treedef == tree_structure(Box("first", [0, [0, 0]]))
    assert treedef != tree_structure(Box("second", [0, [0, 0]]))
    assert repr(treedef) == "PyTreeDef(CustomNode(Box['first'], [*, [*, *]]))"


def test_register_accepts_any_iterable_of_children() -> None:
    class Gen:
        def __init__(self, *xs: Any) -> None:
            self.xs = xs

    register_pytree_node(Gen, lambda g: (iter(g.xs), None), lambda aux, kids: Gen(*kids))
    leaves, treedef = tree_flatten(Gen(1, 2))
    assert leaves == [1, 2]
    assert tree_unflatten(treedef, [3, 4]).xs == (3, 4)


def test_dataclass_roundtrip() -> None:
    layer = Dense(w=np.ones(2), b=0.5)
    leaves, treedef = tree_flatten(layer)
    assert leaves[1] == 0.5
    rebuilt = tree_unflatten(treedef, [np.zeros(2), 1.5])
    assert isinstance(rebuilt, Dense)
    assert rebuilt.b == 1.5
    assert repr(treedef) == "PyTreeDef(Dense(w=*, b=*))"


def test_dataclass_with_zero_and_one_field() -> None:
    @register_dataclass
    @dataclasses.dataclass(frozen=True)
    class Empty:
        pass

    @register_dataclass
    @dataclasses.dataclass(frozen=True)
    class One:
        v: Any

    assert tree_leaves(Empty()) == []
    assert roundtrip(Empty()) == Empty()
    assert tree_leaves(One([1, 2])) == [1, 2]
    assert roundtrip(One((1, 2))) == One((1, 2))


def test_register_dataclass_rejects_bad_input() -> None:
    class NotADataclass:
        pass

    @dataclasses.dataclass
    class HasNoInitField:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="dataclass"):
        register_dataclass(NotADataclass)
    with pytest.raises(TypeError, match=r"init=False \['b'\]"):
        register_dataclass(HasNoInitField)


def test_registering_twice_raises() -> None:
    class Twice:
        pass

    register_pytree_node(Twice, lambda t: ((), None), lambda aux, kids: Twice())
    with pytest.raises(ValueError, match="Twice is already registered"):
        register_pytree_node(Twice, lambda t: ((), None), lambda aux, kids: Twice())
    with pytest.raises(ValueError, match="Dense is already registered"):
        register_dataclass(Dense)
    with pytest.raises(ValueError, match="dict is already registered as a built-in"):
        register_pytree_node(dict, lambda d: ((), None), lambda aux, kids: {})


def test_register_rejects_non_types_and_non_callables() -> None:
    with pytest.raises(TypeError, match="expected a class"):
        register_pytree_node("notatype", lambda x: ((), None), lambda a, k: None)  # type: ignore[arg-type]

    class Fresh:
        pass

    with pytest.raises(TypeError, match="callable"):
        register_pytree_node(Fresh, None, lambda a, k: Fresh())  # type: ignore[arg-type]


def test_concurrent_registration_succeeds_exactly_once() -> None:
    class Contended:
        pass

    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def register() -> None:
        barrier.wait()
        try:
            register_pytree_node(Contended, lambda c: ((), None), lambda a, k: Contended())
            outcomes.append("ok")
        except ValueError:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate"] * 7 + ["ok"]


def test_tree_map_single_and_several_trees() -> None:
    a = {"w": [1, 2], "b": (3,)}
    b = {"w": [10, 20], "b": (30,)}
    c = {"w": [100, 200], "b": (300,)}
    assert tree_map(lambda x: -x, a) == {"b": (-3,), "w": [-1, -2]}
    assert tree_map(lambda x, y, z: x + y + z, a, b, c) == {"b": (333,), "w": [111, 222]}


def test_tree_map_on_arrays_and_custom_nodes() -> None:
    params = {"dense": Dense(w=np.ones(2), b=np.zeros(2)), "box": Box("k", [np.ones(1)])}
    grads = tree_map(lambda p: 2 * p, params)
    new = tree_map(lambda p, g: p - 0.5 * g, params, grads)
    np.testing.assert_array_equal(new["dense"].w, np.zeros(2))
    assert new["box"].label == "k"
    assert tree_structure(new) == tree_structure(params)


def test_tree_map_rest_may_have_tree_as_prefix() -> None:
    out = tree_map(lambda x, sub: (x, sub), [1, 2], [(3, 4), {"a": 5}])
    assert out == [(1, (3, 4)), (2, {"a": 5})]


def test_is_leaf_stops_descent() -> None:
    tree = [(1, 2), [3, (4, 5)]]
    leaves, treedef = tree_flatten(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), 3, (4, 5)]
    assert treedef.num_leaves == 3
    is_tuple = lambda x: isinstance(x, tuple)  # noqa: E731
    assert tree_map(lambda x: sum(x) if is_tuple(x) else -x, tree, is_leaf=is_tuple) == [3, [-3, 9]]
    assert tree_leaves(tree, is_leaf=lambda x: isinstance(x, tuple)) == leaves
    assert tree_leaves([None], is_leaf=lambda x: x is None) == [None]


def test_mismatch_error_names_the_path_and_both_sides() -> None:
    expected = {"layers": [0, 0, (1, 2)], "lr": 0.1}
    got = {"layers": [0, 0, [1, 2, 3]], "lr": 0.1}
    with pytest.raises(ValueError) as info:
        tree_structure({"params": expected}).flatten_up_to({"params": got}, name="tree")
    assert (
        "structure mismatch at tree['params']['layers'][2]: "
        "expected a tuple of 2 children, got a list of 3 children"
    ) in str(info.value)

    with pytest.raises(ValueError) as info:
        tree_structure(expected).flatten_up_to(got, name="params")
    assert "params['layers'][2]" in str(info.value)


def test_tree_map_mismatch_names_argument_and_path() -> None:
    a = {"params": {"layers": [0, 0, [(1, 2)]]}}
    b = {"params": {"layers": [0, 0, [[1, 2, 3]]]}}
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y, z: x, a, a, b)
    msg = str(info.value)
    assert msg.startswith("tree_map: ")
    assert "rest[1]['params']['layers'][2][0]" in msg
    assert "expected a tuple of 2 children, got a list of 3 children" in msg


@pytest.mark.parametrize(
    ("expected", "got", "where", "detail"),
    [
        (
            {"a": 1, "b": 2},
            {"a": 1, "c": 2},
            "rest[0]",
            "keys ['a', 'b'], got a dict with keys ['a', 'c']",
        ),
        ([[1], [2]], [[1], 3], "rest[0][1]", "expected a list of 1 child, got a leaf of type int"),
        ([None, 1], [1, 1], "rest[0][0]", "expected None, got a leaf of type int"),
        (Point(1, 2), OtherPoint(1, 2), "rest[0]", "namedtuple Point"),
        (
            [Point(1, (2,))],
            [Point(1, (2, 3))],
            "rest[0][0].y",
            "a tuple of 1 child, got a tuple of 2",
        ),
        (Dense(w=[1], b=2), Dense(w=[1, 2], b=2), "rest[0].w", "a list of 1 child"),
        (Box("a", [1]), Box("b", [1]), "rest[0]", "aux data 'a'"),
        ((1, 2), [1, 2], "rest[0]", "expected a tuple of 2 children, got a list of 2 children"),
    ],
)
def test_mismatch_kinds(expected: Any, got: Any, where: str, detail: str) -> None:
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y: x, expected, got)
    msg = str(info.value)
    assert f"structure mismatch at {where}:" in msg
    assert detail in msg


def test_unflatten_with_wrong_leaf_count() -> None:
    treedef = tree_structure({"a": (1, 2), "b": 3})
    with pytest.raises(ValueError, match="expected 3 leaves .* got 2"):
        tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match="expected 3 leaves .* got 4"):
        treedef.unflatten([1, 2, 3, 4])


def test_unflatten_accepts_any_iterable() -> None:
    treedef = tree_structure([0, (0, 0)])
    assert tree_unflatten(treedef, (i for i in range(3))) == [0, (1, 2)]


def test_unflatten_with_arguments_swapped_raises_type_error() -> None:
    treedef = tree_structure([0])
    with pytest.raises(TypeError, match="expects a PyTreeDef first"):
        tree_unflatten([1], treedef)  # type: ignore[arg-type]


def test_treedef_equality_and_hash() -> None:
    t1 = tree_structure({"a": [np.ones(2), 1.0], "b": None})
    t2 = tree_structure({"a": [0, "leaf"], "b": None})
    assert t1 == t2
    assert hash(t1) == hash(t2)
    assert {t1: "cached"}[t2] == "cached"
    assert t1 != tree_structure({"a": (0, 0), "b": None})
    assert t1 != tree_structure({"a": [0, 0], "c": None})
    assert t1 != tree_structure({"a": [0, 0, 0], "b": None})
    assert tree_structure(1) == tree_structure("anything")
    assert tree_structure([1]) != tree_structure(1)
    assert t1 != "not a treedef"
    assert len({tree_structure([0, 0]), tree_structure((0, 0)), tree_structure([1, 1])}) == 2


def test_treedef_is_immutable_and_copies_to_itself() -> None:
    treedef = tree_structure([1, 2])
    with pytest.raises(AttributeError):
        treedef._num_leaves = 5
    with pytest.raises(AttributeError):
        treedef.num_leaves = 5  # type: ignore[misc]
    assert copy.copy(treedef) == treedef
    assert copy.deepcopy(treedef) == treedef
    assert isinstance(treedef, PyTreeDef)


def test_treedef_repr() -> None:
    tree = (1, [2, 3], {"a": 4}, None, (5,), Point(6, 7), OrderedDict(z=8))
    assert repr(tree_structure(tree)) == (
        "PyTreeDef((*, [*, *], {'a': *}, None, (*,), Point(x=*, y=*), OrderedDict({'z': *})))"
    )
    assert repr(tree_structure(np.ones(3))) == "PyTreeDef(*)"


def test_tree_flatten_with_path() -> None:
    tree = {
        "layers": [(1, 2), Point(3, 4)],
        "dense": Dense(w=5, b=6),
        "box": Box("k", [7]),
        "od": OrderedDict(z=8),
        "none": None,
    }
    pairs, treedef = tree_flatten_with_path(tree)
    assert [leaf for _, leaf in pairs] == tree_leaves(tree)
    assert treedef == tree_structure(tree)
    assert [keystr(p) for p, _ in pairs] == [
        "['box'][0]",
        "['dense'].w",
        "['dense'].b",
        "['layers'][0][0]",
        "['layers'][0][1]",
        "['layers'][1].x",
        "['layers'][1].y",
        "['od']['z']",
    ]
    assert pairs[0][0] == (DictKey("box"), FlattenedIndexKey(0))
    assert pairs[3][0] == (DictKey("layers"), SequenceKey(0), SequenceKey(0))
    assert tree_flatten_with_path(5)[0] == [((), 5)]


def test_tree_flatten_with_path_respects_is_leaf() -> None:
    pairs, treedef = tree_flatten_with_path([(1, 2), 3], is_leaf=lambda x: isinstance(x, tuple))
    assert pairs == [((SequenceKey(0),), (1, 2)), ((SequenceKey(1),), 3)]
    assert treedef.num_leaves == 2


def test_keystr() -> None:
    path = (DictKey("layers"), SequenceKey(2), SequenceKey(0), GetAttrKey("w"), DictKey(3))
    assert keystr(path) == "['layers'][2][0].w[3]"
    assert keystr(()) == ""


def test_tree_reduce() -> None:
    tree = {"a": 1, "b": [2, 3], "c": None}
    assert tree_reduce(operator.add, tree) == 6
    assert tree_reduce(operator.add, tree, 10) == 16
    assert tree_reduce(lambda acc, x: acc + [x], tree, []) == [1, 2, 3]
    assert tree_reduce(operator.add, None, initializer=0) == 0
    with pytest.raises(TypeError, match="no leaves"):
        tree_reduce(operator.add, [None])


def test_tree_all() -> None:
    assert tree_all({"a": True, "b": [1, np.True_]})
    assert not tree_all({"a": True, "b": [0]})
    assert tree_all([None])


def test_concurrent_flatten_and_map_agree() -> None:
    trees = [{"w": [np.full(2, i), (i, i + 1)], "b": Point(i, None)} for i in range(16)]
    results: list[Any] = [None] * len(trees)

    def work(i: int) -> None:
        for _ in range(200):
            doubled = tree_map(lambda x: 2 * x, trees[i])
            leaves, treedef = tree_flatten(doubled)
            results[i] = tree_unflatten(treedef, leaves)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(trees))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, result in enumerate(results):
        assert_tree_equal(result, tree_map(lambda x: 2 * x, trees[i]))


# --- register_dataclass with JAX's signature, static (meta) fields ------------------------------


@dataclasses.dataclass
class Conv:
    kernel: Any
    bias: Any
    stride: Any
    padding: Any = "same"


register_dataclass(Conv, ["kernel", "bias"], ["stride", "padding"])


@register_dataclass(static=("activation",))
@dataclasses.dataclass
class Act:
    w: Any
    activation: Any


def test_register_dataclass_jax_signature_data_and_meta_fields() -> None:
    conv = Conv(kernel=np.ones(2), bias=0.5, stride=2)
    leaves, treedef = tree_flatten(conv)
    assert leaves[1] == 0.5 and len(leaves) == 2
    assert repr(treedef) == "PyTreeDef(Conv[stride=2, padding='same'](kernel=*, bias=*))"
    rebuilt = tree_unflatten(treedef, [np.zeros(2), 1.0])
    assert (rebuilt.stride, rebuilt.padding, rebuilt.bias) == (2, "same", 1.0)
    assert tree_map(lambda x: x * 2, conv).stride == 2
    assert [keystr(p) for p, _ in tree_flatten_with_path(conv)[0]] == [".kernel", ".bias"]
    same = tree_structure(Conv(kernel=0, bias=0, stride=2))
    assert treedef == same and hash(treedef) == hash(same)
    assert treedef != tree_structure(Conv(kernel=0, bias=0, stride=3))
    assert treedef != tree_structure(Conv(kernel=0, bias=0, stride=2, padding="valid"))


def test_register_dataclass_keyword_decorator_and_inferred_forms() -> None:
    @functools.partial(register_dataclass, data_fields=["x"], meta_fields=["tag"])
    @dataclasses.dataclass
    class ByPartial:
        x: Any
        tag: str

    @register_dataclass(data_fields=["x"], meta_fields=[])
    @dataclasses.dataclass
    class ByKeywords:
        x: Any

    @register_dataclass
    @dataclasses.dataclass
    class ByMetadata:
        x: Any
        tag: str = dataclasses.field(metadata={"static": True})

    assert tree_leaves(ByPartial(1, "a")) == [1]
    assert tree_structure(ByPartial(1, "a")) != tree_structure(ByPartial(1, "b"))
    assert roundtrip(ByKeywords(3)) == ByKeywords(3)
    assert tree_leaves(ByMetadata(1, "a")) == [1]
    assert roundtrip(ByMetadata(1, "a")) == ByMetadata(1, "a")


def test_register_dataclass_on_a_plain_class_and_drop_fields() -> None:
    class Plain:
        def __init__(self, a: Any, name: str) -> None:
            self.a, self.name = a, name

    register_dataclass(Plain, data_fields=["a"], meta_fields=["name"])
    rebuilt = roundtrip(Plain([1, 2], "p"))
    assert (rebuilt.a, rebuilt.name) == ([1, 2], "p")

    @dataclasses.dataclass
    class WithCache:
        x: Any
        cache: Any = None
        derived: int = dataclasses.field(init=False, default=0)

    register_dataclass(WithCache, ["x"], [], drop_fields=["cache"])
    assert tree_leaves(WithCache(1, cache="big")) == [1]
    assert roundtrip(WithCache(1, cache="big")).cache is None


def test_register_dataclass_field_list_errors() -> None:
    @dataclasses.dataclass
    class Two:
        a: Any
        b: Any

    class NotADataclass:
        pass

    with pytest.raises(TypeError, match="both data_fields and meta_fields or neither"):
        register_dataclass(Two, data_fields=["a", "b"])
    with pytest.raises(ValueError, match=r"left out: \['b'\]"):
        register_dataclass(Two, ["a"], [])
    with pytest.raises(ValueError, match=r"not fields: \['c'\]"):
        register_dataclass(Two, ["a", "b"], ["c"])
    with pytest.raises(ValueError, match=r"\['a'\] are listed twice"):
        register_dataclass(Two, ["a", "b"], ["a"])
    with pytest.raises(TypeError, match="do not combine"):
        register_dataclass(Two, ["a"], ["b"], static=("b",))
    with pytest.raises(TypeError, match="field names"):
        register_dataclass(Two, ["a", 3], [])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="explicit data_fields and meta_fields"):
        register_dataclass(NotADataclass)
    with pytest.raises(TypeError, match="drop_fields needs a dataclass"):
        register_dataclass(NotADataclass, [], [], drop_fields=["x"])
    with pytest.raises(ValueError, match="static=.*names \\['nope'\\]"):
        register_dataclass(Two, static=("nope",))
    # none of the failed calls registered Two
    assert tree_leaves(Two(1, 2)) == [Two(1, 2)]


def test_unhashable_static_field_names_class_field_and_path() -> None:
    bad = Act(w=np.ones(2), activation=["relu"])
    pattern = (
        r"static field Act\.activation at path \['net'\]\[1\] holds \['relu'\], an unhashable list"
    )
    with pytest.raises(TypeError, match=pattern):
        tree_flatten({"net": [0, bad]})
    with pytest.raises(TypeError, match=pattern):
        tree_leaves({"net": [0, bad]})
    with pytest.raises(TypeError, match=pattern):
        tree_flatten_with_path({"net": [0, bad]})
    good = {"net": [0, Act(w=np.ones(2), activation="relu")]}
    with pytest.raises(TypeError, match=pattern):
        tree_map(lambda x, y: x, good, {"net": [0, bad]})
    with pytest.raises(TypeError, match=r"Act\.activation at the root of the tree"):
        tree_structure(bad)
    with pytest.raises(TypeError, match=r"Conv\.stride at path \[0\] holds array"):
        tree_leaves([Conv(kernel=0, bias=0, stride=np.array([1, 1]))])


# --- tree_map_with_path, leaves_with_path, short names -----------------------------------------


def test_tree_map_with_path_single_and_several_trees() -> None:
    tree = {"a": [1, 2], "b": Point(3, None), "c": Dense(w=4, b=5)}
    seen = tree_map_with_path(lambda path, x: (keystr(path), x), tree)
    assert seen == {
        "a": [("['a'][0]", 1), ("['a'][1]", 2)],
        "b": Point(("['b'].x", 3), None),
        "c": Dense(w=("['c'].w", 4), b=("['c'].b", 5)),
    }
    other = tree_map(lambda x: 10 * x, tree)
    summed = tree_map_with_path(lambda path, x, y: x + y + len(path), tree, other)
    assert summed == {"a": [13, 24], "b": Point(35, None), "c": Dense(w=46, b=57)}
    assert tree_map_with_path(lambda path, x: path, 7) == ()


def test_tree_map_with_path_prefix_is_leaf_and_mismatch() -> None:
    out = tree_map_with_path(lambda path, x, y: (keystr(path), y), {"a": 0}, {"a": [1, 2]})
    assert out == {"a": ("['a']", [1, 2])}
    out = tree_map_with_path(
        lambda path, x: keystr(path), [(1, 2), 3], is_leaf=lambda x: isinstance(x, tuple)
    )
    assert out == ["[0]", "[1]"]
    with pytest.raises(
        ValueError, match=r"tree_map_with_path: structure mismatch at rest\[0\]\['a'\]"
    ):
        tree_map_with_path(lambda p, x, y: x, {"a": (1, 2)}, {"a": [1, 2]})


def test_tree_leaves_with_path_matches_flatten_with_path() -> None:
    tree = {"x": [1, (2, None)], "y": Box("k", [3])}
    assert tree_leaves_with_path(tree) == tree_flatten_with_path(tree)[0]
    assert tree_leaves_with_path(tree, is_leaf=lambda x: isinstance(x, tuple))[1] == (
        (DictKey("x"), SequenceKey(1)),
        (2, None),
    )


def test_short_names_are_the_tree_functions() -> None:
    import fgrad.tree as tree_module

    pairs = {
        "all": tree_all,
        "flatten": tree_flatten,
        "flatten_with_path": tree_flatten_with_path,
        "leaves": tree_leaves,
        "leaves_with_path": tree_leaves_with_path,
        "map": tree_map,
        "map_with_path": tree_map_with_path,
        "reduce": tree_reduce,
        "structure": tree_structure,
        "unflatten": tree_unflatten,
    }
    for short, function in pairs.items():
        assert getattr(tree_module, short) is function, short
        assert short not in tree_module.__all__
    # the aliases do not shadow the builtins inside the module
    assert keystr([DictKey("a"), SequenceKey(0)]) == "['a'][0]"
    assert tree_module.all([1, (True, np.float64(2))]) is True
    assert tree_module.map(lambda x: x + 1, {"a": 1}) == {"a": 2}


# --- pickling a PyTreeDef ------------------------------------------------------------------------


class Unregistered:
    pass


@pytest.mark.parametrize(
    "tree",
    [
        5,
        None,
        {"b": [1, (2, None)], "a": OrderedDict(z=3, y=4)},
        Point(1, [2, 3]),
        Dense(w=1, b=(2, 3)),
        Conv(kernel=1, bias=2, stride=(1, 1), padding="valid"),
        Act(w=[1], activation="tanh"),
        Box("label", [1, {"k": 2}]),
        [(), {}, []],
    ],
    ids=[
        "leaf",
        "none",
        "builtins",
        "namedtuple",
        "dataclass",
        "meta",
        "static",
        "custom",
        "empty",
    ],
)
def test_treedef_pickles_to_an_equal_treedef(tree: Any) -> None:
    leaves, treedef = tree_flatten(tree)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(treedef, protocol=protocol))
        assert restored == treedef
        assert hash(restored) == hash(treedef)
        assert restored.num_leaves == treedef.num_leaves
        assert repr(restored) == repr(treedef)
        assert_tree_equal(restored.unflatten(leaves), tree)


def test_unpickling_a_treedef_of_an_unregistered_class_raises() -> None:
    from fgrad.tree import _treedef_from_portable

    payload = pickle.dumps((Unregistered, None, ()))
    with pytest.raises(TypeError, match="Unregistered is not registered as a pytree node"):
        _treedef_from_portable(pickle.loads(payload))
    with pytest.raises(TypeError, match="not a namedtuple class"):
        _treedef_from_portable(("namedtuple", Unregistered, ()))


# --- summary -----------------------------------------------------------------------------------


def test_summary_lists_paths_shapes_dtypes_counts_and_total() -> None:
    params = {
        "dense": Dense(w=np.zeros((3, 4), np.float32), b=np.zeros(4)),
        "scale": 2.0,
        "step": np.int32(7),
        "act": "relu",
    }
    lines = summary(params).splitlines()
    assert lines[0].split() == ["path", "shape", "dtype", "params", "bytes"]
    rows = [line.split() for line in lines[2:-2]]
    assert rows == [
        ["['act']", "-", "str", "0", "-"],
        ["['dense'].w", "(3,", "4)", "float32", "12", "48", "B"],
        ["['dense'].b", "(4,)", "float64", "4", "32", "B"],
        ["['scale']", "()", "float64", "1", "8", "B"],
        ["['step']", "()", "int32", "1", "4", "B"],
    ]
    assert lines[-1].split() == ["total", "(5", "leaves)", "18", "92", "B"]
    assert set(lines[1]) == set(lines[-2]) == {"-", " "}
    assert len({len(line) for line in lines[:2]}) == 1


def test_summary_units_root_leaf_empty_tree_and_tracers() -> None:
    import fgrad

    big = summary({"w": np.zeros((1024, 1024))})
    assert big.splitlines()[-1].split() == ["total", "(1", "leaf)", "1,048,576", "8.0", "MiB"]
    assert summary(np.zeros(3)).splitlines()[2].split()[0] == "(root)"
    assert summary({}).splitlines()[-1].split() == ["total", "(0", "leaves)", "0", "0", "B"]
    seen: list[str] = []

    def loss(p: Any) -> Any:
        seen.append(summary(p))
        return (p["w"] ** 2).sum()

    fgrad.grad(loss)({"w": np.ones((2, 5))})
    assert seen[0].splitlines()[2].split() == ["['w']", "(2,", "5)", "float64", "10", "80", "B"]


# --- ravel_pytree --------------------------------------------------------------------------------


def test_ravel_pytree_round_trip_restores_structure_shapes_and_dtypes() -> None:
    tree = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": Point(np.float64(1.5), [np.array([True, False])]),
        "n": np.arange(2),
        "none": None,
    }
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.float64
    np.testing.assert_array_equal(flat, [1.5, 1, 0, 0, 1, 0, 1, 2, 3, 4, 5])
    rebuilt = unravel(flat)
    assert tree_structure(rebuilt) == tree_structure(tree)
    for got, want in zip(tree_leaves(rebuilt), tree_leaves(tree)):
        assert got.dtype == np.asarray(want).dtype
        assert got.shape == np.shape(want)
        np.testing.assert_array_equal(got, want)


def test_ravel_pytree_dtype_promotion() -> None:
    def flat_dtype(tree: Any) -> np.dtype[Any]:
        return ravel_pytree(tree)[0].dtype

    f32 = np.ones(2, np.float32)
    assert flat_dtype([f32, f32]) == np.float32
    assert flat_dtype([f32, 2.0]) == np.float32  # a Python float is weak
    assert flat_dtype([f32, np.ones(1)]) == np.float64
    assert flat_dtype([np.arange(2), f32]) == np.float64
    assert flat_dtype([np.arange(2, dtype=np.int8), np.array([True])]) == np.int8
    assert flat_dtype([f32, np.array([1j], np.complex64)]) == np.complex64
    assert flat_dtype([1, 2]) == np.dtype(int)


def test_ravel_pytree_single_dtype_unravel_keeps_the_given_dtype() -> None:
    tree = {"a": np.ones(2), "b": np.ones((1, 2))}
    flat, unravel = ravel_pytree(tree)
    rebuilt = unravel(flat.astype(np.float32))
    assert rebuilt["a"].dtype == rebuilt["b"].dtype == np.float32
    assert rebuilt["b"].shape == (1, 2)


def test_ravel_pytree_mixed_dtypes_unravel_checks_dtype_and_casts_back() -> None:
    tree = [np.ones(2, np.float32), np.array([1, 2]), np.array([1.5 + 2j])]
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.complex128
    with pytest.raises(
        TypeError, match="unravel: got an array of dtype float64.*pass an array of dtype complex128"
    ):
        unravel(flat.real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: the real part is taken on purpose
        rebuilt = unravel(flat + 1j)
    assert [x.dtype for x in rebuilt] == [np.float32, np.int64, np.complex128]
    np.testing.assert_array_equal(rebuilt[0], [1, 1])
    np.testing.assert_array_equal(rebuilt[2], [1.5 + 3j])


def test_ravel_pytree_empty_tree_and_bad_unravel_shapes() -> None:
    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,) and flat.dtype == np.float64
    assert unravel(flat) == {"a": None, "b": []}
    flat, unravel = ravel_pytree({"w": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"expected a 1-D array of 4 elements.*got shape \(3,\)"):
        unravel(np.ones(3))
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        unravel(np.ones((2, 2)))


def test_ravel_pytree_unravel_functions_compare_by_what_they_rebuild() -> None:
    _, u1 = ravel_pytree({"w": np.ones(3)})
    _, u2 = ravel_pytree({"w": np.zeros(3)})
    _, u3 = ravel_pytree({"w": np.zeros(4)})
    _, u4 = ravel_pytree({"w": np.zeros(3, np.float32)})
    assert u1 == u2 and hash(u1) == hash(u2)
    assert u1 != u3 and u1 != u4


def test_grad_flows_through_ravel_and_unravel() -> None:
    import fgrad
    import fgrad.numpy as fnp

    params = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.25, -1.0])}
    weights = np.arange(6.0)

    def via_flat(p: Any) -> Any:
        flat, unravel = ravel_pytree(p)
        back = unravel(flat * weights)
        return fnp.sum(back["w"] ** 2) + fnp.sum(fnp.sin(back["b"]))

    grads = fgrad.grad(via_flat)(params)
    # flat order: b (weights 0, 1) then w (weights 2..5)
    np.testing.assert_allclose(grads["b"], weights[:2] * np.cos(weights[:2] * params["b"]))
    np.testing.assert_allclose(grads["w"], 2 * weights[2:].reshape(2, 2) ** 2 * params["w"])
    fgrad.check_grads(via_flat, (params,), order=2)

    flat, unravel = ravel_pytree(params)

    def loss(v: Any) -> Any:
        p = unravel(v)
        return fnp.sum(p["w"] ** 3) + fnp.sum(p["b"] ** 2)

    hess = fgrad.hessian(loss)(flat)
    np.testing.assert_allclose(hess, np.diag(np.r_[[2.0, 2.0], 6 * params["w"].ravel()]))
    jitted = fgrad.jit(lambda p: ravel_pytree(p)[0] * 2.0)
    np.testing.assert_array_equal(jitted(params), 2.0 * flat)
    batched = fgrad.vmap(lambda v: unravel(v)["w"])(np.stack([flat, 2 * flat]))
    np.testing.assert_array_equal(batched, np.stack([params["w"], 2 * params["w"]]))


@pytest.mark.parametrize(
    ("cls", "field", "value", "text"),
    [
        (DictKey, "key", "w", "['w']"),
        (SequenceKey, "idx", 2, "[2]"),
        (GetAttrKey, "name", "weight", ".weight"),
        (FlattenedIndexKey, "key", 1, "[1]"),
    ],
)
def test_path_entries_behave_as_frozen_dataclasses(cls, field, value, text):
    entry = cls(value)
    assert entry == cls(**{field: value}) and hash(entry) == hash(cls(value))
    assert entry != cls(3 if value != 3 else 4)
    assert all(entry != other(value) for other in {DictKey, SequenceKey, GetAttrKey} - {cls})
    assert repr(entry) == f"{cls.__name__}({field}={value!r})" and str(entry) == text
    assert pickle.loads(pickle.dumps(entry)) == entry and copy.deepcopy(entry) == entry
    assert len({entry, cls(value)}) == 1
    with pytest.raises(AttributeError, match="immutable"):
        setattr(entry, field, value)
    with pytest.raises(AttributeError, match="immutable"):
        delattr(entry, field)
    match entry:
        case cls(matched):  # noqa: F841 - positional match through __match_args__
            assert matched == value


def test_jit_stats_compare_and_print_as_counters():
    stats = JitStats(traces=1, replays=2)
    assert stats == JitStats(1, 2, 0, 0, 0) and stats != JitStats(1, 3)
    assert repr(stats) == (
        "JitStats(traces=1, replays=2, guard_failures=0, eager_calls=0, variants=0)"
    )
    stats.replays += 1
    assert stats.replays == 3
    with pytest.raises(TypeError):
        hash(stats)
