"""The convolutional networks of Salimans et al. (2016) for CIFAR-10 and SVHN.

The semi-supervised game's discriminator as in the paper's code
(openai/improved-gan, `train_cifar_feature_matching.py`, `train_svhn_feature_matching.py`):

    dropout(`model.d_input_dropout`, the code's 0.2) on the input
    for each width w of `model.d_conv_widths` (CIFAR-10: 96, 192; SVHN: 64, 128):
        conv 3x3 w, conv 3x3 w, conv 3x3 w stride 2   (pad 1, LeakyReLU 0.2)
        dropout(`model.d_dropout`, 0.5)
    conv 3x3 w valid, NIN w, NIN w (1x1)             (LeakyReLU 0.2; w the last width)
    global mean pool -> features (B, w)
    dense -> K class logits

Every convolution, NIN and the dense layer are weight-normalised (`WeightNormConv`, and
`improved_gan.WeightNormDense`, which is a NIN layer on a feature map). It returns
`(class_logits, features)` like `improved_gan.ClassifierDiscriminator`, the features
being the pooled layer that the code's generator matches (its `disc_layers[-2]`). With
`data_init=True` every weight-normalised layer is initialised from the batch, one after
another (the output layer to a std of 0.1, the code's `init_stdv`), and the hidden
layers' scales then stay fixed unless `model.d_train_hidden_scale` (the code's
`train_g=False`; the output layer's scale trains). Dropout is drawn from `noise_key` in
train mode only, with the kept units rescaled by 1/(1 - rate) (Lasagne's default), so
evaluation is deterministic. Minibatch discrimination (`model.minibatch_kernels`, the
code's `train_cifar_minibatch_discrimination.py`) reads the pooled features.

The generator is `dcgan.DCGANGenerator` (`model.g_features`): for 32x32 images and
`g_features=128` it is the code's z -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x3 with
BatchNorm and ReLU and a tanh output. Its transposed convolutions have 4x4 kernels where
the code's have 5x5, and its output layer is not weight-normalised.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import dcgan
from gan_jax.models import improved_gan
from gan_jax.models import layers
from gan_jax.models import resampling


class WeightNormConv(nn.Module):
  """A 3x3 (by default) convolution with weight norm: y = conv(x, g v / ||v||) + b.

  The norm is taken per output channel over the kernel's spatial and input axes, as the
  paper's `nn.weight_norm` does for `Conv2DDNNLayer`. `train_scale` and `data_init` as in
  `improved_gan.WeightNormDense` (statistics over batch and space, per channel).
  """
  features: int
  kernel_size: int = 3
  strides: int = 1
  padding: int = 1  # Zeros on every side (0: the code's 'valid').
  kernel_stddev: float = 0.05
  train_scale: bool = True
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, x: jax.Array, data_init: bool = False) -> jax.Array:
    """The layer's outputs for NHWC `x`; `data_init` first sets its scale and bias."""
    v = self.param('kernel', nn.initializers.normal(self.kernel_stddev),
                   (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
    g = self.param('scale', nn.initializers.ones, (self.features,))
    b = self.param('bias', nn.initializers.zeros, (self.features,))
    if not self.train_scale:
      g = jax.lax.stop_gradient(g)
    w = v * (g / jnp.sqrt(jnp.sum(v * v, axis=(0, 1, 2)) + 1e-12))
    # One im2col matmul, not lax.conv: XLA's CPU backend is many times slower on the
    # input gradient of a strided convolution (see models/resampling.py).
    pre = resampling.conv_as_matmul(x, w, self.strides, self.padding)
    if data_init:
      return improved_gan.init_from_batch(self, pre, g, self.init_scale)
    return pre + b


def dropout(x: jax.Array, rate: float, key: jax.Array | None, train: bool) -> jax.Array:
  """Inverted dropout: each unit kept with probability 1 - rate and scaled by 1/(1 - rate),
  in train mode with a key and rate > 0; `x` unchanged otherwise."""
  if not train or key is None or rate <= 0:
    return x
  keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
  return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


class ConvClassifierDiscriminator(nn.Module):
  """x (B, H, W, C) -> (class logits (B, K), pooled features (B, w)); dropout in train mode."""
  num_classes: int
  widths: tuple[int, ...] = (96, 192)
  input_dropout: float = 0.2
  stage_dropout: float = 0.5  # After each stage of convolutions.
  train_hidden_scale: bool = True
  kernel_stddev: float = 0.05
  minibatch_kernels: int = 0
  minibatch_kernel_dim: int = 5

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, noise_key: jax.Array | None = None,
               data_init: bool = False):
    """Class logits and features of a batch; `noise_key` draws the dropout masks.

    `data_init=True` (with 'params' mutable) initialises every weight-normalised layer from
    this batch, in order, each on the outputs of the layers before it (dropout on when
    `train`, as in the paper's code).
    """
    keys = ([None] * (len(self.widths) + 1) if noise_key is None
            else list(jax.random.split(noise_key, len(self.widths) + 1)))

    def conv(h, width, strides=1, padding=1):
      layer = WeightNormConv(width, strides=strides, padding=padding,
                             kernel_stddev=self.kernel_stddev,
                             train_scale=self.train_hidden_scale)
      return nn.leaky_relu(layer(h, data_init), 0.2)

    h = dropout(jnp.asarray(x, jnp.float32), self.input_dropout, keys[0], train)
    for width, key in zip(self.widths, keys[1:]):
      h = conv(conv(conv(h, width), width), width, strides=2)
      h = dropout(h, self.stage_dropout, key, train)
    width = self.widths[-1]
    h = conv(h, width, padding=0)
    for _ in range(2):  # The code's two NIN layers: 1x1 convolutions, i.e. dense per pixel.
      nin = improved_gan.WeightNormDense(width, self.kernel_stddev,
                                         train_scale=self.train_hidden_scale)
      h = nn.leaky_relu(nin(h, data_init), 0.2)
    features = jnp.mean(h, axis=(1, 2))
    out_in = (layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(
        features, data_init) if self.minibatch_kernels else features)
    # The code's output layer: weight-normalised, scale trained, initialised to std 0.1.
    logits = improved_gan.WeightNormDense(self.num_classes, self.kernel_stddev,
                                          init_scale=0.1)(out_in, data_init)
    return logits, features


def check_image_size(data_shape: tuple, widths: tuple) -> None:
  """A ValueError unless the images survive the stride-2 stages and the valid 3x3 conv."""
  height, width_px = int(data_shape[0]), int(data_shape[1])
  for _ in widths:
    height, width_px = (height + 1) // 2, (width_px + 1) // 2
  if min(height, width_px) < 3:
    raise ValueError(f'config.model.name=improved_gan_conv needs images that are at least '
                     f'3x3 after {len(widths)} stride-2 stages (config.model.d_conv_widths='
                     f'{tuple(widths)}), but data_shape={tuple(data_shape)} gives '
                     f'{height}x{width_px}; use fewer widths or larger images.')


def make_models(model_config, data_shape: tuple, num_classes: int
                ) -> tuple[nn.Module, nn.Module]:
  """The (DCGAN generator, conv classifier discriminator) pair for K = `num_classes`."""
  data_shape = tuple(int(d) for d in data_shape)
  if not layers.is_image_shape(data_shape):
    raise ValueError(f'config.model.name=improved_gan_conv needs images (H, W, C), but '
                     f'data_shape={data_shape} is point data; use model.name=improved_gan.')
  widths = tuple(int(w) for w in model_config.d_conv_widths)
  if not widths or min(widths) <= 0:
    raise ValueError(f'config.model.d_conv_widths={tuple(model_config.d_conv_widths)} must be '
                     'one or more positive channel counts (the paper: (96, 192) for CIFAR-10).')
  check_image_size(data_shape, widths)
  for field in ('d_input_dropout', 'd_dropout'):
    if not 0 <= model_config[field] < 1:
      raise ValueError(f'config.model.{field}={model_config[field]} must be in [0, 1).')
  improved_gan.check_weight_norm_fields(model_config)
  generator = dcgan.DCGANGenerator(data_shape=data_shape,
                                   features=int(model_config.g_features),
                                   dense_width=int(model_config.dense_width))
  discriminator = ConvClassifierDiscriminator(
      num_classes=int(num_classes), widths=widths,
      input_dropout=float(model_config.d_input_dropout),
      stage_dropout=float(model_config.d_dropout),
      train_hidden_scale=bool(model_config.d_train_hidden_scale),
      kernel_stddev=float(model_config.d_kernel_stddev),
      minibatch_kernels=int(model_config.minibatch_kernels),
      minibatch_kernel_dim=int(model_config.minibatch_kernel_dim))
  return generator, discriminator
