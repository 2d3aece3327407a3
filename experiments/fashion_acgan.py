"""AC-GAN (Odena et al. 2017) on 28x28 Fashion-MNIST: `fashion_cgan.py` with a class head in D.

Everything as in `experiments/fashion_cgan.py` (data, nets, steps, evaluation) except
the discriminator: an auxiliary 10-way classifier on D's features instead of the
projection term, trained on the real labels in D's loss and on the requested labels in
G's loss (weights 1, the paper's).
  python -m gan_jax.main --config=experiments/fashion_acgan.py --workdir=runs/fashion_acgan \
      --config.data.name=idx --config.data.path=/usr/share/datasets/fashion-mnist
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`fashion_cgan.py` with game.conditional.d_conditioning='acgan'."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'fashion_cgan.py')
  config.game.conditional.d_conditioning = 'acgan'
  return config
