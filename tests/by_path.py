"""Imports the repository's experiment and benchmark files by path: neither folder is a package."""

import importlib.util
import pathlib

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
  """benchmarks/<name>.py as a module."""
  return load_module(BENCHMARKS / f'{name}.py')
