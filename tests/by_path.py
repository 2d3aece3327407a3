"""Imports the repository's experiment and benchmark files by path: neither folder is a package."""

import importlib.util
import pathlib

from absl import flags

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / 'experiments'
BENCHMARKS = ROOT / 'benchmarks'


def load_module(path):
  """The module in the Python file `path`, executed fresh, named after the file."""
  path = pathlib.Path(path)
  spec = importlib.util.spec_from_file_location(path.stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_benchmark(name: str):
  """benchmarks/<name>.py as a module. The absl flags it defines are taken out of the
  global registry again, so that benchmarks sharing flag names (--runs, --out) load into
  one test process, and one benchmark loads twice; tests call their functions, not
  their flags."""
  before = set(flags.FLAGS)
  module = load_module(BENCHMARKS / f'{name}.py')
  for flag_name in set(flags.FLAGS) - before:
    delattr(flags.FLAGS, flag_name)
  return module
