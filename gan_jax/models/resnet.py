"""Residual GAN (SNGAN: Miyato et al., 2018) for square images of side 4 * 2^k.

Generator: noise -> Dense -> a (4, 4, ch) map -> k residual up-blocks, each
    BN -> ReLU -> nearest 2x upsampling -> 3x3 conv -> BN -> ReLU -> 3x3 conv
  plus a 1x1-conv shortcut of the upsampled input -> BN -> ReLU -> 3x3 conv -> tanh.
Discriminator: residual down-blocks
    ReLU -> 3x3 conv -> ReLU -> 3x3 conv -> 2x2 average pooling
  with a 1x1-conv + average-pool shortcut, the first one "optimized" (no leading ReLU:
  the input is an image, not a feature map), until the map is 8x8 (4x4 for 8x8 images),
  then two residual blocks without pooling and identity shortcuts; then ReLU, a sum over
  positions and a Dense to one logit. At 32x32 this is exactly SNGAN's CIFAR-10 ResNet
  (and compare_gan's / StudioGAN's `resnet` for CIFAR): 3 up-blocks; D blocks at 32, 16,
  8, 8. Every width is constant, `model.g_features` for G (SNGAN: 256) and
  `model.d_features` for D (SNGAN: 128); SNGAN's models for larger images instead
  change the width with the resolution, which this family does not do.

The discriminator has no BatchNorm (`model.d_batch_norm` is not used), as in SNGAN; with
`model.spectral_norm` every one of its convolutions and its Dense are spectrally
normalised, shortcuts included. `model.minibatch_std_group` appends ProGAN's minibatch
standard deviation as one more channel before the sum pooling.

Weights start as in the authors' chainer code: Glorot-uniform with gain sqrt(2) on the
residual branch's 3x3 convolutions (they follow ReLUs), gain 1 elsewhere; BatchNorm
scales start at 1.

Every convolution is stride 1 and computed as one matrix product over im2col patches
(`conv_same`, passed to nn.Conv, so parameters, initialisers, dtypes and spectral norm
are nn.Conv's), and resampling is a reshape (2x2 averages) or a broadcast (nearest
neighbours). XLA's CPU backend lowers the gradients of convolutions inside a loop body
-- the step's `lax.scan` over the n_critic updates -- to a naive loop, many times slower
than the same FLOPs as matmuls (docs/performance.md#resnet-convolutions-and-pooling). The
matmuls' gradients are matmuls, slicing and padding at any order of differentiation.

`dtype` is the computation dtype of every layer (bfloat16 for mixed precision);
parameters, BatchNorm statistics and spectral-norm vectors stay float32, and the
generator's images and the discriminator's logits come back float32.
"""

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gan_jax.models import conditioning as conditioning_lib
from gan_jax.models import layers

Dtype = Any

# Glorot (Xavier) uniform with gain sqrt(2) (variance scale 2) for the convolutions that
# follow a ReLU, gain 1 for shortcuts and the input and output layers, as in SNGAN's code.
residual_init = nn.initializers.variance_scaling(2.0, 'fan_avg', 'uniform')
plain_init = nn.initializers.xavier_uniform()

# The side of the generator's first feature map (SNGAN's `bottom_width`).
BASE_SIZE = 4
# The discriminator pools down to this side, then runs NUM_FLAT_BLOCKS blocks without
# pooling (SNGAN's CIFAR discriminator: 32 -> 16 -> 8, then two blocks at 8x8).
SMALLEST_D_SIZE = 8
NUM_FLAT_BLOCKS = 2


def num_upsamplings(data_shape: tuple) -> int:
  """k for square images of side 4 * 2^k (k >= 1); a ValueError naming the shape otherwise."""
  if not layers.is_image_shape(data_shape):
    raise ValueError(f'config.model.name=resnet needs images (H, W, C) but data_shape='
                     f'{tuple(data_shape)} is point data; use model.name=mlp.')
  height, width, _ = (int(d) for d in data_shape)
  ratio = height // BASE_SIZE
  if (height != width or height % BASE_SIZE or ratio < 2 or ratio & (ratio - 1)):
    raise ValueError(f'config.model.name=resnet cannot fit images of shape {tuple(data_shape)}: '
                     'it needs square images whose side is 4 * 2^k with k >= 1 (8, 16, 32, 64, '
                     '128, ...); resize them (data.image_size) or use model.name=dcgan.')
  return ratio.bit_length() - 1


