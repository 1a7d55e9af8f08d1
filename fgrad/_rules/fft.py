"""Discrete Fourier transforms: ``numpy.fft``'s complex, real and inverse transforms, 1-D to N-D.

Every transform is linear, so its VJP is its transpose, applied to the cotangent with the
same lengths, axes and ``norm`` (JAX's convention: the transpose of the linear map, not its
adjoint; ``docs/complex.md``), then fitted back to the input's lengths (the transpose of
zero-padding is truncation and the other way round):

- ``fft``/``ifft``: the DFT matrix is symmetric, so the transpose is the same transform.
- ``rfft``: the complex transform's first ``n // 2 + 1`` outputs; the transpose is ``fft``
  of the cotangent zero-padded to ``n`` (the real input's cotangent is its real part).
- ``irfft``: linear over the reals only (it reads the complex input through its Hermitian
  extension); the transpose is ``c * scale * conj(rfft(g))``, ``c`` counting each
  non-redundant frequency twice except the zero and Nyquist ones.

Every transform is one primitive with the axes counted from the end, so a batch axis in
front (``vmap``) changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fgrad._core import Primitive, Tracer
from fgrad._rules import batching
from fgrad._rules.declare import export, reexport_numpy
from fgrad._rules.elementwise import conjugate
from fgrad._rules.helpers import ndim_of, shape_of
from fgrad._rules.linear import getitem
from fgrad._rules.shape import pad, roll

NORMS = ("backward", "ortho", "forward")


_ONE_AXIS: dict[str, Callable[..., Any]] = {
    "fft": np.fft.fft, "ifft": np.fft.ifft, "rfft": np.fft.rfft, "irfft": np.fft.irfft
}  # fmt: skip
_AXES: dict[str, Callable[..., Any]] = {
    "fft": np.fft.fftn, "ifft": np.fft.ifftn, "rfft": np.fft.rfftn, "irfft": np.fft.irfftn
}  # fmt: skip


def _impl(x: Any, *, kind: str, s: tuple[int, ...], axes: tuple[int, ...], norm: str) -> Any:
    if len(axes) == 1:
        return _ONE_AXIS[kind](x, n=s[0], axis=axes[0], norm=norm)
    return _AXES[kind](x, s=s, axes=axes, norm=norm)


def _fit(ct: Any, shape: tuple[int, ...], axes: Sequence[int]) -> Any:
    """``ct`` truncated or zero-padded along ``axes`` to the lengths of ``shape``."""
    index: list[Any] = [slice(None)] * ndim_of(ct)
    widths = [(0, 0)] * ndim_of(ct)
    for axis in axes:
        have, want = shape_of(ct)[axis], shape[axis]
        if have > want:
            index[axis] = slice(0, want)
        elif have < want:
            widths[axis] = (0, want - have)
    if any(s != slice(None) for s in index):
        ct = getitem(ct, tuple(index))
    if any(w != (0, 0) for w in widths):
        ct = pad(ct, widths)
    return ct


def _irfft_weights(n: int, length: int) -> np.ndarray:
    """How often each of the ``length`` stored frequencies counts in a Hermitian signal of ``n``."""
    weights = np.full(length, 2.0)
    weights[0] = 1.0
    if n % 2 == 0 and length > n // 2:
        weights[n // 2] = 1.0
    return weights


def _scale(norm: str, total: int) -> float:
    return {"backward": 1.0 / total, "ortho": 1.0 / math.sqrt(total), "forward": 1.0}[norm]


def _vjp(
    g: Any, ans: Any, x: Any, *, kind: str, s: tuple[int, ...], axes: tuple[int, ...], norm: str
) -> Any:
    if kind in ("fft", "ifft"):
        ct = _FFT(g, kind=kind, s=s, axes=axes, norm=norm)
    elif kind == "rfft":
        ct = _FFT(g, kind="fft", s=s, axes=axes, norm=norm)
    else:
        spectrum = _FFT(g, kind="rfft", s=s, axes=axes, norm="backward")
        last = shape_of(spectrum)[axes[-1]]
        weights = _irfft_weights(s[-1], last).reshape((last,) + (1,) * (-axes[-1] - 1))
        ct = conjugate(spectrum) * (weights * _scale(norm, math.prod(s)))
    return _fit(ct, shape_of(x), axes)


_FFT = Primitive("fft", _impl, (_vjp,), batch=batching.leading)


def _check_norm(norm: Any, fn: str) -> str:
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise ValueError(f"{fn}: norm must be one of {NORMS} or None, got {norm!r}")
    return str(norm)


def _transform(
    kind: str, fn: str, x: Any, s: Any, axes: Any, norm: Any, default_axes: tuple[int, ...] | None
) -> Any:
    """``kind`` of ``x`` over ``axes`` (negative, from the end) with output lengths ``s``."""
    norm = _check_norm(norm, fn)
    ndim = ndim_of(x)
    if axes is None:
        axes = default_axes if default_axes is not None else tuple(range(-ndim, 0))
        if s is not None and default_axes is None:
            axes = tuple(range(-len(s), 0))
    axes = tuple(int(a) for a in np.atleast_1d(axes))
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{fn}: axis {a} is out of bounds for an array of {ndim} dimension(s)")
    axes = tuple(a - ndim if a >= 0 else a for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{fn}: repeated axes {axes} (fgrad transforms each axis once)")
    shape = shape_of(x)
    if s is None:
        lengths = [shape[a] for a in axes]
        if kind == "irfft":
            lengths[-1] = 2 * (lengths[-1] - 1)
        s = tuple(lengths)
    s = tuple(int(n) for n in np.atleast_1d(s))
    if len(s) != len(axes):
        raise ValueError(f"{fn}: s has {len(s)} lengths for {len(axes)} axes")
    if any(n < 1 for n in s):
        raise ValueError(f"{fn}: every transform length must be positive, got {s}")
    if x.__class__ is not Tracer:
        return _impl(x, kind=kind, s=s, axes=axes, norm=norm)
    return _FFT(x, kind=kind, s=s, axes=axes, norm=norm)


def _one_axis(n: int | None, axis: int) -> tuple[Any, tuple[int, ...]]:
    return (None if n is None else (n,)), (axis,)


@export("fft.fft")
def fft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.fft``: the 1-D discrete Fourier transform.

    Gradient: ``fft`` of the cotangent (the DFT matrix is symmetric), cut or zero-padded back
    to the input's length.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 0.5, -1.0])
    >>> fgrad.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.fft(x)) ** 2))(x)  # Parseval: 2 N x
    array([ 8., 16.,  4., -8.])
    """
    s, axes = _one_axis(n, axis)
    return _transform("fft", "fft.fft", a, s, axes, norm, axes)


