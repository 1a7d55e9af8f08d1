"""Data-parallel gradients and sweeps on a Dask cluster (``pip install 'fgrad[distributed]'``).

The same pure ``loss`` and :func:`fgrad.value_and_grad` that run in one process run on a
cluster: :class:`Cluster` connects to Dask (a ``LocalCluster`` of worker processes on this
machine, or an existing scheduler at ``address``), :meth:`Cluster.value_and_grad` shards the
data across the workers once, and each call sends the parameters, computes
``value_and_grad(loss)`` on every shard where the shard lives, and combines the results on
the driver weighted by shard size. :meth:`Cluster.map` runs a sweep (one call per
configuration: seeds, learning rates, architectures) and returns each run's result.

Transport, scheduling and fault handling are Dask's. fgrad adds one thing: the driver keeps
its copy of the data, so a shard lost with a worker is scattered again to the workers that
remain and the step is recomputed; results do not depend on which worker computed a shard
(the shards are fixed and combined in their order), so training continues to the same
parameters as an uninterrupted run.

Which losses this is exact for: a **mean over examples** (``mean(per_example_loss)``), for
which the size-weighted mean of the shards' means is the mean over all the data, so value
and gradients equal single-process ``value_and_grad`` up to rounding (1e-12 relative in the
tests). A sum over examples needs ``reduction="sum"``. A term that does not depend on the
examples (a weight penalty) must be added once, not once per shard: pass it as
``penalty=``, which the driver evaluates and differentiates itself.

A ``LocalCluster`` listens on 127.0.0.1 only: its scheduler, workers, nannies and the
scheduler's HTTP endpoints (the dashboard, on a free port). A remote scheduler is used only
when its address is given.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import fgrad
from fgrad.tree import tree_leaves, tree_map

try:
    import distributed as _dask_distributed
except ImportError as missing:  # pragma: no cover - exercised by a test that hides the module
    raise ImportError(
        "fgrad.distributed needs Dask's distributed scheduler, which is not installed. "
        "Install the extra: pip install 'fgrad[distributed]'"
    ) from missing

__all__ = ["Cluster", "ShardedValueAndGrad", "WorkerLostWarning"]

LOCAL_HOST = "127.0.0.1"
MAX_RECOVERIES = 5
NOTICE_TIMEOUT_S = 10.0
"""How long to wait, after a failed step, for the scheduler to notice which worker died."""
EMBED_BYTES = 1 << 20
"""Parameters up to this size travel inside each task; larger ones are scattered to the workers."""
"""How many times one step may re-scatter lost shards before giving up."""


class WorkerLostWarning(RuntimeWarning):
    """A worker died during a step; its shards were scattered again and the step recomputed."""


def _value_and_grad_on_shard(params: Any, shard: tuple[Callable[..., Any], tuple[Any, ...]]) -> Any:
    loss, data = shard
    return fgrad.value_and_grad(loss)(params, *data)


def _shard_bounds(n_examples: int, n_shards: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n_examples, n_shards + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _worker_failure(error: BaseException) -> bool:
    """A failure of the cluster (a worker died, a connection closed), not of the user's loss."""
    cluster_errors = (
        OSError,  # distributed.comm.CommClosedError is one
        _dask_distributed.client.FutureCancelledError,
        _dask_distributed.KilledWorker,
        asyncio.CancelledError,
    )
    return isinstance(error, cluster_errors)


def _lost(future: Any) -> bool:
    return future.status in ("cancelled", "lost", "error")


