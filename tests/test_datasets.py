"""Tests for fgrad.datasets: geometry, reproducibility, sklearn parity, splitting, scaling."""

import dataclasses

import numpy as np
import pytest

from fgrad import datasets, random


def _on_outer(X):
    return np.allclose(X[:, 0] ** 2 + X[:, 1] ** 2, 1.0) and (X[:, 1] >= -1e-12).all()


def _on_inner(X):
    return (
        np.allclose((X[:, 0] - 1) ** 2 + (X[:, 1] - 0.5) ** 2, 1.0)
        and (X[:, 1] <= 0.5 + 1e-12).all()
    )


@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_moons_geometry_without_noise(n):
    X, y = datasets.make_moons(n, shuffle=False)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert (y == 0).sum() == n // 2 and (y == 1).sum() == n - n // 2
    assert _on_outer(X[y == 0]) and _on_inner(X[y == 1])
    assert y[: n // 2].tolist() == [0] * (n // 2)
    if n >= 4:
        np.testing.assert_allclose(X[[0, n // 2 - 1]], [[1.0, 0.0], [-1.0, 0.0]], atol=1e-12)
        np.testing.assert_allclose(X[[n // 2, -1]], [[0.0, 0.5], [2.0, 0.5]], atol=1e-12)


def test_moons_shuffle_keeps_geometry_and_reorders():
    X0, y0 = datasets.make_moons(50, shuffle=False)
    X, y = datasets.make_moons(50, random_state=3)
    assert _on_outer(X[y == 0]) and _on_inner(X[y == 1])
    assert not np.array_equal(y, y0)
    order = np.lexsort(X.T)
    np.testing.assert_array_equal(X[order], X0[np.lexsort(X0.T)])


def test_moons_noise_has_requested_std():
    clean, _ = datasets.make_moons(4000, shuffle=False)
    noisy, _ = datasets.make_moons(4000, shuffle=False, noise=0.1, random_state=0)
    assert abs((noisy - clean).std() - 0.1) < 0.005


def test_moons_tuple_and_reproducibility():
    X, y = datasets.make_moons((3, 5), shuffle=False)
    assert y.tolist() == [0] * 3 + [1] * 5
    a = datasets.make_moons(30, noise=0.2, random_state=5)
    b = datasets.make_moons(30, noise=0.2, random_state=5)
    c = datasets.make_moons(30, noise=0.2, random_state=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_moons_pinned_to_sklearn_values():
    X, y = datasets.make_moons(200, noise=0.1, random_state=0)
    np.testing.assert_allclose(
        X[:3],
        [
            [0.7923573545133603, 0.5026485729164217],
            [1.631583152461918, -0.46389670481436074],
            [-0.06710926740846129, 0.2677670571748911],
        ],
        rtol=1e-12,
    )
    assert y[:10].tolist() == [0, 1, 1, 0, 1, 1, 0, 1, 0, 1]


def test_random_state_accepts_keys_and_generators():
    k = random.key(1)
    a = datasets.make_moons(20, noise=0.1, random_state=k)
    b = datasets.make_moons(20, noise=0.1, random_state=k)
    np.testing.assert_array_equal(a[0], b[0])
    rs = np.random.RandomState(0)
    np.testing.assert_array_equal(
        datasets.make_moons(20, noise=0.1, random_state=rs)[0],
        datasets.make_moons(20, noise=0.1, random_state=0)[0],
    )
    assert datasets.make_moons(5, random_state=np.random.default_rng(0))[0].shape == (5, 2)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"noise": -0.1}, ValueError, "noise"),
        ({"random_state": 1.5}, TypeError, "random_state"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"random_state": np.zeros(2)}, TypeError, "random_state"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
    ],
)
def test_moons_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        datasets.make_moons(**kwargs)


def test_blobs_given_centers_means_stds_and_labels():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, -5.0], [0.0, 20.0, 5.0]])
    X, y = datasets.make_blobs(3000, centers=centers, cluster_std=[0.5, 1.0, 2.0], random_state=0)
    assert X.shape == (3000, 3) and sorted(set(y.tolist())) == [0, 1, 2]
    for i, s in enumerate([0.5, 1.0, 2.0]):
        Xi = X[y == i]
        assert len(Xi) == 1000
        np.testing.assert_allclose(Xi.mean(axis=0), centers[i], atol=0.2)
        np.testing.assert_allclose(Xi.std(axis=0), s, rtol=0.1)


def test_blobs_sample_counts_and_random_centers():
    X, y, c = datasets.make_blobs(
        10, n_features=4, centers=3, center_box=(-1.0, 1.0), random_state=0, return_centers=True
    )
    assert np.bincount(y).tolist() == [4, 3, 3]
    assert c.shape == (3, 4) and (c >= -1).all() and (c < 1).all()
    X, y = datasets.make_blobs([2, 0, 5], random_state=0, shuffle=False)
    assert y.tolist() == [0, 0, 2, 2, 2, 2, 2]
    X, y = datasets.make_blobs([1, 2], centers=[[1.0, 2.0], [3.0, 4.0]], cluster_std=0.0)
    assert sorted(map(tuple, X.tolist())) == [(1.0, 2.0), (3.0, 4.0), (3.0, 4.0)]


def test_blobs_pinned_to_sklearn_values():
    X, y = datasets.make_blobs(10, centers=3, random_state=0)
    assert y.tolist() == [0, 0, 1, 0, 2, 2, 2, 1, 1, 0]
    np.testing.assert_allclose(
        X[:2],
        [[1.1203136497073731, 5.758060834411365], [1.7373078036934886, 4.425462343941218]],
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cluster_std": [1.0, 2.0]}, "cluster_std"),
        ({"cluster_std": -1.0}, "cluster_std"),
        ({"centers": [1.0, 2.0]}, "centers"),
        ({"n_samples": [5, 5], "centers": [[0.0, 0.0]]}, "n_samples"),
        ({"n_samples": [5, 5], "centers": 3}, "n_samples"),
        ({"n_features": 0}, "n_features"),
    ],
)
def test_blobs_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.make_blobs(**kwargs)