def num_downsamplings(data_shape: tuple) -> int:
  """Pooling blocks of the discriminator: down to 8x8, but at least one (8x8 -> 4x4)."""
  num_upsamplings(data_shape)  # Validates the shape: the side is a power of two, >= 8.
  return max(1, (int(data_shape[0]) // SMALLEST_D_SIZE).bit_length() - 1)


def upsample_nearest(x: jax.Array) -> jax.Array:
  """Nearest-neighbour 2x upsampling of x (B, H, W, C): y[:, i, j] = x[:, i // 2, j // 2]."""
  batch, height, width, channels = x.shape
  # A broadcast and a reshape: the gradient is a plain sum over each 2x2 block.
  x = jnp.broadcast_to(x[:, :, None, :, None, :], (batch, height, 2, width, 2, channels))
  return x.reshape(batch, 2 * height, 2 * width, channels)


def avg_pool_2x2(x: jax.Array) -> jax.Array:
  """Mean over non-overlapping 2x2 blocks of x (B, H, W, C) with even H and W."""
  batch, height, width, channels = x.shape
  # A reshape and a mean rather than nn.avg_pool's reduce_window: the gradient is a
  # broadcast, which is faster on a CPU
  # (docs/performance.md#resnet-convolutions-and-pooling).
  return x.reshape(batch, height // 2, 2, width // 2, 2, channels).mean(axis=(2, 4))


def conv_same(lhs: jax.Array, rhs: jax.Array, window_strides, padding, lhs_dilation=None,
              rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
              precision=None) -> jax.Array:
  """nn.Conv's stride-1 'SAME' convolution (NHWC input, HWIO kernel), as one matmul.

  A drop-in for `lax.conv_general_dilated` in `nn.Conv(..., conv_general_dilated=...)`
  for odd kernel sizes; anything else (strides, dilation, groups, other padding) is a
  ValueError. The patches of the zero-padded input, side by side in the kernel's
  (row tap, column tap, channel) order, multiply the kernel reshaped to (kh * kw * C, F).
  """
  kernel_h, kernel_w, channels, features = rhs.shape
  nhwc = lax.conv_dimension_numbers(lhs.shape, rhs.shape, ('NHWC', 'HWIO', 'NHWC'))
  same = ((kernel_h // 2, kernel_h // 2), (kernel_w // 2, kernel_w // 2))
  if (tuple(window_strides) != (1, 1) or any(d not in (None, (1, 1)) for d in
                                             (lhs_dilation, rhs_dilation))
      or feature_group_count != 1 or kernel_h % 2 == 0 or kernel_w % 2 == 0
      or (padding != 'SAME' and tuple(map(tuple, padding)) != same)
      or (dimension_numbers is not None and dimension_numbers != nhwc)):
    raise ValueError('conv_same computes only stride-1, undilated, ungrouped NHWC '
                     f'convolutions with an odd kernel and SAME padding; got kernel '
                     f'{rhs.shape}, strides {window_strides}, padding {padding!r}.')
  if kernel_h == kernel_w == 1:
    return jnp.dot(lhs, rhs.reshape(channels, features), precision=precision)
  _, height, width, _ = lhs.shape
  padded = jnp.pad(lhs, ((0, 0), *same, (0, 0)))
  patches = jnp.concatenate([padded[:, i:i + height, j:j + width]
                             for i in range(kernel_h) for j in range(kernel_w)], axis=-1)
  return jnp.dot(patches, rhs.reshape(kernel_h * kernel_w * channels, features),
                 precision=precision)


def _conv(features: int, kernel_size: tuple[int, int], dtype: Dtype, name: str,
          **kwargs) -> nn.Conv:
  """nn.Conv with 'SAME' padding, computed by `conv_same`."""
  return nn.Conv(features, kernel_size, padding='SAME', conv_general_dilated=conv_same,
                 dtype=dtype, name=name, **kwargs)


def _batch_norm(train: bool, dtype: Dtype, name: str,
                conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL,
                labels: jax.Array | None = None):
  """`x -> x'`: the generator's BatchNorm `name`, class-conditional under cbn."""
  if conditioning.cbn:
    norm = conditioning_lib.ConditionalBatchNorm(conditioning.num_classes, train, dtype,
                                                 name=name)
    return lambda x: norm(x, labels)
  # `layers.batch_norm`'s momentum and train/eval handling, but SNGAN's scale init (1,
  # flax's default) rather than DCGAN's N(1, 0.02), and the computation dtype.
  return nn.BatchNorm(use_running_average=not train, momentum=layers.BATCH_NORM_MOMENTUM,
                      dtype=dtype, name=name)


class GeneratorBlock(nn.Module):
  """Residual up-block: (B, H, W, C) -> (B, 2H, 2W, features)."""
  features: int
  # Biases on the outputs; False where only a BatchNorm reads the output (the last
  # block), since it would cancel them.
  use_bias: bool = True
  dtype: Dtype = jnp.float32  # Computation dtype; parameters stay float32.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, labels: jax.Array | None = None
               ) -> jax.Array:
    """`train` normalises with batch statistics and updates the running ones."""
    norm = functools.partial(_batch_norm, train, self.dtype, conditioning=self.conditioning,
                             labels=labels)
    h = nn.relu(norm('bn1')(x))
    # The convolution before a BatchNorm has no bias: the BatchNorm would cancel it.
    h = _conv(self.features, (3, 3), self.dtype, 'conv1', use_bias=False,
              kernel_init=residual_init)(upsample_nearest(h))
    h = nn.relu(norm('bn2')(h))
    h = _conv(self.features, (3, 3), self.dtype, 'conv2', use_bias=self.use_bias,
              kernel_init=residual_init)(h)
    # A 1x1 convolution commutes with nearest upsampling (both act per pixel), so it runs
    # on the small map: the same function as SNGAN's conv(upsample(x)) at a quarter the cost.
    shortcut = _conv(self.features, (1, 1), self.dtype, 'shortcut', use_bias=self.use_bias,
                     kernel_init=plain_init)(x)
    return h + upsample_nearest(shortcut)


class DiscriminatorBlock(nn.Module):
  """Residual block of the discriminator: (B, H, W, C) -> (B, H', W', features).

  H' = H / 2 with `downsample`, else H. The shortcut is a 1x1 convolution (then the
  pooling) when the block pools or changes the width, else the identity, as in SNGAN.
  """
  features: int
  downsample: bool = True
  optimized: bool = False  # The first block: no ReLU before its first convolution.
  spectral_norm: bool = False  # Normalise every kernel (see `layers.apply_layer`).
  dtype: Dtype = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    """`train` advances the spectral-norm power iterations."""
    def conv(h, kernel_size, init, name):
      layer = _conv(self.features, kernel_size, self.dtype, name, kernel_init=init)
      return layers.apply_layer(layer, h, spectral_norm=self.spectral_norm, train=train)

    # The optimized block sees the image itself: a ReLU would throw away its negative
    # values (images are in [-1, 1]).
    h = x if self.optimized else nn.relu(x)
    h = conv(nn.relu(conv(h, (3, 3), residual_init, 'conv1')), (3, 3), residual_init, 'conv2')
    if self.downsample:
      h = avg_pool_2x2(h)
    shortcut = x
    if self.downsample:
      # Pooling first: a 1x1 convolution commutes with 2x2 averaging, so this is SNGAN's
      # pool(conv(x)) on a quarter of the pixels.
      shortcut = avg_pool_2x2(shortcut)
    if self.downsample or x.shape[-1] != self.features:
      shortcut = conv(shortcut, (1, 1), plain_init, 'shortcut')
    return h + shortcut


class ResNetGenerator(nn.Module):
  """Maps noise (B, latent_dim) to images (B, S, S, C) in [-1, 1], float32."""
  data_shape: tuple[int, int, int]
  features: int = 256  # Channels of every residual block (SNGAN CIFAR: 256).
  dtype: Dtype = jnp.float32  # Computation dtype; parameters stay float32.
  # Labels (see `conditioning`): cbn makes every BatchNorm class-conditional (SNGAN-projection).
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, z: jax.Array, train: bool = True, labels: jax.Array | None = None
               ) -> jax.Array:
    """Generates a batch; `train` normalises with batch statistics and updates running ones."""
    channels = self.data_shape[-1]
    z = conditioning_lib.embed_into_latent(self.conditioning, z, labels)
    x = nn.Dense(BASE_SIZE * BASE_SIZE * self.features, kernel_init=plain_init,
                 dtype=self.dtype, name='dense')(jnp.asarray(z, jnp.float32))
    x = x.reshape((-1, BASE_SIZE, BASE_SIZE, self.features))
    n = num_upsamplings(self.data_shape)
    for i in range(n):
      # Inner blocks' outputs also feed the next block's shortcut, where biases count.
      x = GeneratorBlock(self.features, use_bias=i < n - 1, dtype=self.dtype,
                         conditioning=self.conditioning, name=f'block_{i}')(x, train, labels)
    x = nn.relu(_batch_norm(train, self.dtype, 'bn_out', self.conditioning, labels)(x))
    x = _conv(channels, (3, 3), self.dtype, 'conv_out', kernel_init=plain_init)(x)
    # tanh in float32: the images leave the model in float32 whatever the compute dtype.
    return jnp.tanh(x.astype(jnp.float32))


class ResNetDiscriminator(nn.Module):
  """Maps images (B, S, S, C) to real-vs-fake logits (B,), float32."""
  features: int = 128  # Channels of every residual block (SNGAN CIFAR: 128).
  spectral_norm: bool = False  # Normalise every conv and Dense kernel.
  minibatch_std_group: int = 0  # Group size of the minibatch-stddev channel; 0 = off.
  minibatch_kernels: int = 0  # Minibatch-discrimination kernels before the Dense; 0 = off.
  minibatch_kernel_dim: int = 5
  dtype: Dtype = jnp.float32  # Computation dtype; parameters stay float32.
  # Labels (see `conditioning`): a projection term or an AC-GAN class head.
  conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True, labels: jax.Array | None = None):
    """Scores a batch; `train` advances the spectral-norm power iterations."""
    x = jnp.asarray(x, self.dtype)
    block = functools.partial(DiscriminatorBlock, self.features,
                              spectral_norm=self.spectral_norm, dtype=self.dtype)
    # Only the side matters here; the channels may be C * pack (PacGAN).
    n_down = num_downsamplings((x.shape[1], x.shape[2], 1))
    x = block(optimized=True, name='block_0')(x, train)
    for i in range(1, n_down):
      x = block(name=f'block_{i}')(x, train)
    for i in range(n_down, n_down + NUM_FLAT_BLOCKS):
      x = block(downsample=False, name=f'block_{i}')(x, train)
    x = nn.relu(x)
    if self.minibatch_std_group:
      # After the last ReLU, so the Dense sees the statistic (summed over positions)
      # next to the features: ProGAN's place, just before the output layers.
      x = layers.minibatch_stddev(x, self.minibatch_std_group)
    # Sum pooling (SNGAN) accumulated in float32, so bfloat16 does not round the sum of
    # 64 positions.
    x = jnp.sum(x, axis=(1, 2), dtype=jnp.float32)
    # Minibatch discrimination feeds the Dense only; a class head reads x.
    out_in = (layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(x)
              if self.minibatch_kernels else x)
    logits = layers.apply_layer(nn.Dense(1, kernel_init=plain_init, dtype=self.dtype,
                                         name='dense'), out_in,
                                spectral_norm=self.spectral_norm, train=train)
    return conditioning_lib.discriminator_outputs(
        self.conditioning, logits[:, 0].astype(jnp.float32), x, labels,
        spectral_norm=self.spectral_norm, train=train, dtype=self.dtype, kernel_init=plain_init)


def make_models(model_config, data_shape: tuple,
                conditioning: conditioning_lib.Conditioning = conditioning_lib.UNCONDITIONAL
                ) -> tuple[nn.Module, nn.Module]:
  """The (generator, discriminator) pair for `model_config` and images of `data_shape`."""
  data_shape = tuple(int(d) for d in data_shape)
  num_upsamplings(data_shape)  # Rejects shapes that do not fit before any tracing.
  layers.check_minibatch_std_group(model_config.minibatch_std_group)
  layers.check_minibatch_discrimination(model_config.minibatch_kernels,
                                        model_config.minibatch_kernel_dim)
  dtype = layers.get_compute_dtype(model_config.compute_dtype)
  generator = ResNetGenerator(data_shape=data_shape, features=int(model_config.g_features),
                              dtype=dtype, conditioning=conditioning)
  discriminator = ResNetDiscriminator(
      features=int(model_config.d_features), spectral_norm=bool(model_config.spectral_norm),
      minibatch_std_group=int(model_config.minibatch_std_group),
      minibatch_kernels=int(model_config.minibatch_kernels),
      minibatch_kernel_dim=int(model_config.minibatch_kernel_dim), dtype=dtype,
      conditioning=conditioning)
  return generator, discriminator
