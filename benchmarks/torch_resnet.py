"""gan_jax's SNGAN ResNet (`model.name='resnet'`) in plain PyTorch (eager), for speed comparisons.

The networks are the ones `gan_jax/models/resnet.py` builds for a config and an image
shape, layer for layer and with the same parameter count (checked against the flax
modules by `torch_dcgan.param_counts_match`), in NCHW:

- Generator: Dense (with bias) to a (features, 4, 4) map; per up-block BN -> ReLU ->
  nearest 2x upsampling -> 3x3 conv (no bias) -> BN -> ReLU -> 3x3 conv, plus a 1x1 conv
  shortcut applied before the upsampling (a 1x1 conv commutes with nearest upsampling,
  as gan_jax exploits); the last block's conv2 and shortcut have no bias, as in gan_jax.
  Then BN -> ReLU -> 3x3 conv (with bias) -> tanh in float32.
- Discriminator: residual blocks ReLU -> 3x3 conv -> ReLU -> 3x3 conv (-> 2x2 average
  pooling), the first without the leading ReLU; the shortcut is pooled, then a 1x1 conv,
  where the block pools or changes the width, else the identity; the number of pooling
  blocks comes from gan_jax's own `resnet.num_downsamplings`. Then ReLU, a sum over
  positions accumulated in float32 and a Dense to one logit. Every layer has a bias.

Torch's layouts differ from flax's only by permutations that change no arithmetic: a flax
conv kernel (H, W, I, O) is torch's (O, I, H, W) transposed, and the generator's Dense
output is laid out (C, H, W) rather than flax's (H, W, C). 'SAME' 3x3 convolutions are
padding 1. Weights start as gan_jax's: Glorot-uniform with gain sqrt(2) on the residual
3x3 convolutions, gain 1 on the shortcuts, the Dense layers and the output conv (torch's
and flax's fans agree for both layouts), zero biases, BatchNorm scales 1, with flax's
BatchNorm momentum and epsilon as `torch_dcgan` converts them.

Spectral norm (`model.spectral_norm`, on every conv and the Dense of D, shortcuts
included) is torch's own `torch.nn.utils.parametrizations.spectral_norm`, the one a
PyTorch user would reach for. It costs what flax's `nn.SpectralNorm` (as
`gan_jax.models.layers.apply_layer` uses it) costs: one power iteration (two
matrix-vector products) and a third product for sigma in every train-mode forward,
none of them differentiated except sigma's dependence on the kernel, and sigma is the
same bilinear form u^T W v. It differs in what it stores and when:

- flax reshapes the HWIO kernel to (H*W*I, O) and keeps u of size O; torch reshapes OIHW
  to (O, I*H*W) and keeps both u (size O) and v (size I*H*W). From a stored u, flax
  computes v = N(W^T u), u' = N(W v), sigma = u'^T W v; torch, from its stored v,
  computes u' = N(W v), v' = N(W^T u'), sigma = u'^T W v'. So torch's estimate is half a
  power iteration ahead of flax's from the same start: the two are equal once the
  estimates have converged (as they do within a few steps of training), not before.
- In eval mode flax still runs one power iteration (without storing it); torch uses its
  stored u and v as they are. `load_gan_jax_spectral_vectors_` sets torch's (u, v) to
  flax's (u', v) of the stored u, so that the torch discriminator in eval mode computes
  exactly the logits of the flax one in either mode.
- gan_jax discards the power iteration of the discriminator call in the generator's
  update; torch's train-mode call keeps it: one more stored iteration per step
  (2 * n_critic + 1 against 2 * n_critic), at the same cost.
- At init flax stores the kernel divided by its first sigma estimate (one iteration from
  a random u); this port divides by torch's estimate after its 15 initial iterations, so
  both start with kernels of spectral norm about 1.
- flax normalises with x / sqrt(|x|^2 + 1e-12), torch with x / max(|x|, 1e-12): equal
  for any vector not near zero.
- Under CUDA autocast (bfloat16 compute) torch runs the power iteration's products in
  bfloat16; flax's stays float32.

`model.minibatch_std_group` and PacGAN packing are not ported (`check_supported`
rejects them). The training step is `torch_dcgan.TorchGANStep`, shared with the DCGAN
and MLP ports.

Run it to check the parameter counts of the SNGAN CIFAR-10 experiment:

  python benchmarks/torch_resnet.py
"""

import importlib.util
import math
import pathlib

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrizations
from torch.nn.utils import parametrize

from gan_jax.models import resnet as jax_resnet

