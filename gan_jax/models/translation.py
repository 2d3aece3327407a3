"""Image-to-image networks (Isola et al. 2017): the U-Net generator and the PatchGAN discriminator.

U-Net: an encoder of stride-2, 4x4 convolutions (C64-C128-C256-C512-C512-...; LeakyReLU
0.2; a norm on all but the first and the innermost) and a decoder of stride-2, 4x4
transposed convolutions (ReLU, norm, dropout 0.5 in the three innermost blocks), with
each encoder map joined to the decoder map of the same size (the skips), and a last
transposed convolution to the target's channels with tanh. Dropout is the generator's
only noise, as in the paper; it needs a 'dropout' rng when `train=True`. The depth is
`model.unet_depth` halvings (0 = down to 1x1, at most 8: 256 -> 1 as in the paper);
images whose sides are not multiples of 2**depth are reflect-padded to the next multiple
and the output cropped back (28 -> 32 -> 1 -> 32 -> 28), so any size of at least half
that multiple is accepted.

PatchGAN: `model.patch_layers` stride-2, 4x4 convolutions (C64-C128-C256, no norm on the
first), one stride-1 4x4 convolution with a norm, and a stride-1 4x4 convolution to one
logit per patch; padding 1 throughout, as the paper's code. With 3 strided layers each
logit sees a 70x70 patch (`receptive_field`). Conditional (pix2pix): D(src, dst) judges
the two images stacked along the channels. It returns logits (B, h, w), which the
adversarial losses average over patches and examples.

Norms are 'batch' (the paper's; with batch 1 it equals instance norm in training),
'instance' (CycleGAN's; no learned scale or bias, as PyTorch's default) or 'none'.
Every weight starts from N(0, 0.02), as in the paper's code. The stride-2 layers are
`resampling.DownConv` / `UpConv` (nn.Conv / nn.ConvTranspose computed as matmuls, which
XLA's CPU backend runs far faster; docs/performance.md#dcgan-resampling-layers).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import layers
from gan_jax.models import resampling

NORMS = ('batch', 'instance', 'none')
_INIT = nn.initializers.normal(0.02)
# The pix2pix paper's widest layer: channels double from `features` up to 8x and stay there.
_MAX_MULTIPLIER = 8
# Decoder blocks next to the bottleneck that use dropout (the paper: the first three).
_DROPOUT_BLOCKS = 3


def make_norm(name: str, train: bool):
  """The normalisation layer called `name` (see NORMS) as a function of a feature map."""
  if name == 'batch':
    return layers.batch_norm(train)
  if name == 'instance':
    # PyTorch's InstanceNorm2d default (affine=False), which the CycleGAN code uses.
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False)
  if name == 'none':
    return lambda x: x
  raise ValueError(f'config.model.norm={name!r} is unknown; known: {", ".join(NORMS)}.')


def unet_depth(shape: tuple, requested: int = 0) -> int:
  """The U-Net's number of halvings for images of `shape` (H, W, C).

  `requested` > 0 is used as is; 0 halves until the smaller side reaches 1, at most 8
  times (the paper's 256 -> 1; 28x28 images, padded to 32, go 5 times).
  """
  if requested < 0:
    raise ValueError(f'config.model.unet_depth={requested} must be >= 0 (0 = from the size).')
  if requested:
    return int(requested)
  return min(8, max(1, math.ceil(math.log2(min(int(shape[0]), int(shape[1]))))))


def pad_to_multiple(x: jax.Array, multiple: int) -> tuple[jax.Array, tuple[int, int]]:
  """x (B, H, W, C) reflect-padded on the bottom and right to multiples of `multiple`.

  Returns (padded, (H, W)) so the caller can crop back. A ValueError names the multiple
  when the image is too small to reflect (padding must be smaller than the side).
  """
  height, width = x.shape[1], x.shape[2]
  pad_h, pad_w = -height % multiple, -width % multiple
  if pad_h >= height or pad_w >= width:
    raise ValueError(f'The U-Net halves images {int(math.log2(multiple))} times, so it pads '
                     f'them to multiples of {multiple}; a {height}x{width} image is too small '
                     f'for that (each side must be more than half of a multiple of {multiple}).')
  if pad_h or pad_w:
    x = jnp.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode='reflect')
  return x, (height, width)


def _has_dropout(level: int, depth: int) -> bool:
  """Whether the decoder block at `level` drops out: the paper's three blocks after the
  innermost one (levels depth-2..depth-4 of 8); shallower nets (depth <= 4), which would
  have almost none, drop out in every block but the outermost."""
  if depth > _DROPOUT_BLOCKS + 1:
    return 1 <= depth - 1 - level <= _DROPOUT_BLOCKS
  return level > 0


def _bias_before(norm: str, normed: bool) -> bool:
  """Whether a convolution followed by `norm` (when `normed`) gets a bias: not before a
  norm that subtracts the mean again (batch, as the paper's code; instance too). Its
  gradient would be zero up to rounding, which Adam would blow up into steps of the full
  learning rate, different on every device layout."""
  return not (normed and norm in ('batch', 'instance'))


def _channels(features: int, level: int) -> int:
  return features * min(2 ** level, _MAX_MULTIPLIER)


class UNetGenerator(nn.Module):
  """Maps source images (B, H, W, C_src) to target images (B, H, W, out_channels) in [-1, 1]."""
  out_channels: int
  depth: int
  features: int = 64
  norm: str = 'batch'
  dropout: float = 0.5

  @nn.compact
  def __call__(self, src: jax.Array, train: bool = True) -> jax.Array:
    """`train` uses batch statistics and dropout (a 'dropout' rng is then required)."""
    # Sides that do not halve `depth` times are reflect-padded, and the output cropped.
    x, (height, width) = pad_to_multiple(src, 2 ** self.depth)
    skips = []
    for level in range(self.depth):
      # No norm on the outermost (the image) and the innermost (a 1x1 map at full depth).
      normed = 0 < level < self.depth - 1
      x = resampling.DownConv(_channels(self.features, level), kernel_init=_INIT,
                              use_bias=_bias_before(self.norm, normed), name=f'down_{level}')(x)
      if normed:
        x = make_norm(self.norm, train)(x)
      skips.append(x)
      if level < self.depth - 1:
        x = nn.leaky_relu(x, 0.2)
    # The innermost block: ReLU then up; the others take [decoder map, encoder map].
    for level in reversed(range(self.depth)):
      if level < self.depth - 1:
        x = jnp.concatenate([x, skips[level]], axis=-1)
      x = nn.relu(x) if level < self.depth - 1 else nn.relu(skips[-1])
      if level == 0:
        x = resampling.UpConv(self.out_channels, kernel_init=_INIT, name='up_0')(x)
        return jnp.tanh(x[:, :height, :width])
      x = resampling.UpConv(_channels(self.features, level - 1), kernel_init=_INIT,
                            use_bias=_bias_before(self.norm, True), name=f'up_{level}')(x)
      x = make_norm(self.norm, train)(x)
      if self.dropout > 0 and _has_dropout(level, self.depth):
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    raise AssertionError('unreachable: the loop returns at level 0')


def patch_layers_fit(shape: tuple, patch_layers: int) -> None:
  """Raises a ValueError naming `config.model.patch_layers` when the images cannot take them."""
  height, width = int(shape[0]), int(shape[1])
  multiple = 2 ** patch_layers
  if patch_layers < 1 or height % multiple or width % multiple or min(height, width) // multiple < 3:
    raise ValueError(f'config.model.patch_layers={patch_layers}: the PatchGAN halves the '
                     f'images that often and needs at least 3x3 left, so H and W must be '
                     f'multiples of {multiple} and at least {3 * multiple}; got {height}x{width}.')


def receptive_field(patch_layers: int) -> int:
  """Input pixels along one side that one PatchGAN logit sees (70 for 3 strided layers)."""
  size = 1
  # Back from the output: two stride-1 4x4 convolutions, then the strided ones.
  for stride in [1, 1] + [2] * patch_layers:
    size = (size - 1) * stride + 4
  return size


class PatchDiscriminator(nn.Module):
  """Maps images (B, H, W, C) to patch logits (B, h, w); conditional ones stack src and dst."""
  patch_layers: int = 3
  features: int = 64
  norm: str = 'batch'

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    for level in range(self.patch_layers):
      x = resampling.DownConv(_channels(self.features, level), kernel_init=_INIT,
                              use_bias=_bias_before(self.norm, level > 0),
                              name=f'down_{level}')(x)
      if level > 0:
        x = make_norm(self.norm, train)(x)
      x = nn.leaky_relu(x, 0.2)
    x = nn.Conv(_channels(self.features, self.patch_layers), (4, 4), padding=((1, 1), (1, 1)),
                kernel_init=_INIT, use_bias=_bias_before(self.norm, True), name='conv_s1')(x)
    x = nn.leaky_relu(make_norm(self.norm, train)(x), 0.2)
    x = nn.Conv(1, (4, 4), padding=((1, 1), (1, 1)), kernel_init=_INIT, name='logits')(x)
    return x[..., 0]


class ConditionalPatchDiscriminator(nn.Module):
  """pix2pix's D(src, dst): a PatchGAN on the two images stacked along the channels."""
  patch_layers: int = 3
  features: int = 64
  norm: str = 'batch'

  @nn.compact
  def __call__(self, src: jax.Array, x: jax.Array, train: bool = True) -> jax.Array:
    return PatchDiscriminator(self.patch_layers, self.features, self.norm, name='patch')(
        jnp.concatenate([src, x], axis=-1), train)


def make_pix2pix_models(model_config, src_shape: tuple, dst_shape: tuple,
                        dropout: float) -> tuple[nn.Module, nn.Module]:
  """(U-Net G: src -> dst, conditional PatchGAN D(src, dst)) for `config.model`."""
  if tuple(src_shape[:2]) != tuple(dst_shape[:2]):
    raise ValueError(f'pix2pix translates between images of one size, but the sources are '
                     f'{src_shape[0]}x{src_shape[1]} and the targets {dst_shape[0]}x{dst_shape[1]}.')
  make_norm(model_config.norm, False)  # Rejects an unknown name now, not at init.
  depth = unet_depth(dst_shape, int(model_config.unet_depth))
  patch_layers_fit(dst_shape, int(model_config.patch_layers))
  generator = UNetGenerator(out_channels=int(dst_shape[-1]), depth=depth,
                            features=int(model_config.g_features), norm=model_config.norm,
                            dropout=float(dropout))
  discriminator = ConditionalPatchDiscriminator(int(model_config.patch_layers),
                                                int(model_config.d_features), model_config.norm)
  return generator, discriminator


class ResidualBlock(nn.Module):
  """CycleGAN's residual block: (reflect pad, 3x3 conv, norm, ReLU) twice, minus the last ReLU."""
  features: int
  norm: str = 'instance'

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    y = x
    for i in range(2):
      y = jnp.pad(y, ((0, 0), (1, 1), (1, 1), (0, 0)), mode='reflect')
      y = nn.Conv(self.features, (3, 3), padding='VALID', kernel_init=_INIT,
                  use_bias=_bias_before(self.norm, True), name=f'conv_{i}')(y)
      y = make_norm(self.norm, train)(y)
      if i == 0:
        y = nn.relu(y)
    return x + y


class ResnetGenerator(nn.Module):
  """CycleGAN's generator: c7s1-F, two stride-2 downsamplings (2F, 4F), `blocks` residual
  blocks at 4F, two stride-2 upsamplings (2F, F), c7s1-out with tanh; reflection padding.

  The paper's 3x3 stride-2 convolutions are 4x4 here (`resampling.DownConv` / `UpConv`,
  as pix2pix's), which XLA's CPU backend runs as matmuls; the receptive field grows by
  one pixel a layer. Sides that are not multiples of 4 are reflect-padded and cropped back.
  """
  out_channels: int
  features: int = 64
  blocks: int = 9
  norm: str = 'instance'

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    x, (height, width) = pad_to_multiple(x, 4)
    bias = _bias_before(self.norm, True)
    x = jnp.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode='reflect')
    x = nn.Conv(self.features, (7, 7), padding='VALID', kernel_init=_INIT, use_bias=bias,
                name='stem')(x)
    x = nn.relu(make_norm(self.norm, train)(x))
    for i, multiplier in enumerate((2, 4)):
      x = resampling.DownConv(self.features * multiplier, kernel_init=_INIT, use_bias=bias,
                              name=f'down_{i}')(x)
      x = nn.relu(make_norm(self.norm, train)(x))
    for i in range(self.blocks):
      x = ResidualBlock(self.features * 4, self.norm, name=f'block_{i}')(x, train)
    for i, multiplier in enumerate((2, 1)):
      x = resampling.UpConv(self.features * multiplier, kernel_init=_INIT, use_bias=bias,
                            name=f'up_{i}')(x)
      x = nn.relu(make_norm(self.norm, train)(x))
    x = jnp.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode='reflect')
    x = nn.Conv(self.out_channels, (7, 7), padding='VALID', kernel_init=_INIT, name='head')(x)
    return jnp.tanh(x[:, :height, :width])


