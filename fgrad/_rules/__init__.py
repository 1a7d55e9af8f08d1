"""Primitive rules: each NumPy function's forward, VJPs and declaration, one family per module.

Modules, in import order (each imports only those before it): ``helpers`` and ``declare``
(the declaration API), ``linear``, ``elementwise``, ``shape``, ``indexing``, ``sorting``,
``logic``, ``calculus``, ``reductions``, ``products``, ``linalg``, ``special``, ``conv``, ``fft``,
``creation``, then ``tracer_methods``, which gives ``Tracer`` its operators and NumPy's
dispatch protocols. Importing this package declares every function (see
``declare.DECLARATIONS``).
"""

from fgrad._rules import (  # noqa: F401  (imported to declare their functions)
    calculus,
    conv,
    creation,
    elementwise,
    fft,
    indexing,
    linalg,
    linear,
    logic,
    products,
    reductions,
    shape,
    sorting,
    special,
    tracer_methods,
)