class ShardedValueAndGrad:
    """``value_and_grad(loss)`` over data sharded across a cluster (:meth:`Cluster.value_and_grad`).

    Call it with the parameters: ``value, grads = step(params)``. The attributes
    ``shard_sizes`` (examples per shard) and ``bytes_per_step`` (parameters sent to the
    workers plus gradients returned, in bytes, for the last call) describe the traffic.
    """

    def __init__(
        self,
        cluster: Cluster,
        loss: Callable[..., Any],
        data: tuple[Any, ...],
        n_shards: int,
        reduction: str,
        penalty: Callable[[Any], Any] | None,
    ) -> None:
        self._cluster = cluster
        self._loss = loss
        self._data = data
        self._reduction = reduction
        self._penalty = penalty
        n_examples = len(data[0])
        self._bounds = _shard_bounds(n_examples, n_shards)
        self.shard_sizes = [b - a for a, b in self._bounds]
        self.n_examples = n_examples
        self.bytes_per_step = 0
        self.recoveries = 0
        self._futures: list[Any] = [None] * len(self._bounds)
        self._places: list[str] = [""] * len(self._bounds)
        self._scatter(range(len(self._bounds)))

    def _shard(self, k: int) -> tuple[Any, ...]:
        """Shard ``k`` of the data; the loss travels with it, sent once."""
        start, stop = self._bounds[k]
        return tuple(np.asarray(d)[start:stop] for d in self._data)

    def _scatter(self, which: Iterable[int]) -> None:
        client = self._cluster.client
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            client.wait_for_workers(1)
            workers = sorted(client.scheduler_info()["workers"])
        for k in which:
            target = workers[k % len(workers)]
            payload = (self._loss, self._shard(k))
            self._futures[k] = client.scatter([payload], workers=[target], hash=False)[0]
            self._places[k] = target

    def __call__(self, params: Any) -> tuple[Any, Any]:
        client = self._cluster.client
        for _ in range(MAX_RECOVERIES + 1):
            lost = [k for k, f in enumerate(self._futures) if _lost(f)]
            if lost:
                self._recover(lost)
            try:
                results = self._step_where_shards_live(client, params)
            except Exception as error:
                if not self._workers_gone() and not _worker_failure(error):
                    raise  # the user's loss failed
                lost = self._wait_for_lost_shards()
                if not lost and not self._workers_gone():
                    raise
                if lost:
                    self._recover(lost)
                continue
            return self._combine(params, results)
        raise RuntimeError(
            f"fgrad.distributed: workers kept dying; the step was recomputed {MAX_RECOVERIES} "
            "times after losing shards. Check the workers' logs (memory limits, crashes)."
        )

    def _workers_gone(self) -> bool:
        """Whether a worker that holds shards has left the cluster."""
        return bool(set(self._places) - set(self._cluster.workers))

    def _wait_for_lost_shards(self) -> list[int]:
        """After a worker failure: the shards lost, once the scheduler has noticed (bounded)."""
        deadline = time.monotonic() + NOTICE_TIMEOUT_S
        while True:
            lost = self._lost_shards()
            if lost or time.monotonic() > deadline:
                return lost
            time.sleep(0.05)

    def _lost_shards(self) -> list[int]:
        """Shards whose data no live worker holds (asks the scheduler)."""
        kept = [f for f in self._futures if not _lost(f)]
        holders = self._cluster.client.who_has(kept) if kept else {}
        return [k for k, f in enumerate(self._futures) if _lost(f) or not holders.get(f.key)]

    def _step_where_shards_live(self, client: Any, params: Any) -> list[tuple[Any, Any]]:
        """One task per shard on the worker holding it. Small ``params`` travel inside the
        tasks; large ones are scattered once to each worker that holds shards."""
        size = sum(np.asarray(leaf).nbytes for leaf in tree_leaves(params))
        sent: dict[str, Any] = {}
        if size > EMBED_BYTES:
            for worker in sorted(set(self._places)):
                sent[worker] = client.scatter([params], workers=[worker], hash=False)[0]
        tasks = [
            client.submit(
                _value_and_grad_on_shard,
                sent.get(worker, params),
                shard,
                workers=[worker],
                allow_other_workers=True,
                pure=False,
            )
            for worker, shard in zip(self._places, self._futures)
        ]
        return list(client.gather(tasks))

    def _recover(self, lost: Sequence[int]) -> None:
        self.recoveries += 1
        warnings.warn(
            f"fgrad.distributed: a worker was lost with shard(s) {list(lost)}; they were "
            "scattered again from the driver's copy to the remaining workers and the step is "
            "recomputed.",
            WorkerLostWarning,
            stacklevel=3,
        )
        self._scatter(lost)

    def _combine(self, params: Any, results: list[tuple[Any, Any]]) -> tuple[Any, Any]:
        sizes = self.shard_sizes
        weights = (
            [n / self.n_examples for n in sizes]
            if self._reduction == "mean"
            else [1.0] * len(sizes)
        )
        value = sum(w * np.asarray(v, np.float64) for w, (v, _) in zip(weights, results))
        grads = tree_map(
            lambda *gs: np.asarray(sum(w * g for w, g in zip(weights, gs)), np.result_type(gs[0])),
            *[g for _, g in results],
        )
        param_bytes = sum(np.asarray(leaf).nbytes for leaf in tree_leaves(params))
        grad_bytes = sum(np.asarray(leaf).nbytes for leaf in tree_leaves(grads))
        self.bytes_per_step = len(results) * (param_bytes + grad_bytes)
        if self._penalty is not None:
            extra, extra_grads = fgrad.value_and_grad(self._penalty)(params)
            value = value + extra
            grads = tree_map(lambda g, e: g + e, grads, extra_grads)
        dtype = np.result_type(results[0][0])
        return np.asarray(value, dtype=dtype), grads

    def close(self) -> None:
        """Release the shards held by the workers."""
        for f in self._futures:
            if f is not None:
                f.release()
        self._futures = []