class TestSklearnParity:
    @pytest.fixture(autouse=True)
    def _sklearn(self):
        self.skd = pytest.importorskip("sklearn.datasets")
        self.skms = pytest.importorskip("sklearn.model_selection")

    @pytest.mark.parametrize("n", [1, 7, 200, (3, 4)])
    @pytest.mark.parametrize("shuffle", [True, False])
    @pytest.mark.parametrize("noise", [None, 0.1])
    def test_moons(self, n, shuffle, noise):
        kw = {"shuffle": shuffle, "noise": noise, "random_state": 0}
        for ours, theirs in zip(datasets.make_moons(n, **kw), self.skd.make_moons(n, **kw)):
            np.testing.assert_array_equal(ours, theirs)

    @pytest.mark.parametrize(
        ("n", "kw"),
        [
            (100, {}),
            (11, {"centers": 4, "n_features": 3, "cluster_std": 0.3}),
            ([3, 4], {"centers": [[0.0, 1.0], [2.0, 3.0]], "cluster_std": [1.0, 2.0]}),
            ([3, 4, 5], {"shuffle": False}),
        ],
    )
    def test_blobs(self, n, kw):
        kw = {**kw, "random_state": 42, "return_centers": True}
        for ours, theirs in zip(datasets.make_blobs(n, **kw), self.skd.make_blobs(n, **kw)):
            np.testing.assert_array_equal(ours, theirs)

    @pytest.mark.parametrize("test_size", [0.25, 0.3, 3])
    def test_train_test_split(self, test_size):
        X, y = np.arange(20).reshape(10, 2), np.arange(10)
        ours = datasets.train_test_split(X, y, test_size=test_size, random_state=0)
        theirs = self.skms.train_test_split(X, y, test_size=test_size, random_state=0)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


def test_train_test_split_sizes_partition_and_alignment():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.33, random_state=1)
    assert len(X_te) == 7 and len(X_tr) == 13
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(X_te[:, 0], 2 * y_te)
    assert [len(p) for p in datasets.train_test_split(y, test_size=5)] == [15, 5]
    assert datasets.train_test_split(y, random_state=0)[0].tolist() != y[:15].tolist()


