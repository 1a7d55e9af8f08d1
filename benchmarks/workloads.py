"""Benchmark workloads: data, hand-written NumPy baselines and their fgrad versions.

Every workload is built by a ``build_*`` function that returns a
:class:`Workload`: the NumPy baseline's finite-difference check, and one
zero-argument ``step`` closure per column. All closures of one workload compute
the same numbers (the harness checks this before timing anything) and return
them as nested lists/dicts of arrays, flattened by :func:`flatten` with dict
keys in sorted order.

The hand-written NumPy code is what a competent engineer writes: plain
vectorised forward and backward passes, no in-place trickery beyond the
textbook ``softmax - onehot`` gradient, no fused kernels.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

Step = Callable[[], Any]

W1_SIZES = (2, 4, 10, 4, 1)
W1_SAMPLES = 200
W1_LR = 0.1
W2_SIZES = (784, 1024, 1024, 10)
W2_BATCH = 512
W2_LR = 0.01
W3_STEPS = 10_000
W3_SCALE = 1.0001
W3_SHIFT = 0.1
W3_SHORT = (10, 20)


@dataclass
class Workload:
    """One row of the table."""

    key: str
    title: str
    dtype: str
    steps: dict[str, Step]
    check_baseline: Callable[[], list[str]]
    rtol: float
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    # (column, step, reference): further results each column must reproduce.
    extra_checks: list[tuple[str, Step, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def flatten(obj: Any) -> Iterator[np.ndarray]:
    """The arrays of a nested list/tuple/dict result, dict keys sorted, as NumPy float arrays."""
    if isinstance(obj, dict):
        for k in sorted(obj):
            yield from flatten(obj[k])
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from flatten(item)
    else:
        if hasattr(obj, "detach"):  # torch tensor
            obj = obj.detach().cpu().numpy()
        yield np.asarray(obj)


def max_rel_err(result: Any, reference: Any) -> float:
    """Largest leaf-wise ``max|a - b| / max|b|`` (absolute where the reference leaf is zero)."""
    got = list(flatten(result))
    want = list(flatten(reference))
    if len(got) != len(want):
        raise ValueError(f"result has {len(got)} arrays, reference has {len(want)}")
    worst = 0.0
    for a, b in zip(got, want):
        if a.shape != b.shape:
            raise ValueError(f"shape {a.shape} != reference shape {b.shape}")
        # Subnormals count as 0: XLA flushes them to zero, NumPy keeps them.
        tiny = np.finfo(np.float64).tiny
        a = np.where(np.abs(a) < tiny, 0.0, a.astype(np.float64))
        b = np.where(np.abs(b) < tiny, 0.0, b.astype(np.float64))
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        err = float(np.max(np.abs(a - b))) if b.size else 0.0
        worst = max(worst, err / scale if scale > 0 else err)
    return worst


def _tree_sub(a: list[dict[str, Any]], b: list[dict[str, Any]], lr: float) -> list[dict[str, Any]]:
    return [{k: pa[k] - lr * pb[k] for k in pa} for pa, pb in zip(a, b)]


def _tree_axpy(
    a: list[dict[str, Any]], b: list[dict[str, Any]], eps: float
) -> list[dict[str, Any]]:
    return [{k: pa[k] + eps * pb[k] for k in pa} for pa, pb in zip(a, b)]


def _tree_vdot_np(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> float:
    return float(sum(np.vdot(pa[k], pb[k]) for pa, pb in zip(a, b) for k in pa))


def init_mlp(rng: np.random.Generator, sizes: tuple[int, ...], dtype: Any) -> list[dict[str, Any]]:
    """``[{"w": (fan_in, fan_out), "b": (fan_out,)}, ...]`` with 1/sqrt(fan_in) weights."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        b = 0.1 * rng.standard_normal(fan_out)
        params.append({"w": w.astype(dtype), "b": b.astype(dtype)})
    return params


def random_like(rng: np.random.Generator, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: rng.standard_normal(p[k].shape).astype(p[k].dtype) for k in p} for p in params]


