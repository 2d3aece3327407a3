"""AC-GAN (Odena et al. 2017): a class-conditional DCGAN on scikit-learn's embedded 8x8 digits.

The generator takes the digit through conditional BatchNorm; the discriminator has an
auxiliary classifier head whose class loss both players minimise (on real examples for
D, on fakes for G; weights `game.conditional.acgan_d_weight` and `acgan_g_weight`).
Otherwise the main job's DCGAN. Previews show one row per digit. Needs no download; a few minutes on two CPU cores.
  python -m gan_jax.main --config=experiments/digits_acgan.py --workdir=runs/digits_acgan
"""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN with cBN + AC-GAN D, non-saturating loss, Adam(2e-4, 0.5), EMA, 2,000 steps."""
  config = get_base_config()
  config.game.name = 'conditional'
  config.game.conditional.g_conditioning = 'cbn'
  config.game.conditional.d_conditioning = 'acgan'
  config.data.name = 'digits'
  config.model.name = 'dcgan'
  config.num_grid_samples = 80  # 8 samples of each digit, one row per digit.
  config.eval.metrics = ('class_accuracy', 'fid', 'intra_fid', 'within_class_diversity', 'kid',
                         'precision_recall', 'class_coverage')
  config.eval.extractor = 'digits8'  # LeNet-style classifier shipped with the package.
  config.eval.num_samples = 2000
  return config