class Cluster:
    """A connection to Dask for data-parallel steps and sweeps; a context manager.

    Parameters
    ----------
    address : str, optional
        The address of an existing Dask scheduler (``"tcp://host:8786"``). Without one, a
        ``dask.distributed.LocalCluster`` of worker processes is started on this machine,
        listening on 127.0.0.1 only (the dashboard too, on a free port), and stopped by
        :meth:`close`.
    n_workers, threads_per_worker : int
        The size of the ``LocalCluster`` (ignored with ``address``).
    processes : bool
        Workers in separate processes (the default, as on a real cluster), or threads of
        this process (starts faster; for small experiments).
    timeout : float
        Seconds to wait for the scheduler and the first worker.

    Examples
    --------
    >>> def loss(w, x, y):
    ...     return fnp.mean((x @ w - y) ** 2)
    >>> x, y = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    >>> with fgrad.distributed.Cluster(n_workers=2, processes=False) as cluster:
    ...     step = cluster.value_and_grad(loss, x, y)
    ...     value, grads = step(np.ones(2))
    >>> value, grads
    (array(98.5), array([120., 137.]))
    >>> float(fgrad.value_and_grad(loss)(np.ones(2), x, y)[0])  # one process: the same
    98.5
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        processes: bool = True,
        timeout: float = 60.0,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise TypeError(
                f"Cluster: address must be a scheduler address such as 'tcp://host:8786', got "
                f"{type(address).__name__}"
            )
        self._local: Any = None
        if address is None:
            if not isinstance(n_workers, int) or n_workers < 1:
                raise ValueError(f"Cluster: n_workers must be a positive int, got {n_workers!r}")
            self._local = _dask_distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=processes,
                protocol="tcp://",
                host=LOCAL_HOST,
                dashboard_address=f"{LOCAL_HOST}:0",
            )
            self.client = _dask_distributed.Client(self._local, timeout=timeout)
        else:
            self.client = _dask_distributed.Client(address, timeout=timeout)
        self.client.wait_for_workers(1, timeout=timeout)

    @property
    def workers(self) -> list[str]:
        """The addresses of the workers now connected."""
        return sorted(self.client.scheduler_info()["workers"])

    def value_and_grad(
        self,
        loss: Callable[..., Any],
        *data: Any,
        n_shards: int | None = None,
        reduction: str = "mean",
        penalty: Callable[[Any], Any] | None = None,
    ) -> ShardedValueAndGrad:
        """Shard ``data`` across the workers once; return ``step(params) -> (value, grads)``.

        Parameters
        ----------
        loss : callable
            ``loss(params, *data)``, a pure function returning the **mean** over the
            examples of its data (or the sum, with ``reduction="sum"``). It is sent to the
            workers, so it must be importable there or picklable by value (a function
            defined in a script or notebook is).
        *data : arrays
            Arrays with the examples along axis 0, all of one length; split into
            ``n_shards`` contiguous shards (default: one per worker).
        n_shards : int, optional
            How many shards; more shards than workers balances uneven workers.
        reduction : {"mean", "sum"}
            How ``loss`` reduces over examples: shard results are weighted by their share
            of the examples, or summed.
        penalty : callable, optional
            ``penalty(params)``, a term added once (weight decay), evaluated and
            differentiated on the driver.

        Returns
        -------
        ShardedValueAndGrad
            ``step(params)`` returns the value and the gradients with respect to ``params``,
            equal to ``fgrad.value_and_grad(loss)(params, *data)`` up to rounding.

        Examples
        --------
        >>> with fgrad.distributed.Cluster(n_workers=2, processes=False) as cluster:
        ...     step = cluster.value_and_grad(lambda w, x: fnp.mean((x * w) ** 2), np.arange(8.0))
        ...     step(2.0), step.shard_sizes
        ((array(70.), array(70.)), [4, 4])
        """
        if not callable(loss):
            raise TypeError(f"Cluster.value_and_grad: loss must be a function, got {loss!r:.60}")
        if not data:
            raise TypeError("Cluster.value_and_grad: give the data arrays after the loss")
        lengths = [np.shape(d)[0] if np.ndim(d) else None for d in data]
        if lengths[0] is None or any(n != lengths[0] for n in lengths):
            shapes = ", ".join(f"data[{k}] {np.shape(d)}" for k, d in enumerate(data))
            raise ValueError(
                "Cluster.value_and_grad: every data array needs the examples along axis 0, "
                f"all of one length; got {shapes}"
            )
        if reduction not in ("mean", "sum"):
            raise ValueError(
                f"Cluster.value_and_grad: reduction must be 'mean' or 'sum', got {reduction!r}"
            )
        shards = len(self.workers) if n_shards is None else n_shards
        if not isinstance(shards, int) or not 1 <= shards <= lengths[0]:
            raise ValueError(
                f"Cluster.value_and_grad: n_shards must be an int from 1 to the number of "
                f"examples ({lengths[0]}), got {n_shards!r}"
            )
        return ShardedValueAndGrad(self, loss, data, shards, reduction, penalty)

    def map(self, fn: Callable[[Any], Any], configs: Iterable[Any]) -> list[Any]:
        """``[fn(c) for c in configs]``, one task per configuration, run on the workers.

        For sweeps and ensembles: ``fn`` trains one model from its configuration (seed,
        learning rate, architecture) and returns what to keep, such as the trained
        parameters and the loss curve. Results come back in the order of ``configs``.
        A task lost with a worker is run again on another one (Dask's retry), and an
        exception raised by ``fn`` is raised here.

        Examples
        --------
        >>> with fgrad.distributed.Cluster(n_workers=2, processes=False) as cluster:
        ...     cluster.map(lambda lr: lr * 2, [0.1, 0.2])
        [0.2, 0.4]
        """
        if not callable(fn):
            raise TypeError(f"Cluster.map: fn must be a function, got {fn!r:.60}")
        configs = list(configs)
        futures = self.client.map(fn, configs, pure=False)
        return list(self.client.gather(futures))

    def close(self) -> None:
        """Disconnect; stop the ``LocalCluster`` if this object started it."""
        self.client.close()
        if self._local is not None:
            self._local.close()
            self._local = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
