"""The GAN families, one module each, chosen by `config.game.name`.

  unconditional   G(z) against D(x): GAN, DCGAN, SNGAN, WGAN(-GP), every stabilizer
  conditional     G(z, y) against D(x, y): cGAN (label concat), conditional BatchNorm,
                  the projection discriminator and AC-GAN's auxiliary classifier
  infogan         G(z, c) against D(x) with a Q head that recovers the codes c (InfoGAN)
  semi_supervised D is a K-class classifier whose logsumexp is its real/fake logit, G
                  trained by feature matching (Salimans et al. 2016); few labels
  pix2pix         U-Net G(src) against a conditional PatchGAN D(src, dst), plus L1 to
                  the target (Isola et al. 2017); paired images
  cyclegan        G_ab, G_ba against PatchGANs D_a, D_b: least squares, cycle and
                  identity terms, a history pool (Zhu et al. 2017); unpaired images
  srgan           SRResNet G(LR) -> 4x HR against SRGAN's D(HR), with a pixel or VGG
                  content loss (Ledig et al. 2017); LR made by bicubic /4

Adding a family: one module with a `Game` subclass (see `base.py`), one line in GAMES,
one test in `tests/test_games.py`.
"""

from gan_jax.games.base import STABILIZERS, Context, Game
from gan_jax.games.conditional import Conditional
from gan_jax.games.cyclegan import CycleGAN
from gan_jax.games.infogan import InfoGAN
from gan_jax.games.pix2pix import Pix2Pix
from gan_jax.games.semi_supervised import SemiSupervised
from gan_jax.games.srgan import SRGAN
from gan_jax.games.unconditional import Unconditional

# Name -> Game class.
GAMES = {
    'unconditional': Unconditional,
    'conditional': Conditional,
    'infogan': InfoGAN,
    'semi_supervised': SemiSupervised,
    'pix2pix': Pix2Pix,
    'cyclegan': CycleGAN,
    'srgan': SRGAN,
}


def get_game_class(name: str) -> type:
  """The Game class registered as `name`; a ValueError listing the known names otherwise."""
  if name not in GAMES:
    raise ValueError(f'config.game.name={name!r} is unknown; known: {", ".join(sorted(GAMES))}.')
  return GAMES[name]


def make_game(config, data_shape: tuple, num_classes: int = 0) -> Game:
  """The game of `config.game.name` for examples of `data_shape` with `num_classes` labels."""
  return get_game_class(config.game.name)(config, data_shape, num_classes)


__all__ = ['GAMES', 'STABILIZERS', 'Context', 'Game', 'get_game_class', 'make_game']