_BENCHMARKS = pathlib.Path(__file__).resolve().parent
# benchmarks/ is not a package, so the shared step and helpers are loaded by path.
_spec = importlib.util.spec_from_file_location('torch_dcgan', _BENCHMARKS / 'torch_dcgan.py')
torch_dcgan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(torch_dcgan)

# resnet.residual_init: variance scale 2 on fan_avg, i.e. Glorot-uniform with gain sqrt(2).
RESIDUAL_GAIN = math.sqrt(2.0)
PLAIN_GAIN = 1.0  # resnet.plain_init: Glorot-uniform.
SPECTRAL_NORM_EPS = 1e-12  # flax's nn.SpectralNorm epsilon, and torch's default.


def _init_(layer: nn.Module, gain: float) -> nn.Module:
  """Glorot-uniform weights with `gain` and zero biases (flax's), in place; returns `layer`."""
  nn.init.xavier_uniform_(layer.weight, gain=gain)
  if layer.bias is not None:
    nn.init.zeros_(layer.bias)
  return layer


def _conv(in_channels: int, out_channels: int, kernel_size: int, gain: float,
          bias: bool = True) -> nn.Conv2d:
  """A stride-1 'SAME' convolution (odd kernel), initialised as gan_jax's."""
  return _init_(nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2,
                          bias=bias), gain)


def _batch_norm(channels: int) -> nn.BatchNorm2d:
  """flax's BatchNorm as resnet.py builds it: layers' momentum, eps 1e-5, scales 1."""
  return nn.BatchNorm2d(channels, eps=torch_dcgan.BATCH_NORM_EPS,
                        momentum=torch_dcgan.BATCH_NORM_MOMENTUM)


def _upsample(x: torch.Tensor) -> torch.Tensor:
  """Nearest-neighbour 2x upsampling: y[..., i, j] = x[..., i // 2, j // 2]."""
  return F.interpolate(x, scale_factor=2, mode='nearest')


def _spectral_norm(layer: nn.Module) -> nn.Module:
  """`layer` with torch's spectral norm on its weight, stored as W / sigma(W) like flax's."""
  parametrizations.spectral_norm(layer, eps=SPECTRAL_NORM_EPS)
  with torch.no_grad():
    # flax writes the kernel back divided by its first sigma estimate at init (see
    # layers.apply_layer); reading `weight` in train mode gives W / sigma. The stored u
    # and v stay singular-vector estimates: scaling W does not move them.
    layer.parametrizations.weight.original.copy_(layer.weight)
  return layer


def _weight(layer: nn.Module) -> torch.Tensor:
  """The weight a flax kernel loads into: the raw one under a spectral norm."""
  if parametrize.is_parametrized(layer, 'weight'):
    return layer.parametrizations.weight.original
  return layer.weight


class GeneratorBlock(nn.Module):
  """Residual up-block (B, C, H, W) -> (B, C, 2H, 2W), as resnet.GeneratorBlock."""

  def __init__(self, features: int, use_bias: bool):
    super().__init__()
    self.bn1 = _batch_norm(features)
    # No bias before a BatchNorm, which would cancel it (as in gan_jax).
    self.conv1 = _conv(features, features, 3, RESIDUAL_GAIN, bias=False)
    self.bn2 = _batch_norm(features)
    self.conv2 = _conv(features, features, 3, RESIDUAL_GAIN, bias=use_bias)
    self.shortcut = _conv(features, features, 1, PLAIN_GAIN, bias=use_bias)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """Upsamples x through the residual branch and the shortcut."""
    h = self.conv1(_upsample(F.relu(self.bn1(x))))
    h = self.conv2(F.relu(self.bn2(h)))
    # The 1x1 conv on the small map, then the upsampling: gan_jax's order, a quarter of
    # SNGAN's conv(upsample(x)) and the same function.
    return h + _upsample(self.shortcut(x))


