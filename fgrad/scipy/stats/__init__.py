"""Differentiable ``scipy.stats``: one module per distribution, as in ``jax.scipy.stats``.

``norm`` (``pdf logpdf cdf logcdf``), ``multivariate_normal`` (``logpdf``), ``t``,
``beta`` and ``gamma`` (``logpdf``), declared in ``fgrad/_rules/scipy_stats.py``.
"""

from fgrad.scipy.stats import beta, gamma, multivariate_normal, norm, t

__all__ = ["beta", "gamma", "multivariate_normal", "norm", "t"]
