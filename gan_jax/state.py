"""GANState: both players, their optimizer states, the EMA generator, the step and the key.

One `flax.struct.PyTreeNode` holds everything a run needs to continue, so that
checkpointing, sharding and buffer donation all treat it as a single tree. The optax
transforms are not in it: they are rebuilt from the config (see `optim.py`), which
keeps the state plain arrays and the checkpoint free of Python objects.
"""

from typing import Any

import flax
import jax
import jax.numpy as jnp
from flax import struct

from gan_jax import models as models_lib
from gan_jax import optim
from gan_jax import packing
from gan_jax import parallel

PyTree = Any


class GANState(struct.PyTreeNode):
  """The complete training state of a GAN (one pytree)."""
  step: jax.Array  # Generator updates done so far (int32 scalar).
  key: jax.Array  # Base PRNG key; step randomness is fold_in(key, step).
  g_params: PyTree
  g_batch_stats: PyTree  # BatchNorm running statistics of the generator.
  g_opt_state: PyTree
  d_params: PyTree
  d_batch_stats: PyTree  # BatchNorm statistics and spectral-norm vectors of the discriminator.
  d_opt_state: PyTree
  ema_params: PyTree  # Exponential moving average of g_params (a copy when EMA is off).


def _init_variables(module, key, example):
  """Initialises a module's variables; returns (params, batch_stats or {})."""
  variables = flax.core.unfreeze(module.init(key, example, train=False))
  return variables['params'], variables.get('batch_stats', {})


def init_state(config, data_shape: tuple, key: jax.Array) -> GANState:
  """A fresh GANState for `config` and examples of `data_shape` (pure; jit-able)."""
  generator, discriminator = models_lib.make_models(config.model, tuple(data_shape))
  g_tx, d_tx = optim.make_optimizers(config)
  g_key, d_key, state_key = jax.random.split(key, 3)
  # Two examples rather than one: BatchNorm in train mode needs a batch to be defined.
  z = jnp.zeros((2, config.model.latent_dim), jnp.float32)
  # The discriminator judges packs of `stabilize.pack` examples (PacGAN).
  x = jnp.zeros((2, *packing.packed_shape(data_shape, config.stabilize.pack)), jnp.float32)
  g_params, g_batch_stats = _init_variables(generator, g_key, z)
  d_params, d_batch_stats = _init_variables(discriminator, d_key, x)
  return GANState(
      step=jnp.zeros((), jnp.int32),
      key=state_key,
      g_params=g_params,
      g_batch_stats=g_batch_stats,
      g_opt_state=g_tx.init(g_params),
      d_params=d_params,
      d_batch_stats=d_batch_stats,
      d_opt_state=d_tx.init(d_params),
      ema_params=jax.tree.map(jnp.copy, g_params),
  )


def create_state(config, data_shape: tuple, mesh=None) -> GANState:
  """Initialises the state directly in its sharding (replicated over `mesh`)."""
  mesh = parallel.make_mesh() if mesh is None else mesh
  init = jax.jit(lambda key: init_state(config, data_shape, key),
                 out_shardings=parallel.replicated(mesh))
  return init(jax.random.PRNGKey(config.seed))


def abstract_state(config, data_shape: tuple, mesh) -> GANState:
  """Shapes, dtypes and shardings of the state, without allocating it (for restoring)."""
  shapes = jax.eval_shape(lambda key: init_state(config, data_shape, key),
                          jax.random.PRNGKey(0))
  sharding = parallel.replicated(mesh)
  return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding),
                      shapes)