def test_train_test_split_pinned_to_sklearn_values():
    train, test = datasets.train_test_split(np.arange(10), test_size=0.3, random_state=0)
    assert train.tolist() == [9, 1, 6, 7, 3, 0, 5] and test.tolist() == [2, 8, 4]


def test_train_test_split_without_shuffle_and_with_lists():
    tr, te = datasets.train_test_split([1, 2, 3, 4, 5], test_size=0.4, shuffle=False)
    assert tr.tolist() == [1, 2, 3] and te.tolist() == [4, 5]


def test_train_test_split_with_keys():
    y = np.arange(30)
    a = datasets.train_test_split(y, random_state=random.key(0))
    b = datasets.train_test_split(y, random_state=random.key(0))
    c = datasets.train_test_split(y, random_state=random.key(1))
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros(5), np.zeros(4)), {}, r"same length, got lengths \[5, 4\]"),
        ((), {}, "at least one array"),
        ((np.zeros(5),), {"test_size": 0.0}, "test_size"),
        ((np.zeros(5),), {"test_size": 1.0}, "test_size"),
        ((np.zeros(5),), {"test_size": 5}, "test_size=5"),
        ((np.zeros(2),), {"test_size": 0.99}, "empty training set"),
    ],
)
def test_train_test_split_validation(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.train_test_split(*args, **kwargs)


def test_batches_cover_each_sample_once_and_stay_aligned():
    X, y = np.arange(22).reshape(11, 2), np.arange(11)
    out = list(datasets.batches(random.key(0), X, y, 4))
    assert [len(yb) for _, yb in out] == [4, 4, 3]
    seen = np.concatenate([yb for _, yb in out])
    assert sorted(seen.tolist()) == list(range(11)) and seen.tolist() != list(range(11))
    for xb, yb in out:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)
    dropped = list(datasets.batches(random.key(0), X, y, 4, drop_last=True))
    assert [len(yb) for _, yb in dropped] == [4, 4]


def test_batches_order_depends_only_on_key():
    X = y = np.arange(10)

    def order(key):
        return np.concatenate([yb for _, yb in datasets.batches(key, X, y, 3)]).tolist()

    assert order(random.key(0)) == order(random.key(0))
    assert order(random.key(0)) != order(random.key(1))


def test_batches_validates_eagerly():
    k = random.key(0)
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        datasets.batches(k, np.zeros(3), np.zeros(2), 1)
    with pytest.raises(ValueError, match="batch_size"):
        datasets.batches(k, np.zeros(3), np.zeros(3), 0)
    with pytest.raises(TypeError, match="PRNG key"):
        datasets.batches(0, np.zeros(3), np.zeros(3), 1)


def test_standardizer_fit_transform_inverse():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(100, 3))
    s = datasets.Standardizer.fit(X_train)
    Z = s.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    np.testing.assert_allclose(s.inverse_transform(Z), X_train)
    X_test = X_train[:5] + 1.0
    np.testing.assert_allclose(s.transform(X_test), Z[:5] + 1.0 / s.std)


def test_standardizer_constant_feature_maps_to_zero():
    X = np.array([[1.0, 4.0], [3.0, 4.0], [5.0, 4.0]])
    s = datasets.Standardizer.fit(X)
    assert s.std[1] == 0.0
    out = s.transform(np.array([[1.0, 4.0], [1.0, 9.0]]))
    assert out[:, 1].tolist() == [0.0, 0.0] and np.isfinite(out).all()
    assert s.inverse_transform(out)[:, 1].tolist() == [4.0, 4.0]


def test_standardizer_is_frozen_and_validates():
    s = datasets.Standardizer.fit([[1.0], [2.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.mean = np.zeros(1)
    with pytest.raises(ValueError, match="read-only"):
        s.mean[0] = 0.0
    with pytest.raises(ValueError, match=r"got \(2, 2\)"):
        s.transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least one sample"):
        datasets.Standardizer.fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="same shape"):
        datasets.Standardizer(mean=np.zeros(2), std=np.ones(3))
    assert (
        datasets.Standardizer.fit(np.ones((2, 2), np.float32))
        .transform(np.ones((1, 2), np.float32))
        .dtype
        == np.float32
    )
