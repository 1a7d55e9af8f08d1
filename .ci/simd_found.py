"""Print the SIMD extensions NumPy found on this CPU beyond its baseline, comma-separated.

These are what ``numpy.show_runtime()`` lists as "found": the dispatched features the CPU
supports. Setting ``NPY_DISABLE_CPU_FEATURES`` to this list makes NumPy use its baseline
code paths only; run with it set, the script prints an empty line.
"""

try:
    from numpy._core import _multiarray_umath as umath  # NumPy 2
except ImportError:
    from numpy.core import _multiarray_umath as umath  # NumPy 1.26

print(",".join(f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)))
