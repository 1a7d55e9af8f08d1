"""W6: one training step of the digits CNN, batch 64 of 8x8 images, float64 (run by hand).

    python benchmarks/conv_step.py [--rounds 9] [--threads 1]

The network of ``examples/digits_cnn.py``: Conv(32, 3x3, SAME) - Relu - MaxPool(2x2) -
Conv(64, 3x3, SAME) - Relu - MaxPool(2x2) - Flatten - Dense(10), softmax cross-entropy.
A step is the loss, its gradient and a plain SGD update. Columns, timed interleaved in
rounds (``harness.time_interleaved``): a hand-written NumPy step (im2col by
``sliding_window_view`` and one matrix product per convolution, col2im by one add per
kernel offset: the baseline), fgrad eagerly, fgrad under ``fgrad.jit``, and PyTorch eager
(``torch.nn.functional.conv2d``, float64) when importable. Every column's loss and
gradients are checked against the NumPy step first. Prints medians and paired ratios to
NumPy (the median over rounds of each round's ratio).

``--threads`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` before NumPy is imported
(default 1: these products are small, and spinning BLAS threads made the step ten times
slower on a busy two-core machine); ``--threads 0`` leaves the environment alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.threads > 0:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)
    return args


ARGS = _parse() if __name__ == "__main__" else None

import numpy as np  # noqa: E402
from harness import time_interleaved  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from peers import Peers  # noqa: E402

import fgrad  # noqa: E402
from fgrad import losses, nn, random  # noqa: E402

BATCH = 64
CHANNELS = (1, 32, 64)
NUM_CLASSES = 10
LEARNING_RATE = 0.05
CHECK_RTOL = 1e-10
CHECK_ATOL = 1e-12

MODEL = nn.serial(
    nn.Conv(CHANNELS[1], (3, 3), padding="SAME"),
    nn.Relu,
    nn.MaxPool((2, 2)),
    nn.Conv(CHANNELS[2], (3, 3), padding="SAME"),
    nn.Relu,
    nn.MaxPool((2, 2)),
    nn.Flatten,
    nn.Dense(NUM_CLASSES),
)


# --- fgrad -------------------------------------------------------------------------------------


def fgrad_loss(params, x, y):
    return losses.softmax_cross_entropy(MODEL.apply(params, x), y)


def fgrad_step(params, x, y):
    loss, grads = fgrad.value_and_grad(fgrad_loss)(params, x, y)
    new = fgrad.tree.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)
    return new, loss, grads


# --- hand-written NumPy ------------------------------------------------------------------------


def conv_forward(x, W, b):
    """SAME 3x3 convolution, NHWC/HWIO: im2col view, one matrix product."""
    n, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = sliding_window_view(padded, (3, 3), axis=(1, 2)).reshape(n * h * w, c * 9)
    weights = W.transpose(2, 0, 1, 3).reshape(c * 9, -1)
    return (cols @ weights).reshape(n, h, w, -1) + b.reshape(-1), cols


def conv_backward(d_out, cols, x_shape, W):
    n, h, w, c = x_shape
    out_c = W.shape[-1]
    d_flat = d_out.reshape(-1, out_c)
    d_weights = (cols.T @ d_flat).reshape(c, 3, 3, out_c).transpose(1, 2, 0, 3)
    d_b = d_flat.sum(0).reshape(1, 1, 1, out_c)
    d_cols = (d_flat @ W.transpose(2, 0, 1, 3).reshape(c * 9, out_c).T).reshape(n, h, w, c, 3, 3)
    d_padded = np.zeros((n, h + 2, w + 2, c))
    for i in range(3):
        for j in range(3):
            d_padded[:, i : i + h, j : j + w, :] += d_cols[..., i, j]
    return d_padded[:, 1:-1, 1:-1, :], d_weights, d_b


def pool_forward(h):
    n, hh, ww, c = h.shape
    windows = h.reshape(n, hh // 2, 2, ww // 2, 2, c).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(n, hh // 2, ww // 2, c, 4)
    first = windows.argmax(-1)  # the first maximum, as fgrad and JAX
    return np.take_along_axis(windows, first[..., None], -1)[..., 0], first


def pool_backward(d_out, first, shape):
    n, hh, ww, c = shape
    d_windows = (first[..., None] == np.arange(4)) * d_out[..., None]
    d_windows = d_windows.reshape(n, hh // 2, ww // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3)
    return d_windows.reshape(shape)


def numpy_step(params, x, y):
    (W1, b1), _, _, (W2, b2), _, _, _, (W3, b3) = params
    a1, cols1 = conv_forward(x, W1, b1)
    r1 = np.maximum(a1, 0)
    p1, first1 = pool_forward(r1)
    a2, cols2 = conv_forward(p1, W2, b2)
    r2 = np.maximum(a2, 0)
    p2, first2 = pool_forward(r2)
    flat = p2.reshape(len(x), -1)
    logits = flat @ W3 + b3
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()

    d_logits = np.exp(log_probs)
    d_logits[np.arange(len(y)), y] -= 1
    d_logits /= len(y)
    dW3, db3 = flat.T @ d_logits, d_logits.sum(0)
    d_p2 = (d_logits @ W3.T).reshape(p2.shape)
    d_a2 = pool_backward(d_p2, first2, r2.shape) * (a2 > 0)
    d_p1, dW2, db2 = conv_backward(d_a2, cols2, p1.shape, W2)
    d_a1 = pool_backward(d_p1, first1, r1.shape) * (a1 > 0)
    _, dW1, db1 = conv_backward(d_a1, cols1, x.shape, W1)
    grads = ((dW1, db1), (), (), (dW2, db2), (), (), (), (dW3, db3))
    new = fgrad.tree.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)
    return new, loss, grads


# --- PyTorch -----------------------------------------------------------------------------------


def torch_column(torch, params, x, y):
    """PyTorch eager, float64, NCHW: parameters converted once, as a user would keep them."""
    F = torch.nn.functional
    (W1, b1), _, _, (W2, b2), _, _, _, (W3, b3) = params

    def conv_weight(W):
        return torch.tensor(W.transpose(3, 2, 0, 1).copy(), requires_grad=True)

    def bias(b):
        return torch.tensor(b.reshape(-1), requires_grad=True)

    dense = torch.tensor(W3, requires_grad=True)
    tensors = [conv_weight(W1), bias(b1), conv_weight(W2), bias(b2), dense, bias(b3)]
    tx = torch.tensor(x.transpose(0, 3, 1, 2).copy())
    ty = torch.tensor(y)

    def step():
        w1, c1, w2, c2, w3, c3 = tensors
        h = F.max_pool2d(F.relu(F.conv2d(tx, w1, c1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, c2, padding=1)), 2)
        logits = h.permute(0, 2, 3, 1).reshape(len(ty), -1) @ w3 + c3
        loss = F.cross_entropy(logits, ty)
        grads = torch.autograd.grad(loss, tensors)
        with torch.no_grad():
            new = [t - LEARNING_RATE * g for t, g in zip(tensors, grads)]
        return new, loss, grads

    def as_numpy_grads(grads):
        g = [t.detach().numpy() for t in grads]
        return (
            (g[0].transpose(2, 3, 1, 0), g[1].reshape(1, 1, 1, -1)), (), (),
            (g[2].transpose(2, 3, 1, 0), g[3].reshape(1, 1, 1, -1)), (), (), (), (g[4], g[5]),
        )  # fmt: skip

    return step, as_numpy_grads


# --- main --------------------------------------------------------------------------------------


def check(name, loss, grads, reference) -> None:
    _, ref_loss, ref_grads = reference
    np.testing.assert_allclose(float(loss), float(ref_loss), rtol=CHECK_RTOL, err_msg=name)
    got = fgrad.tree.tree_leaves(grads)
    want = fgrad.tree.tree_leaves(ref_grads)
    assert len(got) == len(want), name
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=CHECK_RTOL, atol=CHECK_ATOL, err_msg=name)


def main() -> int:
    rounds = ARGS.rounds if ARGS is not None else 9
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(BATCH, 8, 8, 1))
    y = rng.integers(0, NUM_CLASSES, BATCH)
    _, params = MODEL.init(random.key(0), (-1, 8, 8, 1))
    jitted = fgrad.jit(fgrad_step)

    reference = numpy_step(params, x, y)
    for name, step in (("fgrad eager", fgrad_step), ("fgrad.jit", jitted)):
        _, loss, grads = step(params, x, y)
        check(name, loss, grads, reference)
    steps = {
        "numpy": lambda: numpy_step(params, x, y),
        "fgrad eager": lambda: fgrad_step(params, x, y),
        "fgrad.jit": lambda: jitted(params, x, y),
    }
    peers = Peers({"torch"})
    if peers.torch is not None:
        torch_step, as_numpy = torch_column(peers.torch, params, x, y)
        _, loss, grads = torch_step()
        check("torch eager", loss.item(), as_numpy(grads), reference)
        steps["torch eager"] = torch_step
        print("peers:", ", ".join(f"{k} {v}" for k, v in peers.versions().items()))

    timings = time_interleaved(steps, rounds, block_s=0.3, slow_s=0.1, slow_rounds=rounds)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"W6 digits-CNN training step, batch {BATCH} of 8x8x1, channels {CHANNELS[1:]}, "
          f"float64, numpy {np.__version__}, OpenBLAS threads {threads}")  # fmt: skip
    for name, timing in timings.items():
        median = statistics.median(t for t in timing.times if t is not None)
        ratio = statistics.median(timing.ratios)
        print(f"  {name:14s} {median * 1e3:9.3f} ms   {ratio:6.2f}x numpy (paired)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