def moons(rng: np.random.Generator, n: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's make_moons); labels as an (n, 1) column."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    x = x + noise * rng.standard_normal(x.shape)
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])[:, None]
    perm = rng.permutation(n)
    return x[perm], y[perm]


# --------------------------------------------------------------------------- fgrad pieces


@dataclass
class FgradAPI:
    """The fgrad functions the workloads use, with the fallbacks used while parts are missing."""

    fgrad: Any
    fnp: Any
    sigmoid: Callable[..., Any]
    relu: Callable[..., Any]
    log_softmax: Callable[..., Any]
    sgd_update: Callable[..., Any]
    jit: Callable[..., Any] | None
    sources: dict[str, str]


def load_fgrad() -> FgradAPI:
    import fgrad
    import fgrad.numpy as fnp

    sources = {}
    try:
        nn = importlib.import_module("fgrad.nn")
        sigmoid, relu, log_softmax = nn.sigmoid, nn.relu, nn.log_softmax
        sources["activations"] = "fgrad.nn"
    except (ImportError, AttributeError):
        special = importlib.import_module("fgrad._rules.special")
        sigmoid, relu, log_softmax = special.sigmoid, special.relu, special.log_softmax
        sources["activations"] = "fgrad._rules.special (fgrad.nn missing)"
    try:
        sgd_update = importlib.import_module("fgrad.optim").sgd_update
        sources["update"] = "fgrad.optim.sgd_update"
    except (ImportError, AttributeError):
        tree_map = fgrad.tree.tree_map

        def sgd_update(params: Any, grads: Any, lr: float) -> Any:
            return tree_map(lambda p, g: p - lr * g, params, grads)

        sources["update"] = "tree_map(p - lr * g) (fgrad.optim missing)"
    jit = getattr(fgrad, "jit", None)
    sources["jit"] = "fgrad.jit" if jit is not None else "absent"
    return FgradAPI(fgrad, fnp, sigmoid, relu, log_softmax, sgd_update, jit, sources)


def _jit_step(api: FgradAPI, fn: Callable[..., Any], *args: Any) -> Step:
    """``fgrad.jit(fn)`` applied to ``args``, as a step closure."""
    assert api.jit is not None
    jitted = api.jit(fn)

    def step() -> Any:
        return jitted(*args)

    return step


def _add_fgrad_columns(
    wl: Workload, api: FgradAPI | None, columns: set[str], fn: Callable[..., Any], *args: Any
) -> None:
    if api is None:
        return
    if "fgrad" in columns:
        wl.steps["fgrad"] = lambda: fn(*args)
    if "fgrad.jit" in columns:
        if api.jit is None:
            wl.skipped["fgrad.jit"] = "fgrad.jit absent"
        else:
            try:
                wl.steps["fgrad.jit"] = _jit_step(api, fn, *args)
            except Exception as exc:  # report, don't crash the run
                wl.skipped["fgrad.jit"] = f"fgrad.jit failed: {type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- W1 moons-small


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def w1_numpy_value_and_grad(
    params: list[dict[str, np.ndarray]], x: np.ndarray, y: np.ndarray
) -> tuple[Any, list[dict[str, np.ndarray]]]:
    acts = [x]
    h = x
    for layer in params:
        h = np_sigmoid(h @ layer["w"] + layer["b"])
        acts.append(h)
    diff = h - y
    loss = np.mean(diff**2)
    g = diff * (2.0 / diff.size)
    grads: list[dict[str, np.ndarray]] = [{} for _ in params]
    for i in range(len(params) - 1, -1, -1):
        a = acts[i + 1]
        dz = g * (a * (1.0 - a))
        grads[i] = {"w": acts[i].T @ dz, "b": dz.sum(axis=0)}
        if i:
            g = dz @ params[i]["w"].T
    return loss, grads


def w1_numpy_loss(params: list[dict[str, np.ndarray]], x: np.ndarray, y: np.ndarray) -> float:
    h = x
    for layer in params:
        h = np_sigmoid(h @ layer["w"] + layer["b"])
    return float(np.mean((h - y) ** 2))


