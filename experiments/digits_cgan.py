"""The conditional demo: a class-conditional DCGAN on scikit-learn's embedded 8x8 digits.

The generator takes the digit through conditional BatchNorm, the discriminator through
the projection term (Miyato & Koyama 2018); otherwise the main job's DCGAN. Previews
show one row per digit. Needs no download; a few minutes on two CPU cores.
  python -m gan_jax.main --config=experiments/digits_cgan.py --workdir=runs/digits_cgan
"""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN with cBN + projection D, non-saturating loss, Adam(2e-4, 0.5), EMA, 2,000 steps."""
  config = get_base_config()
  config.game.name = 'conditional'
  config.game.conditional.g_conditioning = 'cbn'
  config.game.conditional.d_conditioning = 'projection'
  config.data.name = 'digits'
  config.model.name = 'dcgan'
  config.num_grid_samples = 80  # 8 samples of each digit, one row per digit.
  config.eval.metrics = ('class_accuracy', 'fid', 'intra_fid', 'within_class_diversity', 'kid',
                         'precision_recall', 'class_coverage')
  config.eval.extractor = 'digits8'  # LeNet-style classifier shipped with the package.
  config.eval.num_samples = 2000
  return config
