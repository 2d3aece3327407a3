"""Super-resolution networks (Ledig et al. 2017): SRResNet generator, SRGAN discriminator.

SRResNet maps a low-resolution image (B, h, w, C) to (B, r h, r w, C) in [-1, 1]:

  9x9 conv (F) + PReLU                                   -> the skip of the trunk
  `blocks` residual blocks: 3x3 conv, BN, PReLU, 3x3 conv, BN, + the block's input
  3x3 conv, BN, + the trunk's skip                       (the global skip)
  log2(r) times: 3x3 conv (4 F), pixel shuffle x2, PReLU (sub-pixel upsampling)
  9x9 conv to C channels, tanh
  (`model.sr_upsampled_skip`: no tanh, and the bicubic upsampling of the input added)

Every layer is a stride-1 convolution, so the network is fully convolutional: it takes
any input size and returns exactly `scale` times it. The sub-pixel convolutions start
from ICNR (Aitken et al. 2017): each group of r^2 output channels that the shuffle
spreads over one r x r block starts with the same kernel, so the first upsampling is a
nearest-neighbour upsampling of a normally initialised convolution and the net starts
without checkerboard artifacts. PReLU has one learned slope per layer, starting at 0.25
(PyTorch's default, which the SRGAN code used). The output's tanh keeps images in the
library's [-1, 1] (the paper scaled HR images to [-1, 1] too).

`model.sr_upsampled_skip` (not in the paper; VDSR's residual learning, Kim et al. 2016)
adds the bicubic upsampling of the input (`jax.image.resize`) to a zero-initialised last
layer, so the net starts as bicubic upsampling and learns only the residual; its output
is then not bounded by a tanh (`translate` clips it to [-1, 1]). Short CPU runs need it:
without it a short run on the photos stays far below bicubic upsampling on held-out
photos (docs/super_resolution.md#results).

The discriminator is the paper's VGG-style stack: a 3x3 conv (F) and LeakyReLU 0.2, then
pairs of (strided halving conv, 3x3 stride-1 conv), each with BN and LeakyReLU, the
widths doubling per pair up to 8 F (F, F, 2F, 2F, 4F, 4F, 8F, 8F for 4 halvings), then a
dense layer (`dense` units, LeakyReLU) and one logit. Two changes, both for small crops
and CPUs: the last map is averaged over space before the dense head (the paper flattens
its 6x6 map of 96x96 crops), so any crop size works; and the halving convolutions are
`resampling.DownConv` (4x4 kernels, stride 2, 'SAME'), whose gradients XLA's CPU backend
computes far faster than those of a strided 3x3 `nn.Conv` (the paper: 3x3;
docs/performance.md#dcgan-resampling-layers).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import layers
from gan_jax.models import resampling

# PyTorch's nn.PReLU() default slope, which the SRGAN reference code starts from.
PRELU_INIT = 0.25
# Widths double per discriminator stage up to this multiple of d_features (the paper: 512 = 8 x 64).
_MAX_D_MULTIPLIER = 8


def pixel_shuffle(x: jax.Array, factor: int) -> jax.Array:
  """(B, H, W, C r^2) -> (B, H r, W r, C): channel c r^2 + i r + j goes to pixel (i, j) of
  each r x r block (PyTorch's PixelShuffle order, in NHWC)."""
  batch, height, width, channels = x.shape
  if channels % (factor * factor):
    raise ValueError(f'pixel_shuffle: {channels} channels do not split into groups of '
                     f'{factor}^2 = {factor * factor}.')
  out = channels // (factor * factor)
  x = x.reshape(batch, height, width, out, factor, factor)
  x = x.transpose(0, 1, 4, 2, 5, 3)  # (B, H, i, W, j, C)
  return x.reshape(batch, height * factor, width * factor, out)


def pixel_unshuffle(x: jax.Array, factor: int) -> jax.Array:
  """The inverse of `pixel_shuffle`: (B, H r, W r, C) -> (B, H, W, C r^2)."""
  batch, height, width, channels = x.shape
  if height % factor or width % factor:
    raise ValueError(f'pixel_unshuffle: a {height}x{width} image does not split into '
                     f'{factor}x{factor} blocks.')
  x = x.reshape(batch, height // factor, factor, width // factor, factor, channels)
  x = x.transpose(0, 1, 3, 5, 2, 4)  # (B, H, W, C, i, j)
  return x.reshape(batch, height // factor, width // factor, channels * factor * factor)


_HE_NORMAL = nn.initializers.variance_scaling(2.0, 'fan_in', 'truncated_normal')


def icnr(factor: int, base_init=_HE_NORMAL):
  """ICNR (Aitken et al. 2017): a kernel initialiser for a convolution followed by
  `pixel_shuffle(., factor)`.

  Draws a kernel for C = out / factor^2 channels from `base_init` (He normal, as for the
  PReLU that follows) and repeats each of its output channels factor^2 times, so the
  factor^2 sub-pixels of every block start equal: the shuffled output is then the
  nearest-neighbour upsampling of that smaller convolution.
  """
  def init(key, shape, dtype=jnp.float32):
    *spatial, fan_in, out = shape
    if out % (factor * factor):
      raise ValueError(f'icnr: {out} output channels are not a multiple of {factor * factor}.')
    kernel = base_init(key, (*spatial, fan_in, out // (factor * factor)), dtype)
    # Channel c r^2 + k of the result is channel c of the small kernel (pixel_shuffle's order).
    return jnp.repeat(kernel, factor * factor, axis=-1)
  return init


def _prelu(name: str) -> nn.PReLU:
  return nn.PReLU(negative_slope_init=PRELU_INIT, name=name)


class ResidualBlock(nn.Module):
  """conv3x3, BN, PReLU, conv3x3, BN, plus the input (SRResNet's B residual blocks)."""
  features: int

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    # No bias before BatchNorm: it would subtract it again (the bias gradient is noise).
    y = nn.Conv(self.features, (3, 3), use_bias=False, name='conv_0')(x)
    y = _prelu('prelu')(layers.batch_norm(train)(y))
    y = nn.Conv(self.features, (3, 3), use_bias=False, name='conv_1')(y)
    return x + layers.batch_norm(train)(y)


class SRResNetGenerator(nn.Module):
  """Maps LR images (B, h, w, C) to (B, scale h, scale w, out_channels) in [-1, 1]."""
  out_channels: int
  blocks: int = 16
  features: int = 64
  scale: int = 4
  upsampled_skip: bool = False

  @nn.compact
  def __call__(self, src: jax.Array, train: bool = True) -> jax.Array:
    """With `upsampled_skip`, the output is the bicubic upsampling of `src` plus the net's
    (zero-initialised) last layer, unbounded (not a tanh): the net learns a residual."""
    x = nn.Conv(self.features, (9, 9), name='head')(src)
    x = skip = _prelu('head_prelu')(x)
    for i in range(self.blocks):
      x = ResidualBlock(self.features, name=f'block_{i}')(x, train)
    x = nn.Conv(self.features, (3, 3), use_bias=False, name='trunk_conv')(x)
    x = skip + layers.batch_norm(train)(x)
    for i in range(int(math.log2(self.scale))):
      x = nn.Conv(self.features * 4, (3, 3), kernel_init=icnr(2), name=f'upsample_{i}')(x)
      x = _prelu(f'upsample_{i}_prelu')(pixel_shuffle(x, 2))
    if not self.upsampled_skip:
      return jnp.tanh(nn.Conv(self.out_channels, (9, 9), name='tail')(x))
    # Zero-initialised, so the net starts as bicubic upsampling and learns what it misses.
    x = nn.Conv(self.out_channels, (9, 9), kernel_init=nn.initializers.zeros, name='tail')(x)
    batch, height, width, channels = src.shape
    upsampled = jax.image.resize(src, (batch, height * self.scale, width * self.scale, channels),
                                 'bicubic')
    return upsampled + x


class SRDiscriminator(nn.Module):
  """SRGAN's D: a VGG-style conv stack, global average pooling, a dense head; logits (B,)."""
  halvings: int = 4
  features: int = 64
  dense: int = 1024

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    x = nn.leaky_relu(nn.Conv(self.features, (3, 3), name='conv_in')(x), 0.2)
    for stage in range(self.halvings):
      # Stage s: halve with the width of the stage before, then widen (64 -> 64/2 -> 128 -> ...).
      width_in = self.features * min(2 ** stage, _MAX_D_MULTIPLIER)
      width_out = self.features * min(2 ** (stage + 1), _MAX_D_MULTIPLIER)
      x = resampling.DownConv(width_in, use_bias=False, name=f'down_{stage}')(x)
      x = nn.leaky_relu(layers.batch_norm(train)(x), 0.2)
      x = nn.Conv(width_out, (3, 3), use_bias=False, name=f'conv_{stage}')(x)
      x = nn.leaky_relu(layers.batch_norm(train)(x), 0.2)
    # Any crop size: average the last map over space (the paper flattens a 6x6 map).
    x = jnp.mean(x, axis=(1, 2))
    x = nn.leaky_relu(nn.Dense(self.dense, name='dense')(x), 0.2)
    return nn.Dense(1, name='logit')(x)[:, 0]


def check_scale(src_shape: tuple, dst_shape: tuple) -> int:
  """The integer upscaling factor from `src_shape` to `dst_shape` (H, W, C), a power of 2;
  a ValueError naming both sizes otherwise."""
  height, width = int(dst_shape[0]), int(dst_shape[1])
  factor = height // max(int(src_shape[0]), 1)
  if (factor < 2 or factor & (factor - 1) or int(src_shape[0]) * factor != height
      or int(src_shape[1]) * factor != width):
    raise ValueError(f'SRResNet upsamples by a power of 2 (pixel shuffles of 2), but the '
                     f'sources are {src_shape[0]}x{src_shape[1]} and the targets {height}x{width}.')
  return factor


def make_models(model_config, src_shape: tuple, dst_shape: tuple,
                dropout: float = 0.0) -> tuple[nn.Module, nn.Module]:
  """(SRResNet G: LR -> HR, SRGAN D(HR)) for `config.model` (model.name='srresnet').

  `model.sr_blocks` residual blocks of `model.g_features` channels; D has
  `model.sr_d_halvings` halving stages from `model.d_features` channels and a dense layer
  of `model.sr_dense` units. SRResNet has no dropout: `dropout` must be 0.
  """
  if dropout:
    raise ValueError(f'SRResNet has no dropout; got dropout={dropout}.')
  scale = check_scale(src_shape, dst_shape)
  blocks, halvings, dense = (int(model_config.sr_blocks), int(model_config.sr_d_halvings),
                             int(model_config.sr_dense))
  if blocks < 0:
    raise ValueError(f'config.model.sr_blocks={blocks} must be >= 0.')
  if halvings < 0 or dense < 1:
    raise ValueError(f'config.model.sr_d_halvings={halvings} must be >= 0 and '
                     f'config.model.sr_dense={dense} >= 1.')
  generator = SRResNetGenerator(out_channels=int(dst_shape[-1]), blocks=blocks,
                                features=int(model_config.g_features), scale=scale,
                                upsampled_skip=bool(model_config.sr_upsampled_skip))
  discriminator = SRDiscriminator(halvings=halvings, features=int(model_config.d_features),
                                  dense=dense)
  return generator, discriminator


def nearest_upsample(images: np.ndarray, factor: int) -> np.ndarray:
  """NumPy (N, H, W, C) images with each pixel repeated into a factor x factor block."""
  return np.repeat(np.repeat(np.asarray(images), factor, axis=1), factor, axis=2)
