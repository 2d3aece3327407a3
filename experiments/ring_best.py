"""The best gan_jax recipe found so far on the 8-Gaussian ring (docs/results.md, mode coverage).

The VEEGAN-sized networks (z 256, G and D 2x128 ReLU) with packing m = 4 (a batch of
2,048 points, 512 packs), learning rates of 1e-3 decaying linearly to 0, 25,000 steps.
What it scores over seeds 0-4, and the command, are in
docs/results.md#mode-coverage-on-the-2-d-benchmarks. One seed per run; pick it with
--config.seed.
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`experiments/mixture_study.py:ring,gan+pack4+decay+lr1e3`."""
  return config_from_file(pathlib.Path(__file__).resolve().parent / 'mixture_study.py',
                          'ring,gan+pack4+decay+lr1e3')
