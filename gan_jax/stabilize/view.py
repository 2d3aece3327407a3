"""What the discriminator sees of a batch: DiffAugment, then PacGAN packing.

Every input of the discriminator, real or fake, in both sides' updates, goes through the
same view, so D never learns to tell augmented from plain or packed from single
examples. Penalties (GP, R1) act on the viewed inputs, the ones the critic judges.
"""

from typing import Callable

import jax

from gan_jax.stabilize import augment
from gan_jax.stabilize import packing


def make_view(stabilize_config, data_shape: tuple) -> Callable[[jax.Array, jax.Array], jax.Array]:
  """`view(x, key)`: `stabilize.diffaugment` with its own draw per call, then `stabilize.pack`."""
  pack_size = int(stabilize_config.pack)
  policy = augment.parse_policy(stabilize_config.diffaugment)
  if policy and len(data_shape) != 3:
    raise ValueError(f'config.stabilize.diffaugment={stabilize_config.diffaugment!r} needs '
                     f'images (H, W, C), but the data has examples of shape {tuple(data_shape)}.')

  def view(x: jax.Array, key: jax.Array) -> jax.Array:
    if policy:
      x = augment.diff_augment(x, key, policy)
    return packing.pack(x, pack_size)

  return view