class Generator(nn.Module):
  """Noise (B, latent_dim) -> images (B, C, S, S) in [-1, 1], float32, as ResNetGenerator."""

  def __init__(self, latent_dim: int, data_shape: tuple, features: int = 256):
    super().__init__()
    self.features = features
    n = jax_resnet.num_upsamplings(data_shape)
    base = jax_resnet.BASE_SIZE
    self.dense = _init_(nn.Linear(latent_dim, base * base * features), PLAIN_GAIN)
    # Attributes named as flax names the layers (block_0, ...), so that the parameters of
    # gan_jax load by name (see `load_gan_jax_params_`).
    for i in range(n):
      # Inner blocks' outputs also feed the next block's shortcut, where biases count.
      self.add_module(f'block_{i}', GeneratorBlock(features, use_bias=i < n - 1))
    self.num_blocks = n
    self.bn_out = _batch_norm(features)
    self.conv_out = _conv(features, int(data_shape[-1]), 3, PLAIN_GAIN)

  def forward(self, z: torch.Tensor) -> torch.Tensor:
    """Generates a batch (NCHW)."""
    base = jax_resnet.BASE_SIZE
    x = self.dense(z).view(-1, self.features, base, base)
    for i in range(self.num_blocks):
      x = getattr(self, f'block_{i}')(x)
    x = self.conv_out(F.relu(self.bn_out(x)))
    # tanh in float32, as gan_jax's images leave the model whatever the compute dtype.
    return torch.tanh(x.float())


class DiscriminatorBlock(nn.Module):
  """Residual block (B, C, H, W) -> (B, features, H', W'), as resnet.DiscriminatorBlock.

  H' = H / 2 with `downsample`. `optimized` (the first block) skips the leading ReLU.
  """

  def __init__(self, in_channels: int, features: int, downsample: bool = True,
               optimized: bool = False, spectral_norm: bool = False):
    super().__init__()
    normalise = _spectral_norm if spectral_norm else (lambda layer: layer)
    self.downsample, self.optimized = downsample, optimized
    self.conv1 = normalise(_conv(in_channels, features, 3, RESIDUAL_GAIN))
    self.conv2 = normalise(_conv(features, features, 3, RESIDUAL_GAIN))
    self.shortcut = (normalise(_conv(in_channels, features, 1, PLAIN_GAIN))
                     if downsample or in_channels != features else None)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """Scores features of x through the residual branch and the shortcut."""
    h = x if self.optimized else F.relu(x)
    h = self.conv2(F.relu(self.conv1(h)))
    if self.downsample:
      # Pooling before the shortcut's 1x1 conv: gan_jax's order, the same function as
      # SNGAN's pool(conv(x)) on a quarter of the pixels.
      h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
    if self.shortcut is not None:
      x = self.shortcut(x)
    return h + x


class Discriminator(nn.Module):
  """Images (B, C, S, S) -> logits (B,), float32, as ResNetDiscriminator without mbstd."""

  def __init__(self, data_shape: tuple, features: int = 128, spectral_norm: bool = False):
    super().__init__()
    n_down = jax_resnet.num_downsamplings(data_shape)
    in_channels = int(data_shape[-1])
    for i in range(n_down + jax_resnet.NUM_FLAT_BLOCKS):
      self.add_module(f'block_{i}', DiscriminatorBlock(
          in_channels, features, downsample=i < n_down, optimized=i == 0,
          spectral_norm=spectral_norm))
      in_channels = features
    self.num_blocks = n_down + jax_resnet.NUM_FLAT_BLOCKS
    dense = _init_(nn.Linear(features, 1), PLAIN_GAIN)
    self.dense = _spectral_norm(dense) if spectral_norm else dense

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """Scores a batch (NCHW)."""
    for i in range(self.num_blocks):
      x = getattr(self, f'block_{i}')(x)
    # Sum pooling (SNGAN) accumulated in float32, as gan_jax's.
    x = torch.sum(F.relu(x), dim=(2, 3), dtype=torch.float32)
    return self.dense(x)[:, 0].float()


def check_supported(config) -> None:
  """A ValueError naming the first config field this port does not implement."""
  torch_dcgan.raise_unsupported({'model.name': (config.model.name, 'resnet'),
                                 'stabilize.pack': (config.stabilize.pack, 1),
                                 **torch_dcgan.step_fields(config, spectral_norm=True)},
                                'ResNet')


def make_models(config, data_shape: tuple) -> tuple[Generator, Discriminator]:
  """The torch (generator, discriminator) for `config` and images of `data_shape` (H, W, C).

  A ValueError, from gan_jax's own check, for shapes the ResNet cannot fit.
  """
  model = config.model
  data_shape = tuple(int(d) for d in data_shape)
  generator = Generator(int(model.latent_dim), data_shape, features=int(model.g_features))
  discriminator = Discriminator(data_shape, features=int(model.d_features),
                                spectral_norm=bool(model.spectral_norm))
  return generator, discriminator


def to_torch(x: np.ndarray) -> torch.Tensor:
  """A batch of NHWC images (gan_jax's layout) as the NCHW tensor this port's models take."""
  return torch_dcgan.to_torch(x)


