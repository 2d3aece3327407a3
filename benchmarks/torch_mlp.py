"""gan_jax's MLP GAN (`model.name='mlp'`) in plain PyTorch (eager, CPU), for speed comparisons.

The networks are the ones `gan_jax/models/mlp.py` builds for a config and a data shape,
layer for layer and with the same parameter count (checked against the flax modules by
`torch_dcgan.param_counts_match`), in the settings of `experiments/mixture_study.py`:
hidden widths (`hidden_dims`, or `g_hidden_dims` / `d_hidden_dims` per player), the
activations of `gan_jax.models.layers.ACTIVATIONS` (leaky ReLU with its slope 0.2, GELU
with flax's tanh approximation), the generator's BatchNorm (`g_batch_norm`, before each
activation, with flax's momentum and epsilon as `torch_dcgan` converts them), maxout
units in the discriminator (`d_activation='maxout'`: unit j is the max of the Dense
outputs j * pieces .. (j + 1) * pieces - 1, as `layers.Maxout` groups them) and PacGAN
packing (`stabilize.pack`).

Layouts are gan_jax's: points (B, D), images NHWC, flattened in (H, W, C) order by both
players, so a flax kernel is the transpose of the torch weight. Packing happens inside
the torch discriminator, which takes the unpacked batch (B, ...) and joins each run of m
consecutive examples as `gan_jax.stabilize.packing.pack` does (member j fills features
[j * C, (j + 1) * C) of the last axis) before flattening: for points a view (B / m, m * D).
Weights start as flax's default initialisation (LeCun normal, truncated; zero biases;
BatchNorm scales N(1, 0.02) as in `layers.batch_norm`).

The training step is `torch_dcgan.TorchGANStep`, shared with the DCGAN port.

Run it to check the parameter counts of the mixture study's networks:

  python benchmarks/torch_mlp.py
"""

import functools
import importlib.util
import math
import pathlib

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from gan_jax.stabilize import packing
from gan_jax.models import layers as jax_layers

_BENCHMARKS = pathlib.Path(__file__).resolve().parent
# benchmarks/ is not a package, so the shared step and helpers are loaded by path.
_spec = importlib.util.spec_from_file_location('torch_dcgan', _BENCHMARKS / 'torch_dcgan.py')
torch_dcgan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(torch_dcgan)

# The elementwise functions of gan_jax.models.layers.ACTIVATIONS, with flax's defaults.
ACTIVATIONS = {
    'relu': F.relu,
    'leaky_relu': functools.partial(F.leaky_relu, negative_slope=0.2),
    'elu': F.elu,
    'gelu': functools.partial(F.gelu, approximate='tanh'),  # flax's nn.gelu approximates.
    'tanh': torch.tanh,
    'silu': F.silu,
}


def init_flax_default_(module: nn.Module) -> None:
  """Initialises `module` in place as flax's Dense and gan_jax's BatchNorm do.

  Weights: LeCun normal truncated at 2 std (flax's `lecun_normal`: variance 1 / fan_in
  after truncation, hence the 0.8796 correction); biases zero; BN scales N(1, 0.02).
  """
  for layer in module.modules():
    if isinstance(layer, nn.Linear):
      std = math.sqrt(1.0 / layer.in_features) / 0.87962566103423978
      nn.init.trunc_normal_(layer.weight, 0.0, std, -2 * std, 2 * std)
      if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    elif isinstance(layer, nn.BatchNorm1d):
      nn.init.normal_(layer.weight, 1.0, 0.02)
      nn.init.zeros_(layer.bias)


class Generator(nn.Module):
  """Noise (B, latent_dim) -> examples (B, *data_shape), as `MLPGenerator`."""

  def __init__(self, latent_dim: int, data_shape: tuple, hidden_dims: tuple,
               activation: str, batch_norm: bool):
    super().__init__()
    self.data_shape = tuple(data_shape)
    self.is_image = jax_layers.is_image_shape(self.data_shape)
    self.act = ACTIVATIONS[activation]
    widths = (latent_dim, *hidden_dims)
    # No biases before a BatchNorm, which would cancel them (as in gan_jax).
    self.dense = nn.ModuleList(nn.Linear(i, o, bias=not batch_norm)
                               for i, o in zip(widths[:-1], widths[1:]))
    self.norms = nn.ModuleList(
        nn.BatchNorm1d(w, eps=torch_dcgan.BATCH_NORM_EPS,
                       momentum=torch_dcgan.BATCH_NORM_MOMENTUM)
        for w in (hidden_dims if batch_norm else ()))
    self.out = nn.Linear(widths[-1], math.prod(self.data_shape))
    init_flax_default_(self)

  def forward(self, z: torch.Tensor) -> torch.Tensor:
    """Generates a batch in gan_jax's layout (points (B, D), images NHWC)."""
    h = z
    for i, dense in enumerate(self.dense):
      h = dense(h)
      if self.norms:
        h = self.norms[i](h)
      h = self.act(h)
    h = self.out(h)
    if self.is_image:
      h = torch.tanh(h)  # Images live in [-1, 1]; points stay linear, as in gan_jax.
    return h.view(-1, *self.data_shape)


