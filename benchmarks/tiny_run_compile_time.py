"""Where a test's tiny training run spends its time: XLA compilation against the rest.

  python benchmarks/tiny_run_compile_time.py edges2fashion_pix2pix [--xla_flags=...]

Shrinks an experiment as `tests/test_train.py` does (`tests/tiny_configs.shrink`), runs
it for two steps on 8 fake CPU devices through `train_and_evaluate` under cProfile, and
prints JSON: the wall time, the time in XLA's backend compilation and the number of
programs compiled. `--xla_flags` are added to XLA_FLAGS, e.g.
`--xla_flags=--xla_backend_optimization_level=0`, the level `tests/conftest.py` sets.
"""

import argparse
import cProfile
import json
import os
import pathlib
import pstats
import sys
import tempfile
import time

TESTS = pathlib.Path(__file__).resolve().parents[1] / 'tests'


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('experiment', help='a file name in experiments/, without .py')
  parser.add_argument('--xla_flags', default='--xla_backend_optimization_level=2',
                      help='extra XLA_FLAGS (default: the XLA default level, 2)')
  args = parser.parse_args()
  # Before JAX starts: the flags, then 8 devices as in the tests.
  os.environ['XLA_FLAGS'] = (f'{os.environ.get("XLA_FLAGS", "")} {args.xla_flags} '
                             '--xla_force_host_platform_device_count=8').strip()
  os.environ.setdefault('JAX_PLATFORMS', 'cpu')
  os.environ['GAN_JAX_CACHE'] = tempfile.mkdtemp(prefix='gan_jax_compile_time_')
  sys.path.insert(0, str(TESTS))
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from by_path import EXPERIMENTS  # pylint: disable=g-import-not-at-top
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  from tiny_configs import load_experiment, shrink  # pylint: disable=g-import-not-at-top

  config = shrink(load_experiment(EXPERIMENTS / f'{args.experiment}.py'))
  config.compilation_cache = False  # Every program compiles, as in a fresh CI run.
  workdir = tempfile.mkdtemp(prefix='gan_jax_compile_time_run_')
  profile = cProfile.Profile()
  start = time.perf_counter()
  profile.enable()
  if config.data.name == 'tfds':
    with tfds.testing.mock_data(num_examples=64):
      train.train_and_evaluate(config, workdir)
  else:
    train.train_and_evaluate(config, workdir)
  profile.disable()
  wall = time.perf_counter() - start
  stats = pstats.Stats(profile).stats
  compile_calls, compile_s = 0, 0.0
  for (filename, _, function), (_, calls, _, cumulative, _) in stats.items():
    if function == 'backend_compile_and_load' and filename.endswith('compiler.py'):
      compile_calls, compile_s = calls, cumulative
  print(json.dumps({'experiment': args.experiment, 'xla_flags': args.xla_flags,
                    'wall_s': round(wall, 1), 'xla_compile_s': round(compile_s, 1),
                    'programs_compiled': compile_calls}))


if __name__ == '__main__':
  main()