def w1_numpy_step(params: Any, x: np.ndarray, y: np.ndarray, lr: float) -> Any:
    loss, grads = w1_numpy_value_and_grad(params, x, y)
    return loss, grads, _tree_sub(params, grads, lr)


def w1_fgrad_loss(api: FgradAPI) -> Callable[..., Any]:
    fnp, sigmoid = api.fnp, api.sigmoid

    def loss(params: Any, x: Any, y: Any) -> Any:
        h = x
        for layer in params:
            h = sigmoid(h @ layer["w"] + layer["b"])
        return fnp.mean((h - y) ** 2)

    return loss


def w1_data() -> tuple[list[dict[str, np.ndarray]], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = moons(rng, W1_SAMPLES)
    params = init_mlp(rng, W1_SIZES, np.float64)
    return params, x, y


def _fd_check_value_and_grad(
    loss: Callable[[Any], float],
    grads: Any,
    params: Any,
    rng: np.random.Generator,
    what: str,
    eps_dir: float = 1e-6,
) -> list[str]:
    """Centred differences along random directions and on coordinates (all, or a sample).

    ReLU networks have kinks: a direction that moves every parameter crosses
    some of them unless its step is tiny, hence ``eps_dir``.
    """
    problems = []
    for _ in range(3):
        v = random_like(rng, params)
        fd = (loss(_tree_axpy(params, v, eps_dir)) - loss(_tree_axpy(params, v, -eps_dir))) / (
            2 * eps_dir
        )
        an = _tree_vdot_np(grads, v)
        if abs(fd - an) > 1e-5 * abs(an) + 1e-7:
            problems.append(f"{what}: directional derivative {an:.12g} vs centred FD {fd:.12g}")
    eps = 1e-6
    n_params = sum(p[k].size for p in params for k in p)
    for li, layer in enumerate(params):
        for k in layer:
            shape = layer[k].shape
            if n_params <= 1000:
                coords = list(np.ndindex(shape))
            else:
                coords = [tuple(int(rng.integers(0, s)) for s in shape) for _ in range(4)]
            for idx in coords:
                e = [{kk: np.zeros_like(vv) for kk, vv in lay.items()} for lay in params]
                e[li][k][idx] = 1.0
                fd = (loss(_tree_axpy(params, e, eps)) - loss(_tree_axpy(params, e, -eps))) / (
                    2 * eps
                )
                an = float(grads[li][k][idx])
                if abs(fd - an) > 1e-6 * abs(an) + 1e-8:
                    problems.append(f"{what}: d/d[{li}][{k!r}]{idx} = {an:.12g}, FD {fd:.12g}")
    return problems


def build_w1(columns: set[str], api: FgradAPI | None, peers: Any) -> Workload:
    params, x, y = w1_data()

    def check() -> list[str]:
        loss, grads = w1_numpy_value_and_grad(params, x, y)
        problems = []
        if abs(float(loss) - w1_numpy_loss(params, x, y)) > 1e-14:
            problems.append("W1: loss of value_and_grad differs from the plain forward pass")
        return problems + _fd_check_value_and_grad(
            lambda p: w1_numpy_loss(p, x, y), grads, params, np.random.default_rng(1), "W1"
        )

    wl = Workload("W1", "moons-small", "float64", {}, check, 1e-10)
    wl.steps["numpy"] = lambda: w1_numpy_step(params, x, y, W1_LR)
    if api is not None:
        vg = api.fgrad.value_and_grad(w1_fgrad_loss(api))
        sgd_update = api.sgd_update

        def fgrad_step(params: Any, x: Any, y: Any) -> Any:
            loss, grads = vg(params, x, y)
            return loss, grads, sgd_update(params, grads, W1_LR)

        _add_fgrad_columns(wl, api, columns, fgrad_step, params, x, y)
    if peers is not None:
        peers.add_w1(wl, columns, params, x, y, W1_LR)
    return wl


# --------------------------------------------------------------------------- W2 mlp-large


def w2_numpy_value_and_grad(
    params: list[dict[str, np.ndarray]], x: np.ndarray, labels: np.ndarray
) -> tuple[Any, list[dict[str, np.ndarray]]]:
    l1, l2, l3 = params
    h1 = np.maximum(x @ l1["w"] + l1["b"], 0)
    h2 = np.maximum(h1 @ l2["w"] + l2["b"], 0)
    logits = h2 @ l3["w"] + l3["b"]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = x.shape[0]
    rows = np.arange(n)
    loss = -logp[rows, labels].mean()
    d = np.exp(logp)
    d[rows, labels] -= 1
    d /= n
    dh2 = (d @ l3["w"].T) * (h2 > 0)
    dh1 = (dh2 @ l2["w"].T) * (h1 > 0)
    grads = [
        {"w": x.T @ dh1, "b": dh1.sum(axis=0)},
        {"w": h1.T @ dh2, "b": dh2.sum(axis=0)},
        {"w": h2.T @ d, "b": d.sum(axis=0)},
    ]
    return loss, grads


def w2_numpy_loss(params: list[dict[str, np.ndarray]], x: np.ndarray, labels: np.ndarray) -> float:
    h = x
    for layer in params[:-1]:
        h = np.maximum(h @ layer["w"] + layer["b"], 0)
    logits = h @ params[-1]["w"] + params[-1]["b"]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(x.shape[0]), labels].mean())


