"""AC-GAN (Odena et al. 2017): `digits_dcgan.py` with an auxiliary classifier in D.

Everything as in `experiments/digits_dcgan.py` (data, DCGAN nets with conditional
BatchNorm in G, steps, evaluation) except the discriminator: a 10-way classifier head on
its features instead of the projection term, whose class loss both players minimise (on
real examples for D, on fakes for G; weights `game.conditional.acgan_d_weight` and
`acgan_g_weight`, 1 as in the paper).
  python -m gan_jax.main --config=experiments/digits_acgan.py --workdir=runs/digits_acgan
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`digits_dcgan.py` with game.conditional.d_conditioning='acgan'."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'digits_dcgan.py')
  config.game.conditional.d_conditioning = 'acgan'
  return config
