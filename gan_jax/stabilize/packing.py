"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

A packed example is m consecutive examples of a batch joined along the feature axis
(points: (m * D,); images: channels, (H, W, m * C)), real packs from real examples and
fake packs from fake ones. A generator that collapses makes packs whose members look
alike, which a discriminator seeing m samples together can detect.
"""

import jax
import jax.numpy as jnp


def packed_shape(data_shape: tuple, pack: int) -> tuple:
  """The shape of one packed example made of `pack` examples of `data_shape`."""
  data_shape = tuple(int(d) for d in data_shape)
  return (*data_shape[:-1], data_shape[-1] * int(pack))


def pack(x: jax.Array, pack_size: int) -> jax.Array:
  """Joins groups of `pack_size` consecutive examples: (B, ..., C) -> (B / m, ..., m * C).

  Consecutive rows are grouped so that a batch sharded over devices packs within each
  device (the per-device batch divides by m when the global one divides by m * devices).
  """
  if pack_size == 1:
    return x
  batch = x.shape[0]
  if batch % pack_size:
    raise ValueError(f'config.stabilize.pack={pack_size} does not divide the batch of {batch} '
                     'examples the discriminator sees.')
  grouped = x.reshape(batch // pack_size, pack_size, *x.shape[1:])
  # (B/m, m, ..., C) -> (B/m, ..., m, C) -> (B/m, ..., m * C): member j fills channels
  # [j * C, (j + 1) * C), as concatenating the members along the last axis would.
  grouped = jnp.moveaxis(grouped, 1, -2)
  return grouped.reshape(*grouped.shape[:-2], pack_size * x.shape[-1])
