"""The MNIST networks of Salimans et al. (2016), "Improved Techniques for Training GANs".

The discriminator is a K-class classifier that also returns the features that feature
matching compares: Gaussian noise on its input (std `model.d_input_noise`; the paper's
0.3 on [0, 1] pixels is 0.6 on the [-1, 1] images here) and after every hidden layer
(`model.d_hidden_noise`, 0.5), weight-normalised ReLU layers of `model.d_hidden_dims`
(1000-500-250-250-250) and a weight-normalised linear layer to K class logits. It
returns `(class_logits (B, K), features (B, F))`, the features being the last hidden
layer's ReLU output before its noise layer, the layer whose batch mean the paper's
generator matches (its `layers[-3]`). The noise is drawn from `noise_key` and only in
train mode, so a step stays a pure function of (state, batch) and evaluation is
deterministic.

The generator maps noise through softplus layers of `model.g_hidden_dims` (500-500) with
BatchNorm and a weight-normalised output layer; the paper's sigmoid output for [0, 1]
pixels becomes tanh here, for images in [-1, 1].

The paper's code (openai/improved-gan, `nn.DenseLayer`) initialises D's weight-normalised
layers from data and keeps the hidden layers' scales fixed; so does `data_init=True` here
(`init_d_from_data` in `games/semi_supervised.py` runs it on the first batch): each layer
sets its scale to 1/std and its bias to -mean/std of its pre-activations on that batch,
one layer after another, so every hidden unit starts with zero mean and unit variance and
the noise layers' 0.5 is half a standard deviation of the signal. With
`model.d_train_hidden_scale=False` (the paper's `train_scale=False`) the hidden layers'
scales then stay where the data put them (their gradient is stopped) and only the
directions and biases train, so the layers cannot outgrow the noise by their scales; the
output layer's scale trains.
These networks are chosen with `model.name='improved_gan'` and play only
`game.name='semi_supervised'`, whose discriminator must be a classifier.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import layers


class WeightNormDense(nn.Module):
  """y = g * (x v) / ||v|| + b, the norm taken per output unit (Salimans & Kingma 2016).

  `train_scale=False` stops the gradient of g (it keeps its initial or data-set value).
  Called with `data_init=True` (and the 'params' collection mutable), the layer sets
  g <- g * init_scale / s and b <- -m * init_scale / s, m and s the per-unit mean and
  standard deviation of x (g v / ||v||) over the batch (and over every leading axis, so a
  (B, H, W, C) input is the paper's NIN layer, a 1x1 convolution), and returns the
  outputs those new values give: the data-dependent initialisation of the paper's code.
  """
  features: int
  # The direction's draw; the paper's code: N(0, 0.1) in D (nn.DenseLayer), N(0, 0.05) in
  # its weight-normalised conv layers. Only the direction's size relative to Adam's steps depends on it.
  kernel_stddev: float = 0.05
  train_scale: bool = True
  # The std of the outputs after a data init (the code's `init_stdv`: 1, and 0.1 for the
  # CIFAR-10 and SVHN D's output layer).
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, x: jax.Array, data_init: bool = False) -> jax.Array:
    """The layer's outputs; `data_init` first sets its scale and bias from this batch."""
    v = self.param('kernel', nn.initializers.normal(self.kernel_stddev),
                   (x.shape[-1], self.features))
    g = self.param('scale', nn.initializers.ones, (self.features,))
    b = self.param('bias', nn.initializers.zeros, (self.features,))
    if not self.train_scale:
      g = jax.lax.stop_gradient(g)
    pre = x @ (v * (g / jnp.sqrt(jnp.sum(v * v, axis=0) + 1e-12)))
    if data_init:
      return init_from_batch(self, pre, g, self.init_scale)
    return pre + b


def init_from_batch(layer: nn.Module, pre: jax.Array, scale: jax.Array,
                    init_scale: float = 1.0) -> jax.Array:
  """The data-dependent init of a weight-normalised `layer` from its pre-activations `pre`.

  Per unit (the last axis), over every other axis: m the mean and s the root mean square of
  the centred `pre` (the paper's code); sets the layer's 'scale' to scale * init_scale / s
  and its 'bias' to -m * init_scale / s, and returns (pre - m) * init_scale / s, the
  outputs those values give. 'params' must be mutable.
  """
  axes = tuple(range(pre.ndim - 1))
  mean = jnp.mean(pre, axis=axes)
  inv_std = init_scale / (jnp.sqrt(jnp.mean(jnp.square(pre - mean), axis=axes)) + 1e-12)
  layer.put_variable('params', 'scale', scale * inv_std)
  layer.put_variable('params', 'bias', -mean * inv_std)
  return (pre - mean) * inv_std


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
  train_hidden_scale: bool = True
  kernel_stddev: float = 0.05
  minibatch_kernels: int = 0  # Minibatch discrimination before the output layer; 0 = off.
  minibatch_kernel_dim: int = 5

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, noise_key: jax.Array | None = None,
               data_init: bool = False):
    """Class logits and features of a batch; `noise_key` draws the noise layers' noise.

    `data_init=True` (with 'params' mutable) initialises every weight-normalised layer from
    this batch, in order, each on the outputs of the layers already initialised (and of the
    noise layers when `train`, as the paper's code does).
    """
    keys = ([None] * (len(self.hidden_dims) + 1) if noise_key is None
            else list(jax.random.split(noise_key, len(self.hidden_dims) + 1)))
    h = jnp.asarray(x, jnp.float32).reshape((x.shape[0], -1))
    h = gaussian_noise(h, self.input_noise, keys[0], train)
    features = h
    for width, key in zip(self.hidden_dims, keys[1:]):
      features = nn.relu(WeightNormDense(width, self.kernel_stddev,
                                         train_scale=self.train_hidden_scale)(h, data_init))
      h = gaussian_noise(features, self.hidden_noise, key, train)
    # Feature matching compares the last hidden layer's ReLU output before its noise layer:
    # the paper's code matches `layers[-3]`, the Dense(250) ahead of the last
    # GaussianNoiseLayer, so the fakes' features carry no noise that G cannot move. The
    # output layer (and minibatch discrimination, which the paper's CIFAR D puts just before
    # it) reads the noisy h.
    out_in = (layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(
        h, data_init) if self.minibatch_kernels else h)
    return WeightNormDense(self.num_classes, self.kernel_stddev)(out_in, data_init), features


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


def check_weight_norm_fields(model_config) -> None:
  """A ValueError naming the field unless D's weight-norm draw and minibatch layer are valid
  (the fields both classifier discriminators, MLP and convolutional, read)."""
  layers.check_minibatch_discrimination(model_config.minibatch_kernels,
                                        model_config.minibatch_kernel_dim)
  if model_config.d_kernel_stddev <= 0:
    raise ValueError(f'config.model.d_kernel_stddev={model_config.d_kernel_stddev} must be > 0 '
                     "(the std of D's weight directions).")


def make_models(model_config, data_shape: tuple, num_classes: int
                ) -> tuple[nn.Module, nn.Module]:
  """The (generator, classifier discriminator) pair of `model_config` for K = `num_classes`."""
  data_shape = tuple(int(d) for d in data_shape)
  layers.is_image_shape(data_shape)
  check_weight_norm_fields(model_config)
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
      hidden_noise=float(model_config.d_hidden_noise),
      train_hidden_scale=bool(model_config.d_train_hidden_scale),
      kernel_stddev=float(model_config.d_kernel_stddev),
      minibatch_kernels=int(model_config.minibatch_kernels),
      minibatch_kernel_dim=int(model_config.minibatch_kernel_dim))
  return generator, discriminator
