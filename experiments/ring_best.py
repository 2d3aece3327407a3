"""The best gan_jax recipe found so far on the 8-Gaussian ring (README, mode-coverage table).

PacGAN's networks (z 2, G 4x400 BatchNorm+ReLU, D 3x200 maxout with 5 pieces) with
packing m = 4 (400 points, 100 packs per batch), learning rates decaying linearly to 0,
50,000 steps. One seed per run; pick it with --config.seed.
"""

import importlib.util
import pathlib


def get_config():
  """`experiments/mixture_study.py:ring,pacgan4+decay+long`."""
  path = pathlib.Path(__file__).resolve().parent / 'mixture_study.py'
  spec = importlib.util.spec_from_file_location('mixture_study', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config('ring,pacgan4+decay+long')