@export("fft.ifft")
def ifft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.ifft``: the 1-D inverse discrete Fourier transform.

    Gradient: ``ifft`` of the cotangent, fitted to the input's length.

    Examples
    --------
    >>> x = np.array([1.0, -0.5, 2.0])
    >>> fgrad.check_grads(lambda x: fnp.real(fnp.fft.ifft(x * (1 + 2j))), (x,))
    """
    s, axes = _one_axis(n, axis)
    return _transform("ifft", "fft.ifft", a, s, axes, norm, axes)


@export("fft.rfft")
def rfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.rfft``: a real signal's ``n // 2 + 1`` frequencies.

    Gradient: the real part of ``fft`` of the cotangent zero-padded to ``n``.

    Examples
    --------
    >>> x = np.array([1.0, -0.5, 2.0, 0.3])
    >>> fgrad.check_grads(lambda x: fnp.imag(fnp.fft.rfft(x)), (x,))
    """
    s, axes = _one_axis(n, axis)
    return _transform("rfft", "fft.rfft", a, s, axes, norm, axes)


@export("fft.irfft")
def irfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.irfft``: the real signal of length ``n`` with spectrum ``a``.

    Gradient (in JAX's convention for a map that is linear over the reals only): the
    cotangent's ``rfft``, conjugated, with the non-redundant frequencies counted twice.

    Examples
    --------
    >>> spectrum = np.array([1.0 + 0.0j, 0.5 - 1.0j, 2.0 + 0.0j])
    >>> fgrad.check_grads(lambda z: fnp.fft.irfft(z), (spectrum,))
    """
    s, axes = _one_axis(n, axis)
    return _transform("irfft", "fft.irfft", a, s, axes, norm, axes)


def _n_d(kind: str, name: str, two_d: bool) -> Any:
    default = (-2, -1) if two_d else None

    def transform(
        a: Any, s: Sequence[int] | None = None, axes: Any = None, norm: str | None = None
    ) -> Any:
        return _transform(kind, name, a, s, axes, norm, default)

    return transform


@export("fft.fft2")
def fft2(
    a: Any, s: Sequence[int] | None = None, axes: Any = (-2, -1), norm: str | None = None
) -> Any:
    """Differentiable ``numpy.fft.fft2``: the 2-D transform (over the last two axes by default).

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> fgrad.check_grads(lambda x: fnp.real(fnp.fft.fft2(x) * (1 - 1j)), (x,))
    """
    return _n_d("fft", "fft.fft2", True)(a, s, axes, norm)


@export("fft.ifft2")
def ifft2(
    a: Any, s: Sequence[int] | None = None, axes: Any = (-2, -1), norm: str | None = None
) -> Any:
    """Differentiable ``numpy.fft.ifft2``.

    Examples
    --------
    >>> fgrad.check_grads(lambda x: fnp.imag(fnp.fft.ifft2(x * 1j)), (np.eye(2, 3),))
    """
    return _n_d("ifft", "fft.ifft2", True)(a, s, axes, norm)


@export("fft.rfft2")
def rfft2(
    a: Any, s: Sequence[int] | None = None, axes: Any = (-2, -1), norm: str | None = None
) -> Any:
    """Differentiable ``numpy.fft.rfft2``.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [0.5, -3.0]])
    >>> fgrad.check_grads(lambda x: fnp.abs(fnp.fft.rfft2(x)), (x,))
    """
    return _n_d("rfft", "fft.rfft2", True)(a, s, axes, norm)


@export("fft.irfft2")
def irfft2(
    a: Any, s: Sequence[int] | None = None, axes: Any = (-2, -1), norm: str | None = None
) -> Any:
    """Differentiable ``numpy.fft.irfft2``.

    Examples
    --------
    >>> spectrum = np.fft.rfft2(np.array([[1.0, 2.0, 0.5], [0.5, -3.0, 1.0]]))
    >>> fgrad.check_grads(lambda z: fnp.fft.irfft2(z, s=(2, 3)), (spectrum,))
    """
    return _n_d("irfft", "fft.irfft2", True)(a, s, axes, norm)


@export("fft.fftn")
def fftn(a: Any, s: Sequence[int] | None = None, axes: Any = None, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.fftn``: the N-D transform (over every axis by default).

    Examples
    --------
    >>> x = np.arange(8.0).reshape(2, 2, 2) ** 1.5
    >>> fgrad.check_grads(lambda x: fnp.real(fnp.fft.fftn(x)), (x,))
    """
    return _n_d("fft", "fft.fftn", False)(a, s, axes, norm)


