"""Tests for fgrad.random: determinism, purity, key derivation and validation."""

import numpy as np
import pytest

from fgrad import random


@pytest.fixture
def k():
    return random.key(0)


def test_key_is_read_only_uint64_pair_and_pinned(k):
    assert k.shape == (2,) and k.dtype == np.uint64
    assert k.tolist() == [15793235383387715774, 12390638538380655177]
    with pytest.raises(ValueError, match="read-only"):
        k[0] = 1


def test_key_different_seeds_differ():
    keys = {tuple(random.key(s).tolist()) for s in range(50)}
    assert len(keys) == 50


@pytest.mark.parametrize(
    ("seed", "exc"), [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("0", TypeError)]
)
def test_key_rejects_bad_seed(seed, exc):
    with pytest.raises(exc, match="seed"):
        random.key(seed)


def test_pinned_samples_for_key_0(k):
    np.testing.assert_allclose(
        random.normal(k, (3,)),
        [-0.2059740286292238, -0.12884495093462758, -0.28978987549091256],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        random.uniform(k, (3,)),
        [0.014067035665647709, 0.2577672456246177, 0.47156538101528966],
        rtol=1e-12,
    )
    assert random.split(k).tolist() == [
        [5312087694084997812, 2167078804631760376],
        [12885069150845639902, 6370427667298282036],
    ]
    assert random.fold_in(k, 7).tolist() == [12520925846412897962, 1953903836312573072]
    assert random.permutation(k, 6).tolist() == [4, 0, 3, 5, 2, 1]


def test_split_shapes_determinism_and_independence(k):
    keys = random.split(k, 5)
    assert keys.shape == (5, 2) and keys.dtype == np.uint64
    assert not keys.flags.writeable
    np.testing.assert_array_equal(keys, random.split(k, 5))
    rows = {tuple(row) for row in keys.tolist()} | {tuple(k.tolist())}
    assert len(rows) == 6
    a, b = random.split(k)
    assert not np.array_equal(random.normal(a, 10), random.normal(b, 10))
    assert random.split(k, 0).shape == (0, 2)
    with pytest.raises(ValueError, match="num"):
        random.split(k, -1)


def test_fold_in_is_deterministic_and_distinct(k):
    folded = [random.fold_in(k, i) for i in range(20)]
    assert len({tuple(f.tolist()) for f in folded}) == 20
    np.testing.assert_array_equal(folded[3], random.fold_in(k, 3))
    split_keys = {tuple(row) for row in random.split(k, 20).tolist()}
    assert split_keys.isdisjoint({tuple(f.tolist()) for f in folded})
    assert not random.fold_in(k, 2**64 - 1).flags.writeable
    with pytest.raises(ValueError, match="data"):
        random.fold_in(k, 2**64)
    with pytest.raises(ValueError, match="data"):
        random.fold_in(k, -1)


def test_functions_never_mutate_key_or_global_state(k):
    before = k.copy()
    np.random.seed(123)  # noqa: NPY002
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    random.normal(k, 3)
    random.uniform(k, 3)
    random.bernoulli(k, 0.5, (3,))
    random.permutation(k, 5)
    random.choice(k, 5, (2,))
    random.split(k)
    random.fold_in(k, 1)
    np.testing.assert_array_equal(k, before)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


NON_KEYS = [
    0,
    [1, 2],
    np.array([1.0, 2.0]),
    np.array([1, 2], dtype=np.uint32),
    np.zeros(3, dtype=np.uint64),
]


@pytest.mark.parametrize("bad", NON_KEYS, ids=lambda b: repr(b)[:30])
@pytest.mark.parametrize(
    "call",
    [
        lambda key: random.normal(key),
        lambda key: random.uniform(key),
        lambda key: random.bernoulli(key),
        lambda key: random.permutation(key, 3),
        lambda key: random.choice(key, 3),
        lambda key: random.split(key),
        lambda key: random.fold_in(key, 1),
    ],
    ids=["normal", "uniform", "bernoulli", "permutation", "choice", "split", "fold_in"],
)
def test_non_key_raises_type_error_explaining_keys(call, bad):
    with pytest.raises(TypeError, match=r"PRNG key.*fgrad\.random\.key\(0\)"):
        call(bad)


