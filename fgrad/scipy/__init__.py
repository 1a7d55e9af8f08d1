"""Differentiable SciPy: ``fgrad.scipy.special``, ``fgrad.scipy.stats``, ``fgrad.scipy.linalg``.

Like ``jax.scipy`` and ``autograd.scipy``: each function has SciPy's name and signature,
calls SciPy on plain arrays and records a primitive (or a composition of them) on traced
ones, differentiable to any order. SciPy is an optional dependency (``pip install
fgrad[scipy]``); ``import fgrad`` never imports it, importing this package does.

``special``
    ``erf erfc erfinv ndtr log_ndtr ndtri expit logit gammaln digamma polygamma betaln
    xlogy xlog1py logsumexp softmax log_softmax``
``stats``
    ``norm`` (``pdf logpdf cdf logcdf``), ``multivariate_normal.logpdf``, ``t.logpdf``,
    ``beta.logpdf``, ``gamma.logpdf``
``linalg``
    ``solve_triangular cho_factor cho_solve expm``

Examples
--------
>>> from fgrad.scipy import special, stats
>>> fgrad.grad(lambda x: fnp.sum(special.erf(x)))(np.array([0.0]))
array([1.12837917])
>>> fgrad.grad(stats.norm.logpdf, argnums=2)(1.0, 0.0, 2.0)
array(-0.375)
"""

try:
    import scipy.linalg as _scipy_linalg  # noqa: F401
    import scipy.special as _scipy_special  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by tests/test_scipy.py
    raise ImportError(
        "fgrad.scipy needs SciPy, an optional dependency of fgrad: pip install fgrad[scipy] "
        f"(importing SciPy failed: {error})"
    ) from error

from fgrad.scipy import linalg, special, stats

__all__ = ["linalg", "special", "stats"]
