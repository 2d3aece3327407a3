"""Unconditional DCGAN (Radford et al. 2015) on scikit-learn's embedded 8x8 digits.

The main job until 2026-12-03 (now `digits_dcgan.py`, which also feeds both players the
digit). Without labels the generator's samples are harder to read: an independent
classifier is confident on 72% of them after these 2,000 steps, 79% at best within 5
minutes (docs/results.md). Needs no download; under a minute on two CPU cores.
  python -m gan_jax.main --config=experiments/digits_dcgan_unconditional.py --workdir=runs/digits_dcgan_unconditional
"""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN, non-saturating loss, Adam(2e-4, 0.5), EMA generator, 2,000 steps of 64."""
  config = get_base_config()
  config.data.name = 'digits'
  config.model.name = 'dcgan'
  config.eval.metrics = ('fid', 'kid', 'precision_recall', 'density_coverage',
                         'inception_score', 'class_coverage', 'detectability')
  config.eval.extractor = 'digits8'  # LeNet-style classifier shipped with the package.
  config.eval.num_samples = 2000
  return config
