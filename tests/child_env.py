"""XLA flags for the tests' child processes (CLI runs, kills, notebooks, two-process runs).

A child gets one CPU device (none of the 8 fake ones that `conftest.py` sets for the
test process) but compiles like the rest of the suite, at XLA's optimisation level 0:
the children compile whole training programs and run them briefly.
"""

ONE_DEVICE_XLA_FLAGS = '--xla_backend_optimization_level=0'
