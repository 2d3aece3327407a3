"""Fully connected generator and discriminator (Goodfellow et al., 2014), for points and images.

The original paper's players were small MLPs; here the depth, widths and activation
come from the config (`model.hidden_dims`, `model.activation`), so the same family
serves the 2-D toy distributions (linear output) and small images (tanh output, since
images are scaled to [-1, 1]). There is no BatchNorm: train and eval modes differ only
in whether the spectral-norm power iteration advances.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import layers


class MLPGenerator(nn.Module):
  """Maps noise (B, latent_dim) to examples (B, *data_shape) through a fully connected net."""
  data_shape: tuple[int, ...]
  hidden_dims: tuple[int, ...] = (256, 256)
  activation: str = 'leaky_relu'

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
    """Generates a batch; `train` is accepted for a uniform interface and changes nothing."""
    del train
    act = layers.get_activation(self.activation)
    h = jnp.asarray(z, jnp.float32)
    for width in self.hidden_dims:
      h = act(nn.Dense(width)(h))
    h = nn.Dense(math.prod(self.data_shape))(h)
    if layers.is_image_shape(self.data_shape):
      h = jnp.tanh(h)  # Images live in [-1, 1]; points are unbounded, so stay linear.
    return h.reshape((h.shape[0], *self.data_shape))


class MLPDiscriminator(nn.Module):
  """Maps examples (B, ...) to real-vs-fake logits (B,) through a fully connected net."""
  hidden_dims: tuple[int, ...] = (256, 256)
  activation: str = 'leaky_relu'
  spectral_norm: bool = False  # Normalise every Dense kernel, the output layer included.

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    """Scores a batch; `train` advances the spectral-norm power iteration (mutable batch_stats)."""
    act = layers.get_activation(self.activation)
    h = jnp.asarray(x, jnp.float32).reshape((x.shape[0], -1))
    for width in self.hidden_dims:
      h = act(layers.apply_layer(nn.Dense(width), h, spectral_norm=self.spectral_norm,
                                 train=train))
    logits = layers.apply_layer(nn.Dense(1), h, spectral_norm=self.spectral_norm, train=train)
    return logits[:, 0]


def make_models(model_config, data_shape: tuple) -> tuple[nn.Module, nn.Module]:
  """The (generator, discriminator) pair for `model_config` and examples of `data_shape`."""
  data_shape = tuple(int(d) for d in data_shape)
  layers.is_image_shape(data_shape)  # Rejects impossible shapes before any tracing.
  layers.get_activation(model_config.activation)  # Same for the activation name.
  hidden_dims = tuple(int(w) for w in model_config.hidden_dims)
  generator = MLPGenerator(data_shape=data_shape, hidden_dims=hidden_dims,
                           activation=model_config.activation)
  discriminator = MLPDiscriminator(hidden_dims=hidden_dims, activation=model_config.activation,
                                   spectral_norm=bool(model_config.spectral_norm))
  return generator, discriminator
