"""gan_jax: generative adversarial networks in pure-functional JAX and Flax.

The entry points a researcher reaches for first:
  - `train_and_evaluate(config, workdir)`: train from a config (see `experiments/`).
  - `make_train_step`, `make_sample_fn`, `create_state`: the jitted pieces, for notebooks.
  - `load_run(workdir)`: restore a trained run and `.sample()` from it.
  - `GAMES`, `make_game`: the GAN families (`config.game.name`), see `gan_jax/games/`.
"""

from gan_jax.games import GAMES, Game, make_game
from gan_jax.run import Run, load_run
from gan_jax.core.state import GameState, GANState, create_state
from gan_jax.core.step import make_sample_fn, make_train_step

__all__ = ['GAMES', 'GANState', 'Game', 'GameState', 'Run', 'create_state', 'load_run',
           'make_game', 'make_sample_fn', 'make_train_step', 'train_and_evaluate']


def train_and_evaluate(config, workdir):
  """Trains the GAN of `config` into `workdir` (see `gan_jax.train.train_and_evaluate`)."""
  # Imported on use: train.py is the top of the import graph and nothing imports it eagerly.
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  return train.train_and_evaluate(config, workdir)