def _flax_scope(tree: dict, name: str) -> dict:
  """The subtree of a flax variable tree at a torch module's dotted name ('block_0.conv1')."""
  for part in name.split('.'):
    tree = tree[part]
  return tree


def _layers(module: nn.Module):
  """(dotted name, layer) of every Conv2d, Linear and BatchNorm2d of `module`."""
  return [(name, layer) for name, layer in module.named_modules()
          if isinstance(layer, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))]


def load_gan_jax_player_params_(player: Generator | Discriminator, params: dict) -> None:
  """Sets one torch player's parameters to its gan_jax 'params' tree, in place.

  Layers load by name (the torch modules are named as flax's). Under a spectral norm the
  raw kernel loads, as flax stores it; the power-iteration vectors are not in 'params'
  (see `load_gan_jax_spectral_vectors_`).
  """
  for name, layer in _layers(player):
    variables = _flax_scope(params, name)
    if isinstance(layer, nn.BatchNorm2d):
      torch_dcgan.copy_(layer.weight, variables['scale'])
      torch_dcgan.copy_(layer.bias, variables['bias'])
      continue
    kernel, bias = np.asarray(variables['kernel']), variables.get('bias')
    if isinstance(player, Generator) and layer is player.dense:
      # flax reshapes the Dense output to (H, W, C), this generator to (C, H, W).
      side, channels = jax_resnet.BASE_SIZE, player.features
      kernel = (kernel.reshape(-1, side, side, channels).transpose(0, 3, 1, 2)
                .reshape(kernel.shape[0], -1))
      bias = np.asarray(bias).reshape(side, side, channels).transpose(2, 0, 1)
    # Conv kernels HWIO -> OIHW; Dense kernels (in, out) -> (out, in).
    torch_dcgan.copy_(_weight(layer), kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4
                      else kernel.T)
    if layer.bias is not None:
      torch_dcgan.copy_(layer.bias, np.asarray(bias).reshape(-1))


def load_gan_jax_params_(generator: Generator, discriminator: Discriminator,
                         g_params: dict, d_params: dict) -> None:
  """Sets the torch players' parameters to gan_jax's 'params' trees, in place.

  With these, both players compute the same functions as flax's up to float rounding
  (with spectral norm, once `load_gan_jax_spectral_vectors_` has loaded the vectors too),
  which is what tests/test_compare_torch.py checks.
  """
  load_gan_jax_player_params_(generator, g_params)
  load_gan_jax_player_params_(discriminator, d_params)


def load_gan_jax_spectral_vectors_(discriminator: Discriminator, d_batch_stats: dict) -> None:
  """Sets torch's spectral-norm (u, v) from flax's u in gan_jax's 'batch_stats', in place.

  Call after `load_gan_jax_params_`. From flax's stored u, v = N(W^T u) and u' = N(W v)
  (W the kernel as a (O, I*H*W) matrix): torch's stored (u', v) make the torch
  discriminator in eval mode compute flax's sigma = u'^T W v, so its logits equal the
  flax discriminator's in either mode. In train mode torch iterates once more from v
  (see the module docstring).
  """
  for name, layer in discriminator.named_modules():
    if not parametrize.is_parametrized(layer, 'weight'):
      continue
    scope, _, leaf = name.rpartition('.')
    stats = _flax_scope(d_batch_stats, scope) if scope else d_batch_stats
    # flax keeps u under SpectralNorm_<k>/'<layer>/kernel/u', k in call order.
    key = f'{leaf}/kernel/u'
    (u,) = [s[key] for s in stats.values() if isinstance(s, dict) and key in s]
    norm = layer.parametrizations.weight[0]
    with torch.no_grad():
      matrix = _weight(layer).flatten(1)  # (O, I * H * W), torch's own reshape.
      u = torch.from_numpy(np.array(u, np.float32)).reshape(-1)
      v = F.normalize(matrix.T @ u, dim=0, eps=SPECTRAL_NORM_EPS)
      # pylint: disable=protected-access
      norm._u.copy_(F.normalize(matrix @ v, dim=0, eps=SPECTRAL_NORM_EPS))
      norm._v.copy_(v)


def main():
  """Prints and asserts the parameter counts of the SNGAN CIFAR-10 networks."""
  name = 'cifar10_sngan'
  config = torch_dcgan.load_module(torch_dcgan.EXPERIMENTS / f'{name}.py', name).get_config()
  torch_dcgan.print_param_counts({name: config}, make_models)


if __name__ == '__main__':
  main()