class Discriminator(nn.Module):
  """Examples (B, ...) -> logits (B / pack,), as `MLPDiscriminator` on packed inputs."""

  def __init__(self, data_shape: tuple, hidden_dims: tuple, activation: str,
               maxout_pieces: int = 5, pack: int = 1):
    super().__init__()
    self.pack = pack
    self.maxout = activation == jax_layers.MAXOUT
    # maxout's pieces are extra outputs of each layer's Dense, not an elementwise function.
    self.pieces = maxout_pieces if self.maxout else 1
    self.act = None if self.maxout else ACTIVATIONS[activation]
    widths = (math.prod(packing.packed_shape(data_shape, pack)), *hidden_dims)
    self.dense = nn.ModuleList(nn.Linear(i, o * self.pieces)
                               for i, o in zip(widths[:-1], widths[1:]))
    self.logit = nn.Linear(widths[-1], 1)
    init_flax_default_(self)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """Scores the packs of `pack` consecutive examples of a batch (gan_jax's layout)."""
    if self.pack == 1:
      h = x.flatten(1)
    else:
      # (B, ..., C) -> (B/m, m, ..., C) -> (B/m, ..., m, C), flattened: packing.pack's
      # order. For points the move is a no-op and all of it a view.
      h = x.unflatten(0, (-1, self.pack)).movedim(1, -2).flatten(1)
    for dense in self.dense:
      h = dense(h)
      h = h.unflatten(-1, (-1, self.pieces)).amax(-1) if self.maxout else self.act(h)
    return self.logit(h)[:, 0]


def check_supported(config) -> None:
  """A ValueError naming the first config field this port does not implement."""
  torch_dcgan.raise_unsupported({'model.name': (config.model.name, 'mlp'),
                                 **torch_dcgan.step_fields(config)}, 'MLP')


def make_models(config, data_shape: tuple) -> tuple[Generator, Discriminator]:
  """The torch (generator, discriminator) for `config` and examples of `data_shape`.

  Widths and activations resolve as in `gan_jax.models.mlp.make_models`: an empty
  per-player tuple means `hidden_dims`, an empty `d_activation` means `activation`.
  """
  model = config.model
  data_shape = tuple(int(d) for d in data_shape)
  hidden_dims = tuple(int(w) for w in model.hidden_dims)
  g_hidden_dims = tuple(int(w) for w in model.g_hidden_dims) or hidden_dims
  d_hidden_dims = tuple(int(w) for w in model.d_hidden_dims) or hidden_dims
  generator = Generator(int(model.latent_dim), data_shape, g_hidden_dims, model.activation,
                        bool(model.g_batch_norm))
  discriminator = Discriminator(data_shape, d_hidden_dims,
                                model.d_activation or model.activation,
                                int(model.maxout_pieces), int(config.stabilize.pack))
  return generator, discriminator


def to_torch(x: np.ndarray) -> torch.Tensor:
  """A batch in gan_jax's layout as a tensor: this port keeps that layout."""
  return torch.from_numpy(np.ascontiguousarray(x))


def load_gan_jax_params_(generator: Generator, discriminator: Discriminator,
                         g_params: dict, d_params: dict) -> None:
  """Sets the torch players' parameters to gan_jax's 'params' trees, in place.

  With these, both compute the same functions (up to float rounding), which is what
  tests/test_compare_torch.py checks. A flax kernel (in, out) is the torch weight's
  transpose; flax names the generator's layers Dense_0.. (the output layer last) and
  BatchNorm_0.., the discriminator's Dense_0.. or, with maxout, Maxout_i/Dense_0, then its
  output Dense.
  """
  def copy_dense_(linear: nn.Linear, layer: dict) -> None:
    torch_dcgan.copy_(linear.weight, np.asarray(layer['kernel']).T)
    if linear.bias is not None:
      torch_dcgan.copy_(linear.bias, layer['bias'])

  for i, dense in enumerate([*generator.dense, generator.out]):
    copy_dense_(dense, g_params[f'Dense_{i}'])
  torch_dcgan.copy_batch_norms_(list(generator.norms), g_params)
  if discriminator.maxout:
    for i, dense in enumerate(discriminator.dense):
      copy_dense_(dense, d_params[f'Maxout_{i}']['Dense_0'])
    copy_dense_(discriminator.logit, d_params['Dense_0'])
  else:
    for i, dense in enumerate([*discriminator.dense, discriminator.logit]):
      copy_dense_(dense, d_params[f'Dense_{i}'])


def main():
  """Prints and asserts the parameter counts of the mixture study's networks."""
  study = torch_dcgan.load_module(torch_dcgan.EXPERIMENTS / 'mixture_study.py',
                                  'mixture_study')
  torch_dcgan.print_param_counts(
      {row: study.get_config(row) for row in ('ring,gan', 'ring,pacgan1', 'ring,pacgan4')},
      make_models)


if __name__ == '__main__':
  main()