@export("fft.ifftn")
def ifftn(a: Any, s: Sequence[int] | None = None, axes: Any = None, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.ifftn``.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(2, 2) ** 2
    >>> fgrad.check_grads(lambda x: fnp.imag(fnp.fft.ifftn(x, s=(3, 2))), (x,))
    """
    return _n_d("ifft", "fft.ifftn", False)(a, s, axes, norm)


@export("fft.rfftn")
def rfftn(a: Any, s: Sequence[int] | None = None, axes: Any = None, norm: str | None = None) -> Any:
    """Differentiable ``numpy.fft.rfftn``.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3) ** 1.5
    >>> fgrad.check_grads(lambda x: fnp.real(fnp.fft.rfftn(x, norm="ortho")), (x,))
    """
    return _n_d("rfft", "fft.rfftn", False)(a, s, axes, norm)


@export("fft.irfftn")
def irfftn(
    a: Any, s: Sequence[int] | None = None, axes: Any = None, norm: str | None = None
) -> Any:
    """Differentiable ``numpy.fft.irfftn``.

    Examples
    --------
    >>> spectrum = np.fft.rfftn(np.array([[1.0, 2.0, 0.5, 1.5], [0.5, -3.0, 1.0, 0.0]]))
    >>> fgrad.check_grads(lambda z: fnp.fft.irfftn(z, norm="forward"), (spectrum,))
    """
    return _n_d("irfft", "fft.irfftn", False)(a, s, axes, norm)


@export("fft.fftshift")
def fftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.fft.fftshift``: the zero frequency moved to the centre (a roll).

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.fft.fftshift(x)[0])(np.arange(4.0))
    array([0., 0., 1., 0.])
    """
    axes_list = tuple(range(ndim_of(x))) if axes is None else tuple(np.atleast_1d(axes))
    return roll(x, tuple(shape_of(x)[a] // 2 for a in axes_list), axes_list)


@export("fft.ifftshift")
def ifftshift(x: Any, axes: Any = None) -> Any:
    """Differentiable ``numpy.fft.ifftshift``: the inverse of :func:`fftshift`.

    Examples
    --------
    >>> fgrad.grad(lambda x: fnp.fft.ifftshift(x)[0])(np.arange(5.0))
    array([0., 0., 1., 0., 0.])
    """
    axes_list = tuple(range(ndim_of(x))) if axes is None else tuple(np.atleast_1d(axes))
    return roll(x, tuple(-(shape_of(x)[a] // 2) for a in axes_list), axes_list)


reexport_numpy("fft.fftfreq", "fft.rfftfreq")