class ImagePatchDiscriminator(nn.Module):
  """CycleGAN's unconditional PatchGAN: D(x) -> patch logits (B, h, w)."""
  patch_layers: int = 3
  features: int = 64
  norm: str = 'instance'

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    return PatchDiscriminator(self.patch_layers, self.features, self.norm, name='patch')(x, train)


def make_cyclegan_models(model_config, a_shape: tuple, b_shape: tuple) -> dict:
  """{'g_ab', 'g_ba': ResNet generators, 'd_a', 'd_b': PatchGANs} for `config.model`."""
  if tuple(a_shape[:2]) != tuple(b_shape[:2]):
    raise ValueError(f'CycleGAN translates between images of one size, but domain A is '
                     f'{a_shape[0]}x{a_shape[1]} and domain B {b_shape[0]}x{b_shape[1]}.')
  make_norm(model_config.norm, False)
  patch_layers_fit(a_shape, int(model_config.patch_layers))
  blocks, features = int(model_config.resnet_blocks), int(model_config.g_features)
  if blocks < 0:
    raise ValueError(f'config.model.resnet_blocks={blocks} must be >= 0.')
  generator = lambda out: ResnetGenerator(int(out), features, blocks, model_config.norm)  # noqa: E731
  discriminator = ImagePatchDiscriminator(int(model_config.patch_layers),
                                          int(model_config.d_features), model_config.norm)
  return {'g_ab': generator(b_shape[-1]), 'g_ba': generator(a_shape[-1]),
          'd_a': discriminator, 'd_b': discriminator.clone()}
