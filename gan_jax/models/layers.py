"""Pieces shared by the model families: activations by name, initialisers, spectral norm.

Kept in one place so that `mlp.py` and `dcgan.py` agree on what `model.activation`,
`model.spectral_norm` and the DCGAN initialisation mean.
"""

import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS = {
    'relu': nn.relu,
    'leaky_relu': functools.partial(nn.leaky_relu, negative_slope=0.2),
    'elu': nn.elu,
    'gelu': nn.gelu,
    'tanh': jnp.tanh,
    'silu': nn.silu,
}

# Radford et al. (2015): every weight drawn from N(0, 0.02).
dcgan_kernel_init = nn.initializers.normal(stddev=0.02)

# The momentum of every BatchNorm's running statistics. Faster than flax's 0.99 default
# because the running statistics are used soon after training starts: the generator's to
# sample in eval mode, the discriminator's for the per-example penalties (GP, R1).
BATCH_NORM_MOMENTUM = 0.9


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
  """The activation function called `name`; a ValueError naming `model.activation` if unknown."""
  if name not in ACTIVATIONS:
    raise ValueError(f'config.model.activation={name!r} is unknown; '
                     f'known: {", ".join(sorted(ACTIVATIONS))}.')
  return ACTIVATIONS[name]


def dcgan_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
  """BatchNorm scale initialiser N(1, 0.02), as in the DCGAN reference code."""
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def batch_norm(train: bool) -> nn.BatchNorm:
  """A BatchNorm over the last axis: batch statistics when training, running ones otherwise."""
  return nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM,
                      scale_init=dcgan_scale_init)


def apply_layer(layer: nn.Module, x: jax.Array, *, spectral_norm: bool,
                train: bool) -> jax.Array:
  """Applies `layer` to `x`, spectrally normalising its kernel when `spectral_norm` is set.

  Must be called inside a compact method, so that the wrapper belongs to the caller.
  The power-iteration vector `u` and the estimate `sigma` live in the 'batch_stats'
  collection next to the BatchNorm statistics, so callers handle a single mutable
  collection; they advance (one power-iteration step per call) only when `train` is set.

  Note that flax writes the kernel back already divided by its first sigma estimate at
  init, so the stored kernel has spectral norm about 1 rather than the scale its
  `kernel_init` drew. The layer's function does not depend on that scale (W / sigma(W)
  is scale-free), but the size of optimizer steps relative to the weights does.
  """
  if not spectral_norm:
    return layer(x)
  return nn.SpectralNorm(layer, collection_name='batch_stats')(x, update_stats=train)


def is_image_shape(data_shape: tuple) -> bool:
  """True for one image's (H, W, C), False for one point's (D,); a ValueError otherwise."""
  if len(data_shape) not in (1, 3) or any(int(d) <= 0 for d in data_shape):
    raise ValueError(f'data_shape={tuple(data_shape)} is neither an image (H, W, C) nor a '
                     'point (D,) with positive sizes.')
  return len(data_shape) == 3
