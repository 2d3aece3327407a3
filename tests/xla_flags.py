"""The XLA flags of the test suite, for its own process and for its child processes.

The tests compile hundreds of tiny programs and run each for a few steps, so XLA's CPU
backend optimisation (LLVM) costs more than it saves: a tiny edges2fashion_pix2pix run
spends 20.1 s compiling at the default level and 11.9 s at level 0
(`benchmarks/tiny_run_compile_time.py`). Every comparison in the suite is between
programs compiled alike, or against references with tolerances.

`conftest.py` adds FAST_COMPILE to the test process's flags (with 8 fake devices); child
processes (CLI runs, kills, two-process runs, notebooks) get FAST_COMPILE alone, so one
real CPU device.
"""

FAST_COMPILE = '--xla_backend_optimization_level=0'
