"""The MNIST networks of Salimans et al. (2016), "Improved Techniques for Training GANs".

The discriminator is a K-class classifier that also returns the features that feature
matching compares: Gaussian noise on its input (std `model.d_input_noise`, 0.3 in the
paper) and after every hidden layer (`model.d_hidden_noise`, 0.5), weight-normalised
ReLU layers of `model.d_hidden_dims` (1000-500-250-250-250) and a weight-normalised
linear layer to K class logits. It returns `(class_logits (B, K), features (B, F))`,
the features being the last hidden layer's output (after its noise), the layer whose
batch mean the paper's generator matches. The noise is drawn from `noise_key` and only
in train mode, so a step stays a pure function of (state, batch) and evaluation is
deterministic.

The generator maps noise through softplus layers of `model.g_hidden_dims` (500-500) with
BatchNorm and a weight-normalised output layer; the paper's sigmoid output for [0, 1]
pixels becomes tanh here, for images in [-1, 1].

Not reproduced: the data-dependent initialisation of the weight-normalised layers (the
state's initialisation is a pure function of the seed; scales start at 1, biases at 0).
These networks are chosen with `model.name='improved_gan'` and play only
`game.name='semi_supervised'`, whose discriminator must be a classifier.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import layers


class WeightNormDense(nn.Module):
  """y = g * (x v) / ||v|| + b, the norm taken per output unit (Salimans & Kingma 2016)."""
  features: int
  kernel_stddev: float = 0.05  # The paper's code draws v from N(0, 0.05).

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    v = self.param('kernel', nn.initializers.normal(self.kernel_stddev),
                   (x.shape[-1], self.features))
    g = self.param('scale', nn.initializers.ones, (self.features,))
    b = self.param('bias', nn.initializers.zeros, (self.features,))
    w = v * (g / jnp.sqrt(jnp.sum(v * v, axis=0) + 1e-12))
    return x @ w + b


def gaussian_noise(x: jax.Array, std: float, key: jax.Array | None, train: bool):
  """x + N(0, std^2) noise in train mode (when a key is given and std > 0); x otherwise."""
  if not train or key is None or std <= 0:
    return x
  return x + std * jax.random.normal(key, x.shape, x.dtype)


class ClassifierDiscriminator(nn.Module):
  """x (B, ...) -> (class logits (B, K), last hidden features (B, F)); noise in train mode."""
  num_classes: int
  hidden_dims: tuple[int, ...] = (1000, 500, 250, 250, 250)
  input_noise: float = 0.3
  hidden_noise: float = 0.5

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, noise_key: jax.Array | None = None):
    """Class logits and features of a batch; `noise_key` draws the noise layers' noise."""
    keys = ([None] * (len(self.hidden_dims) + 1) if noise_key is None
            else list(jax.random.split(noise_key, len(self.hidden_dims) + 1)))
    h = jnp.asarray(x, jnp.float32).reshape((x.shape[0], -1))
    h = gaussian_noise(h, self.input_noise, keys[0], train)
    for width, key in zip(self.hidden_dims, keys[1:]):
      h = nn.relu(WeightNormDense(width)(h))
      h = gaussian_noise(h, self.hidden_noise, key, train)
    return WeightNormDense(self.num_classes)(h), h


class SoftplusGenerator(nn.Module):
  """z (B, latent_dim) -> examples (B, *data_shape): softplus + BatchNorm layers, WN output."""
  data_shape: tuple[int, ...]
  hidden_dims: tuple[int, ...] = (500, 500)

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
    """Generates a batch; `train` uses and updates BatchNorm's batch statistics."""
    h = z
    for width in self.hidden_dims:
      h = nn.Dense(width, use_bias=False)(h)
      h = nn.softplus(layers.batch_norm(train)(h))
    h = WeightNormDense(math.prod(self.data_shape))(h)
    if layers.is_image_shape(self.data_shape):
      h = jnp.tanh(h)
    return h.reshape((h.shape[0], *self.data_shape))


def make_models(model_config, data_shape: tuple, num_classes: int
                ) -> tuple[nn.Module, nn.Module]:
  """The (generator, classifier discriminator) pair of `model_config` for K = `num_classes`."""
  data_shape = tuple(int(d) for d in data_shape)
  layers.is_image_shape(data_shape)
  for field in ('d_input_noise', 'd_hidden_noise'):
    if model_config[field] < 0:
      raise ValueError(f'config.model.{field}={model_config[field]} must be >= 0.')
  hidden_dims = tuple(int(w) for w in model_config.hidden_dims)
  g_hidden_dims = tuple(int(w) for w in model_config.g_hidden_dims) or hidden_dims
  d_hidden_dims = tuple(int(w) for w in model_config.d_hidden_dims) or hidden_dims
  generator = SoftplusGenerator(data_shape=data_shape, hidden_dims=g_hidden_dims)
  discriminator = ClassifierDiscriminator(
      num_classes=int(num_classes), hidden_dims=d_hidden_dims,
      input_noise=float(model_config.d_input_noise),
      hidden_noise=float(model_config.d_hidden_noise))
  return generator, discriminator