def w2_numpy_step(params: Any, x: np.ndarray, labels: np.ndarray, lr: float) -> Any:
    loss, grads = w2_numpy_value_and_grad(params, x, labels)
    return loss, grads, _tree_sub(params, grads, lr)


def w2_fgrad_loss(api: FgradAPI) -> Callable[..., Any]:
    fnp, relu, log_softmax = api.fnp, api.relu, api.log_softmax

    def loss(params: Any, x: Any, labels: Any) -> Any:
        h = x
        for layer in params[:-1]:
            h = relu(h @ layer["w"] + layer["b"])
        logits = h @ params[-1]["w"] + params[-1]["b"]
        logp = log_softmax(logits, axis=-1)
        return -fnp.mean(fnp.take_along_axis(logp, labels[:, None], axis=1))

    return loss


def w2_data(dtype: Any) -> tuple[list[dict[str, np.ndarray]], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((W2_BATCH, W2_SIZES[0])).astype(dtype)
    labels = rng.integers(0, W2_SIZES[-1], W2_BATCH)
    params = init_mlp(rng, W2_SIZES, dtype)
    return params, x, labels


@functools.cache
def _w2_fd_check() -> tuple[str, ...]:
    params, x, labels = w2_data(np.float64)
    loss, grads = w2_numpy_value_and_grad(params, x, labels)
    problems = []
    if abs(float(loss) - w2_numpy_loss(params, x, labels)) > 1e-12:
        problems.append("W2: loss of value_and_grad differs from the plain forward pass")
    problems += _fd_check_value_and_grad(
        lambda p: w2_numpy_loss(p, x, labels),
        grads,
        params,
        np.random.default_rng(1),
        "W2",
        eps_dir=1e-8,
    )
    return tuple(problems)


def build_w2(columns: set[str], api: FgradAPI | None, peers: Any, dtype_name: str) -> Workload:
    dtype = np.dtype(dtype_name)
    params, x, labels = w2_data(dtype)

    def check() -> list[str]:
        # Finite differences are checked in float64 (once for both rows); the float32 row
        # runs the same code and is compared with the float64 result.
        problems = list(_w2_fd_check())
        if dtype != np.float64:
            loss, grads = w2_numpy_value_and_grad(*w2_data(np.float64))
            loss32, grads32 = w2_numpy_value_and_grad(params, x, labels)
            if loss32.dtype != dtype or any(g[k].dtype != dtype for g in grads32 for k in g):
                problems.append(f"W2: {dtype} baseline does not stay in {dtype}")
            err = max_rel_err((loss32, grads32), (loss, grads))
            if err > 1e-4:
                problems.append(f"W2: {dtype} baseline differs from float64 by {err:.1e}")
        return problems

    key = "W2-" + {"float32": "f32", "float64": "f64"}[dtype_name]
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    wl = Workload(key, "mlp-large", dtype_name, {}, check, rtol)
    wl.steps["numpy"] = lambda: w2_numpy_step(params, x, labels, W2_LR)
    if api is not None:
        vg = api.fgrad.value_and_grad(w2_fgrad_loss(api))
        sgd_update = api.sgd_update

        def fgrad_step(params: Any, x: Any, labels: Any) -> Any:
            loss, grads = vg(params, x, labels)
            return loss, grads, sgd_update(params, grads, W2_LR)

        _add_fgrad_columns(wl, api, columns, fgrad_step, params, x, labels)
    if peers is not None:
        peers.add_w2(wl, columns, params, x, labels, W2_LR)
    return wl


# --------------------------------------------------------------------------- W3 scalar-chain


def w3_numpy_value_and_grad(x0: np.ndarray, n: int) -> tuple[Any, Any]:
    x = x0
    outs = []
    for _ in range(n):
        x = np.tanh(x * W3_SCALE + W3_SHIFT)
        outs.append(x)
    g = np.float64(1.0)
    for y in reversed(outs):
        g = g * (W3_SCALE * (1.0 - y * y))
    return x, g


def w3_numpy_value(x0: float, n: int) -> float:
    x = x0
    for _ in range(n):
        x = float(np.tanh(x * W3_SCALE + W3_SHIFT))
    return x


def w3_fgrad_chain(api: FgradAPI, n: int) -> Callable[..., Any]:
    tanh = api.fnp.tanh

    def chain(x: Any) -> Any:
        for _ in range(n):
            x = tanh(x * W3_SCALE + W3_SHIFT)
        return x

    return chain


def build_w3(columns: set[str], api: FgradAPI | None, peers: Any) -> Workload:
    x0 = np.asarray(0.5)
    n = W3_STEPS

    def check() -> list[str]:
        problems = []
        # The derivative of 10,000 contracting steps underflows to 0, so the chain rule
        # is also checked on a short chain whose derivative is far from 0.
        for m in (*W3_SHORT, n):
            value, g = w3_numpy_value_and_grad(x0, m)
            eps = 1e-6
            fd = (w3_numpy_value(0.5 + eps, m) - w3_numpy_value(0.5 - eps, m)) / (2 * eps)
            if abs(float(value) - w3_numpy_value(0.5, m)) > 1e-15:
                problems.append(f"W3: value of the {m}-step chain differs from the forward loop")
            if abs(fd - float(g)) > 1e-9 + 1e-6 * abs(float(g)):  # FD rounding ~1e-10
                problems.append(f"W3: {m}-step derivative {float(g):.12g} vs centred FD {fd:.12g}")
        return problems

    wl = Workload("W3", "scalar-chain", "float64", {}, check, 1e-10)
    wl.notes.append(
        "W3: d x_10000 / d x_0 underflows (5e-324 in NumPy, 0 under XLA's flush-to-zero; "
        "subnormals are compared as 0), so all columns are also checked on 10- and 20-step chains"
    )
    wl.steps["numpy"] = lambda: w3_numpy_value_and_grad(x0, n)
    if api is not None:
        vg = api.fgrad.value_and_grad(w3_fgrad_chain(api, n))
        _add_fgrad_columns(wl, api, columns, vg, x0)
        for m in W3_SHORT:
            vg_m = api.fgrad.value_and_grad(w3_fgrad_chain(api, m))
            ref = w3_numpy_value_and_grad(x0, m)
            if "fgrad" in wl.steps:
                wl.extra_checks.append(("fgrad", partial(vg_m, x0), ref))
            if "fgrad.jit" in wl.steps:
                try:
                    wl.extra_checks.append(("fgrad.jit", _jit_step(api, vg_m, x0), ref))
                except Exception as exc:
                    wl.skipped["fgrad.jit"] = f"fgrad.jit failed: {type(exc).__name__}: {exc}"
    if peers is not None:
        peers.add_w3(wl, columns, x0, n)
    return wl


# --------------------------------------------------------------------------- W4 hvp


def w4_numpy_hvp(
    params: list[dict[str, np.ndarray]],
    v: list[dict[str, np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
) -> list[dict[str, np.ndarray]]:
    """Pearlmutter's R-operator applied to the W1 forward and backward passes."""
    acts = [x]
    racts: list[np.ndarray | None] = [None]  # R{x} = 0
    h = x
    rh: np.ndarray | None = None
    for layer, vl in zip(params, v):
        z = h @ layer["w"] + layer["b"]
        rz = h @ vl["w"] + vl["b"]
        if rh is not None:
            rz = rz + rh @ layer["w"]
        h = np_sigmoid(z)
        rh = (h * (1.0 - h)) * rz
        acts.append(h)
        racts.append(rh)
    c = 2.0 / h.size
    g = c * (h - y)
    rg = c * rh
    hv: list[dict[str, np.ndarray]] = [{} for _ in params]
    for i in range(len(params) - 1, -1, -1):
        a = acts[i + 1]
        ra = racts[i + 1]
        s = a * (1.0 - a)
        dz = g * s
        rdz = rg * s + g * (ra * (1.0 - 2.0 * a))
        r_prev = racts[i]
        hw = acts[i].T @ rdz
        if r_prev is not None:
            hw = hw + r_prev.T @ dz
        hv[i] = {"w": hw, "b": rdz.sum(axis=0)}
        if i:
            rg = rdz @ params[i]["w"].T + dz @ v[i]["w"].T
            g = dz @ params[i]["w"].T
    return hv


def build_w4(columns: set[str], api: FgradAPI | None, peers: Any) -> Workload:
    params, x, y = w1_data()
    v = random_like(np.random.default_rng(2), params)

    def check() -> list[str]:
        hv = w4_numpy_hvp(params, v, x, y)
        eps = 1e-5
        gp = w1_numpy_value_and_grad(_tree_axpy(params, v, eps), x, y)[1]
        gm = w1_numpy_value_and_grad(_tree_axpy(params, v, -eps), x, y)[1]
        fd = [{k: (a[k] - b[k]) / (2 * eps) for k in a} for a, b in zip(gp, gm)]
        err = max_rel_err(hv, fd)
        return [] if err < 1e-6 else [f"W4: R-operator HVP vs FD of the gradient: {err:.1e}"]

    wl = Workload("W4", "hvp", "float64", {}, check, 1e-10)
    wl.steps["numpy"] = lambda: w4_numpy_hvp(params, v, x, y)
    if api is not None:
        fgrad, fnp = api.fgrad, api.fnp
        grad_loss = fgrad.grad(w1_fgrad_loss(api))

        def hvp(params: Any, v: Any, x: Any, y: Any) -> Any:
            def gv(p: Any) -> Any:
                g = grad_loss(p, x, y)
                return sum(fnp.vdot(gl[k], vl[k]) for gl, vl in zip(g, v) for k in gl)

            return fgrad.grad(gv)(params)

        _add_fgrad_columns(wl, api, columns, hvp, params, v, x, y)
        wl.notes.append("W4 fgrad: reverse-over-reverse grad(p -> <grad(loss)(p), v>)")
    if peers is not None:
        peers.add_w4(wl, columns, params, v, x, y)
    return wl


BUILDERS: dict[str, Callable[[set[str], FgradAPI | None, Any], Workload]] = {
    "W1": build_w1,
    "W2-f32": lambda c, a, p: build_w2(c, a, p, "float32"),
    "W2-f64": lambda c, a, p: build_w2(c, a, p, "float64"),
    "W3": build_w3,
    "W4": build_w4,
}