def test_batch_of_keys_error_suggests_indexing(k):
    with pytest.raises(TypeError, match=r"key\[0\]"):
        random.normal(random.split(k, 3))


def test_normal_shape_dtype_and_statistics(k):
    x = random.normal(k, (200, 100))
    assert x.shape == (200, 100) and x.dtype == np.float64
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
    assert random.normal(k, 4, dtype=np.float32).dtype == np.float32
    assert random.normal(k, 4, dtype="float32").dtype == np.float32
    scalar = random.normal(k)
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()


@pytest.mark.parametrize("dtype", [np.int32, int, np.float16, np.complex128, bool])
def test_float_only_dtypes(k, dtype):
    with pytest.raises(TypeError, match="float32 or float64"):
        random.normal(k, 2, dtype=dtype)
    with pytest.raises(TypeError, match="float32 or float64"):
        random.uniform(k, 2, dtype=dtype)


@pytest.mark.parametrize(
    ("shape", "exc"), [((2, -1), ValueError), (2.0, TypeError), ((2, 1.5), TypeError)]
)
def test_bad_shapes(k, shape, exc):
    with pytest.raises(exc, match="shape"):
        random.normal(k, shape)


def test_uniform_bounds_and_dtype(k):
    u = random.uniform(k, (5000,), minval=-2.0, maxval=3.0)
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.1
    tiny = random.uniform(k, (5000,), dtype=np.float32, minval=1.0, maxval=1.0000001)
    assert tiny.dtype == np.float32
    assert (tiny >= np.float32(1.0)).all() and (tiny < np.float32(1.0000001)).all()
    with pytest.raises(ValueError, match="minval < maxval"):
        random.uniform(k, minval=1.0, maxval=1.0)
    with pytest.raises(ValueError, match="maxval"):
        random.uniform(k, maxval=np.inf)


def test_bernoulli(k):
    assert random.bernoulli(k, [0.0, 1.0, 1.0, 0.0]).tolist() == [False, True, True, False]
    m = random.bernoulli(k, 0.3, (20000,))
    assert m.dtype == np.bool_ and abs(m.mean() - 0.3) < 0.02
    assert random.bernoulli(k, np.full((2, 1), 0.5), (2, 3)).shape == (2, 3)
    assert random.bernoulli(k).shape == ()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        random.bernoulli(k, 1.5)
    with pytest.raises(ValueError, match="broadcast"):
        random.bernoulli(k, [0.1, 0.2, 0.3], (2,))


def test_permutation_int_and_array(k):
    p = random.permutation(k, 20)
    assert sorted(p.tolist()) == list(range(20)) and p.tolist() != list(range(20))
    X = np.arange(40).reshape(20, 2)
    original = X.copy()
    Xp = random.permutation(k, X)
    np.testing.assert_array_equal(X, original)
    np.testing.assert_array_equal(Xp, X[p])
    np.testing.assert_array_equal(Xp[:, 1], Xp[:, 0] + 1)
    with pytest.raises(TypeError, match="at least one dimension"):
        random.permutation(k, np.float64(3.0))
    with pytest.raises(ValueError, match=">= 0"):
        random.permutation(k, -1)


def test_choice(k):
    c = random.choice(k, 10, (10,), replace=False)
    assert sorted(c.tolist()) == list(range(10))
    assert random.choice(k, 3, (50,), p=[0.0, 1.0, 0.0]).tolist() == [1] * 50
    rows = random.choice(k, np.arange(12).reshape(4, 3), (5,))
    assert rows.shape == (5, 3) and (rows[:, 0] % 3 == 0).all()
    assert random.choice(k, 4).shape == ()
    with pytest.raises(ValueError, match="without replacement"):
        random.choice(k, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="sum to 1"):
        random.choice(k, 3, p=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        random.choice(k, 3, p=[0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        random.choice(k, 2, p=[1.5, -0.5])
    with pytest.raises(ValueError, match="empty"):
        random.choice(k, [])
