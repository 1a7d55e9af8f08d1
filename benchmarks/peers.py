"""Peer libraries (autograd, PyTorch, JAX) for the same workloads, used only when importable.

Each ``add_*`` function adds a step closure per available peer column to a
:class:`~workloads.Workload`. Idioms are each library's ordinary ones: autograd's
``value_and_grad`` on autograd.numpy code, PyTorch eager autograd
(``torch.autograd.grad``) with the default thread count, JAX without ``jit``
(column ``jax``) and with ``jax.jit`` around the whole step (column ``jax.jit``).
JAX runs with ``jax_enable_x64`` so float64 workloads stay float64.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from workloads import W3_SCALE, W3_SHIFT, W3_SHORT, Workload, w3_numpy_value_and_grad

PEER_COLUMNS = ("autograd", "torch", "jax", "jax.jit")


def _try_import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except Exception:
        return None


class Peers:
    """The importable peer libraries."""

    def __init__(self, wanted: set[str]) -> None:
        self.ag = _try_import("autograd") if "autograd" in wanted else None
        self.anp = _try_import("autograd.numpy") if self.ag is not None else None
        self.torch = _try_import("torch") if "torch" in wanted else None
        self.jax = _try_import("jax") if {"jax", "jax.jit"} & wanted else None
        if self.jax is not None:
            self.jax.config.update("jax_enable_x64", True)
            self.jnp = importlib.import_module("jax.numpy")

    def versions(self) -> dict[str, str]:
        out = {}
        for name, mod in (("autograd", self.ag), ("torch", self.torch), ("jax", self.jax)):
            if mod is not None:
                out[name] = getattr(mod, "__version__", None) or _dist_version(name)
        return out

    def available(self) -> set[str]:
        cols = set()
        if self.ag is not None:
            cols.add("autograd")
        if self.torch is not None:
            cols.add("torch")
        if self.jax is not None:
            cols |= {"jax", "jax.jit"}
        return cols

    # ------------------------------------------------------------------ helpers

    def _torch_params(self, params: list[dict[str, np.ndarray]]) -> list[dict[str, Any]]:
        torch = self.torch
        return [{k: torch.tensor(p[k], requires_grad=True) for k in p} for p in params]

    @staticmethod
    def _leaves(tparams: list[dict[str, Any]]) -> list[Any]:
        return [p[k] for p in tparams for k in sorted(p)]

    @staticmethod
    def _unleaves(tparams: list[dict[str, Any]], leaves: Any) -> list[dict[str, Any]]:
        it = iter(leaves)
        return [{k: next(it) for k in sorted(p)} for p in tparams]

    def _jax_tree(self, tree: Any) -> Any:
        return self.jax.tree_util.tree_map(self.jnp.asarray, tree)

    def _jax_columns(
        self, wl: Workload, columns: set[str], fn: Callable[..., Any], *args: Any
    ) -> None:
        jax = self.jax
        if "jax" in columns:
            wl.steps["jax"] = lambda: jax.block_until_ready(fn(*args))
        if "jax.jit" in columns:
            jitted = jax.jit(fn)
            wl.steps["jax.jit"] = lambda: jax.block_until_ready(jitted(*args))

    # ------------------------------------------------------------------ W1

    def add_w1(
        self, wl: Workload, columns: set[str], params: Any, x: np.ndarray, y: np.ndarray, lr: float
    ) -> None:
        if self.ag is not None and "autograd" in columns:
            anp = self.anp

            def ag_loss(p: Any) -> Any:
                h = x
                for layer in p:
                    h = 1.0 / (1.0 + anp.exp(-(anp.dot(h, layer["w"]) + layer["b"])))
                return anp.mean((h - y) ** 2)

            ag_vg = self.ag.value_and_grad(ag_loss)

            def ag_step() -> Any:
                loss, grads = ag_vg(params)
                new = [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)]
                return loss, grads, new

            wl.steps["autograd"] = ag_step

        if self.torch is not None and "torch" in columns:
            torch = self.torch
            tp = self._torch_params(params)
            leaves = self._leaves(tp)
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)

            def torch_step() -> Any:
                h = tx
                for layer in tp:
                    h = torch.sigmoid(h @ layer["w"] + layer["b"])
                loss = ((h - ty) ** 2).mean()
                grads = torch.autograd.grad(loss, leaves)
                with torch.no_grad():
                    new = [p - lr * g for p, g in zip(leaves, grads)]
                return loss.detach(), self._unleaves(tp, grads), self._unleaves(tp, new)

            wl.steps["torch"] = torch_step

        if self.jax is not None and {"jax", "jax.jit"} & columns:
            jax, jnp = self.jax, self.jnp

            def jax_loss(p: Any, x: Any, y: Any) -> Any:
                h = x
                for layer in p:
                    h = jax.nn.sigmoid(h @ layer["w"] + layer["b"])
                return jnp.mean((h - y) ** 2)

            jax_vg = jax.value_and_grad(jax_loss)

            def jax_step(p: Any, x: Any, y: Any) -> Any:
                loss, grads = jax_vg(p, x, y)
                return loss, grads, jax.tree_util.tree_map(lambda a, g: a - lr * g, p, grads)

            jp = self._jax_tree(params)
            self._jax_columns(wl, columns, jax_step, jp, jnp.asarray(x), jnp.asarray(y))

    # ------------------------------------------------------------------ W2

    def add_w2(
        self,
        wl: Workload,
        columns: set[str],
        params: Any,
        x: np.ndarray,
        labels: np.ndarray,
        lr: float,
    ) -> None:
        n = x.shape[0]
        if self.ag is not None and "autograd" in columns:
            anp = self.anp
            rows = np.arange(n)

            def ag_loss(p: Any) -> Any:
                h = x
                for layer in p[:-1]:
                    h = anp.maximum(anp.dot(h, layer["w"]) + layer["b"], 0)
                logits = anp.dot(h, p[-1]["w"]) + p[-1]["b"]
                z = logits - anp.max(logits, axis=1, keepdims=True)
                logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
                return -anp.mean(logp[rows, labels])

            ag_vg = self.ag.value_and_grad(ag_loss)

            def ag_step() -> Any:
                loss, grads = ag_vg(params)
                new = [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)]
                return loss, grads, new

            wl.steps["autograd"] = ag_step

        if self.torch is not None and "torch" in columns:
            torch = self.torch
            tp = self._torch_params(params)
            leaves = self._leaves(tp)
            tx, tl = torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))
            cross_entropy = torch.nn.functional.cross_entropy

            def torch_step() -> Any:
                h = tx
                for layer in tp[:-1]:
                    h = torch.relu(h @ layer["w"] + layer["b"])
                logits = h @ tp[-1]["w"] + tp[-1]["b"]
                loss = cross_entropy(logits, tl)
                grads = torch.autograd.grad(loss, leaves)
                with torch.no_grad():
                    new = [p - lr * g for p, g in zip(leaves, grads)]
                return loss.detach(), self._unleaves(tp, grads), self._unleaves(tp, new)

            wl.steps["torch"] = torch_step

        if self.jax is not None and {"jax", "jax.jit"} & columns:
            jax, jnp = self.jax, self.jnp

            def jax_loss(p: Any, x: Any, labels: Any) -> Any:
                h = x
                for layer in p[:-1]:
                    h = jax.nn.relu(h @ layer["w"] + layer["b"])
                logits = h @ p[-1]["w"] + p[-1]["b"]
                logp = jax.nn.log_softmax(logits, axis=-1)
                return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))

            jax_vg = jax.value_and_grad(jax_loss)

            def jax_step(p: Any, x: Any, labels: Any) -> Any:
                loss, grads = jax_vg(p, x, labels)
                return loss, grads, jax.tree_util.tree_map(lambda a, g: a - lr * g, p, grads)

            jp = self._jax_tree(params)
            self._jax_columns(wl, columns, jax_step, jp, jnp.asarray(x), jnp.asarray(labels))

    # ------------------------------------------------------------------ W3

    def add_w3(self, wl: Workload, columns: set[str], x0: np.ndarray, n: int) -> None:
        makers: dict[str, Callable[[int], Callable[[], Any]]] = {}
        if self.ag is not None and "autograd" in columns:
            anp, ag = self.anp, self.ag

            def make_ag(m: int) -> Callable[[], Any]:
                def chain(x: Any) -> Any:
                    for _ in range(m):
                        x = anp.tanh(x * W3_SCALE + W3_SHIFT)
                    return x

                vg = ag.value_and_grad(chain)
                return lambda: vg(x0)

            makers["autograd"] = make_ag

        if self.torch is not None and "torch" in columns:
            torch = self.torch
            tx = torch.tensor(x0, requires_grad=True)

            def make_torch(m: int) -> Callable[[], Any]:
                def step() -> Any:
                    x = tx
                    for _ in range(m):
                        x = torch.tanh(x * W3_SCALE + W3_SHIFT)
                    (g,) = torch.autograd.grad(x, tx)
                    return x.detach(), g

                return step

            makers["torch"] = make_torch

        if self.jax is not None:
            jax, jnp = self.jax, self.jnp
            jx = jnp.asarray(x0)

            if "jax" in columns:

                def make_jax(m: int) -> Callable[[], Any]:
                    def chain(x: Any) -> Any:
                        for _ in range(m):
                            x = jnp.tanh(x * W3_SCALE + W3_SHIFT)
                        return x

                    vg = jax.value_and_grad(chain)
                    return lambda: jax.block_until_ready(vg(jx))

                makers["jax"] = make_jax

            if "jax.jit" in columns:

                def make_jax_jit(m: int) -> Callable[[], Any]:
                    # A 10,000-step Python loop would unroll into 10,000 ops under jit;
                    # fori_loop is how the same program is written for jax.jit.
                    def chain(x: Any) -> Any:
                        body = lambda i, x: jnp.tanh(x * W3_SCALE + W3_SHIFT)  # noqa: E731
                        return jax.lax.fori_loop(0, m, body, x)

                    vg = jax.jit(jax.value_and_grad(chain))
                    return lambda: jax.block_until_ready(vg(jx))

                makers["jax.jit"] = make_jax_jit
                wl.notes.append("W3 jax.jit: the loop is written with jax.lax.fori_loop")

        for col, make in makers.items():
            wl.steps[col] = make(n)
            for m in W3_SHORT:
                wl.extra_checks.append((col, make(m), w3_numpy_value_and_grad(x0, m)))

    # ------------------------------------------------------------------ W4

    def add_w4(
        self, wl: Workload, columns: set[str], params: Any, v: Any, x: np.ndarray, y: np.ndarray
    ) -> None:
        if self.ag is not None and "autograd" in columns:
            anp, ag = self.anp, self.ag

            def ag_loss(p: Any) -> Any:
                h = x
                for layer in p:
                    h = 1.0 / (1.0 + anp.exp(-(anp.dot(h, layer["w"]) + layer["b"])))
                return anp.mean((h - y) ** 2)

            ag_grad = ag.grad(ag_loss)

            def gv(p: Any) -> Any:
                g = ag_grad(p)
                return sum(anp.sum(gl[k] * vl[k]) for gl, vl in zip(g, v) for k in gl)

            ag_hvp = ag.grad(gv)
            wl.steps["autograd"] = lambda: ag_hvp(params)

        if self.torch is not None and "torch" in columns:
            torch = self.torch
            tp = self._torch_params(params)
            leaves = self._leaves(tp)
            tv = self._leaves([{k: torch.from_numpy(vl[k]) for k in vl} for vl in v])
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)

            def torch_hvp() -> Any:
                h = tx
                for layer in tp:
                    h = torch.sigmoid(h @ layer["w"] + layer["b"])
                loss = ((h - ty) ** 2).mean()
                grads = torch.autograd.grad(loss, leaves, create_graph=True)
                dot = sum((g * vl).sum() for g, vl in zip(grads, tv))
                return self._unleaves(tp, torch.autograd.grad(dot, leaves))

            wl.steps["torch"] = torch_hvp

        if self.jax is not None and {"jax", "jax.jit"} & columns:
            jax, jnp = self.jax, self.jnp

            def jax_loss(p: Any, x: Any, y: Any) -> Any:
                h = x
                for layer in p:
                    h = jax.nn.sigmoid(h @ layer["w"] + layer["b"])
                return jnp.mean((h - y) ** 2)

            jax_grad = jax.grad(jax_loss)

            def jax_hvp(p: Any, v: Any, x: Any, y: Any) -> Any:
                return jax.jvp(lambda q: jax_grad(q, x, y), (p,), (v,))[1]

            self._jax_columns(
                wl,
                columns,
                jax_hvp,
                self._jax_tree(params),
                self._jax_tree(v),
                jnp.asarray(x),
                jnp.asarray(y),
            )
            wl.notes.append("W4 jax: forward-over-reverse jvp(grad(loss))")
        if self.torch is not None and "torch" in columns:
            wl.notes.append("W4 torch/autograd: reverse-over-reverse (create_graph / nested grad)")


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "?"
