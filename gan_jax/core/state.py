"""GameState: every player's variables, one optimizer state per side, the EMAs, step and key.

One `flax.struct.PyTreeNode` holds everything a run needs to continue, so that
checkpointing, sharding and buffer donation all treat it as a single tree. Players are
keyed by name (`'g'`, `'d'` for most games), so the same state serves every game.
The optax transforms are not in it: they are rebuilt from the config (see `optim.py`),
which keeps the state plain arrays and the checkpoint free of Python objects.
"""

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from gan_jax import games
from gan_jax.core import optim
from gan_jax import parallel

PyTree = Any

# Bumped when the state's tree changes; checkpoints record it (see `checkpoint.py`).
# 1: fixed g_*/d_* fields (before games); 2: players by name.
STATE_FORMAT = 2


class GameState(struct.PyTreeNode):
  """The complete training state of a game (one pytree)."""
  step: jax.Array  # Generator-side updates done so far (int32 scalar).
  key: jax.Array  # Base PRNG key; step randomness is fold_in(key, step).
  params: dict  # Player name -> parameters.
  batch_stats: dict  # Player name -> BatchNorm statistics and spectral-norm vectors.
  opt: dict  # Side ('d', 'g') -> optax state over {player: params} of that side's players.
  ema: dict  # Player name -> exponential moving average of its params (a copy when EMA is off).
  extra: PyTree  # The game's own buffers (e.g. an image pool); {} for most games.


# The name older code and notebooks used; the state is the same object.
GANState = GameState


def side_params(state_params: dict, players: tuple[str, ...]) -> dict:
  """{player: params} of `players`, the tree a side's optimizer updates."""
  return {name: state_params[name] for name in players}


def init_state(config, data_shape: tuple, key: jax.Array, num_classes: int = 0) -> GameState:
  """A fresh GameState for `config` and examples of `data_shape` (pure; jit-able)."""
  game = games.make_game(config, data_shape, num_classes)
  optimizers = optim.make_optimizers(config)
  params, batch_stats = game.init_players(key)
  return GameState(
      step=jnp.zeros((), jnp.int32),
      key=game.state_key(key),
      params=params,
      batch_stats=batch_stats,
      opt={side: optimizers[side].init(side_params(params, players))
           for side, players in game.sides.items()},
      ema={name: jax.tree.map(jnp.copy, params[name]) for name in game.ema_players},
      extra=game.init_extra(jax.random.fold_in(key, 1)),
  )


def create_state(config, data_shape: tuple, mesh=None, num_classes: int = 0) -> GameState:
  """Initialises the state directly in its sharding (replicated over `mesh`)."""
  mesh = parallel.make_mesh() if mesh is None else mesh
  init = jax.jit(lambda key: init_state(config, data_shape, key, num_classes),
                 out_shardings=parallel.replicated(mesh))
  return init(jax.random.PRNGKey(config.seed))


def abstract_state(config, data_shape: tuple, mesh, num_classes: int = 0) -> GameState:
  """Shapes, dtypes and shardings of the state, without allocating it (for restoring)."""
  shapes = jax.eval_shape(lambda key: init_state(config, data_shape, key, num_classes),
                          jax.random.PRNGKey(0))
  sharding = parallel.replicated(mesh)
  return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding),
                      shapes)
