"""Differentiable ``numpy.fft``.

The functions declared for this namespace in ``fgrad/_rules/fft.py``: the complex, real
and inverse transforms in 1, 2 and N dimensions (``fft ifft rfft irfft fft2 ifft2 rfft2
irfft2 fftn ifftn rfftn irfftn``), ``fftshift``/``ifftshift``, and NumPy's ``fftfreq`` and
``rfftfreq``. Gradients follow JAX's convention for complex values (``docs/complex.md``).

Examples
--------
>>> x = np.array([1.0, 2.0, 0.5, -1.0])
>>> fgrad.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.rfft(x))))(x).round(3)
array([ 2.164,  0.986,  1.836, -0.986])
"""

from typing import Any as _Any

from fgrad._rules import declare as _declare

globals().update(_declare.exports("numpy.fft"))

__all__ = sorted(_declare.exports("numpy.fft"))


def __getattr__(name: str) -> _Any:
    raise AttributeError(_declare.missing("numpy.fft", name))
