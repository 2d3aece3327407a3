"""gan_jax's DCGAN and its training step in plain PyTorch (eager, CPU), for speed comparisons.

The networks are the ones `gan_jax/models/dcgan.py` builds for a config and an image
shape, layer for layer and with the same parameter count (checked against the flax
modules by `param_counts_match`): the number of stride-2 layers comes from gan_jax's own
`dcgan.num_resamplings`. Torch's layouts differ only by permutations that change no
arithmetic: images are NCHW, the generator's first Dense is reshaped to (C, H, W)
rather than flax's (H, W, C), the discriminator flattens (C, H, W) before its last
Dense, and ConvTranspose2d correlates with the flipped kernel where flax's does not.
With kernel 4, stride 2 and padding 1, torch's Conv2d halves and ConvTranspose2d
doubles H and W, with the same alignment as flax's 'SAME' padding for even sizes.

`TorchGANStep` does what one `gan_jax.core.step` train step does for the non-saturating or
hinge loss with Adam at a constant or linearly decaying rate: `n_critic` discriminator
updates, each generating a fake batch without gradients and calling the discriminator
twice (real, then fake), then one generator update, then the EMA of the generator's
parameters with gan_jax's decay ramp.

The step, the parameter counting and the config check are not DCGAN-specific: they take
the torch model pair, or the port's `make_models`, so `benchmarks/torch_mlp.py` and
`benchmarks/torch_resnet.py` share them. A port is a module with `check_supported(config)`,
`make_models(config, data_shape)`, `to_torch(x)` (a NumPy batch of gan_jax's layout in the
port's layout) and `load_gan_jax_params_(generator, discriminator, g_params, d_params)`.

Run it to check the parameter counts of the MNIST and CIFAR-10 experiments:

  python benchmarks/torch_dcgan.py
"""

import importlib.util
import pathlib
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from gan_jax import models as models_lib
from gan_jax.stabilize import packing
from gan_jax.models import dcgan as jax_dcgan

# flax's BatchNorm keeps running = 0.9 * running + 0.1 * batch (layers.BATCH_NORM_MOMENTUM);
# torch's momentum is the weight of the new batch, so the same rule is momentum 0.1.
BATCH_NORM_MOMENTUM = 0.1
BATCH_NORM_EPS = 1e-5  # flax's default, and torch's.
INIT_STD = 0.02  # Radford et al.: weights N(0, 0.02), BatchNorm scales N(1, 0.02).

BENCHMARKS = pathlib.Path(__file__).resolve().parent
EXPERIMENTS = BENCHMARKS.parent / 'experiments'


def _batch_norm(channels: int) -> nn.BatchNorm2d:
  """A BatchNorm over channels with flax's momentum and epsilon."""
  return nn.BatchNorm2d(channels, eps=BATCH_NORM_EPS, momentum=BATCH_NORM_MOMENTUM)


def init_dcgan_(module: nn.Module) -> None:
  """Initialises `module` in place as gan_jax does: N(0, 0.02) weights, N(1, 0.02) BN scales.

  Biases start at zero, as flax's do (torch's default is uniform).
  """
  for layer in module.modules():
    if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      nn.init.normal_(layer.weight, 0.0, INIT_STD)
      if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    elif isinstance(layer, nn.BatchNorm2d):
      nn.init.normal_(layer.weight, 1.0, INIT_STD)
      nn.init.zeros_(layer.bias)


class Generator(nn.Module):
  """Noise (B, latent_dim) -> images (B, C, H, W) in [-1, 1], as `DCGANGenerator`."""

  def __init__(self, latent_dim: int, data_shape: tuple, features: int = 64):
    super().__init__()
    height, width, channels = data_shape
    n = jax_dcgan.num_resamplings(data_shape)
    self.base = (features * 2 ** (n - 1), height >> n, width >> n)  # (C, H, W)
    base_c, base_h, base_w = self.base
    # No biases before a BatchNorm, which would cancel them (as in gan_jax).
    self.dense = nn.Linear(latent_dim, base_c * base_h * base_w, bias=False)
    self.dense_norm = _batch_norm(base_c)
    blocks = []
    for i in range(1, n):
      blocks += [nn.ConvTranspose2d(base_c >> (i - 1), base_c >> i, 4, 2, 1, bias=False),
                 _batch_norm(base_c >> i), nn.ReLU()]
    blocks.append(nn.ConvTranspose2d(base_c >> (n - 1), channels, 4, 2, 1))
    self.blocks = nn.Sequential(*blocks)
    init_dcgan_(self)

  def forward(self, z: torch.Tensor) -> torch.Tensor:
    """Generates a batch (NCHW)."""
    x = self.dense(z).view(-1, *self.base)
    x = F.relu(self.dense_norm(x))
    return torch.tanh(self.blocks(x))


class Discriminator(nn.Module):
  """Images (B, C, H, W) -> logits (B,), as `DCGANDiscriminator` without SN or mbstd."""

  def __init__(self, data_shape: tuple, features: int = 64, batch_norm: bool = True):
    super().__init__()
    height, width, channels = data_shape
    n = jax_dcgan.num_resamplings(data_shape)
    blocks, in_c = [], channels
    for i in range(n):
      # The first layer has no BatchNorm (the paper's choice), so it keeps its bias.
      normalise = batch_norm and i > 0
      out_c = features * 2 ** i
      blocks.append(nn.Conv2d(in_c, out_c, 4, 2, 1, bias=not normalise))
      if normalise:
        blocks.append(_batch_norm(out_c))
      blocks.append(nn.LeakyReLU(0.2))
      in_c = out_c
    self.blocks = nn.Sequential(*blocks)
    self.final = (in_c, height >> n, width >> n)  # (C, H, W) of the last feature map.
    self.logit = nn.Linear(in_c * (height >> n) * (width >> n), 1)
    init_dcgan_(self)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    """Scores a batch (NCHW)."""
    return self.logit(self.blocks(x).flatten(1))[:, 0]


def _non_saturating_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
  """gan_jax's `_bce_discriminator`: softplus(-D(x)) + softplus(D(G(z))), batch means."""
  return F.softplus(-real).mean() + F.softplus(fake).mean()


def _non_saturating_g_loss(fake: torch.Tensor) -> torch.Tensor:
  """gan_jax's `_non_saturating_generator`: softplus(-D(G(z))), the batch mean."""
  return F.softplus(-fake).mean()


def _hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
  """gan_jax's `_hinge_discriminator`: relu(1 - D(x)) + relu(1 + D(G(z))), batch means."""
  return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
  """gan_jax's hinge generator loss (`_wasserstein_generator`): -mean D(G(z))."""
  return -fake.mean()


# config.loss.name -> (discriminator loss of (real, fake) logits, generator loss of fake
# logits): the losses of gan_jax.losses that `TorchGANStep` implements.
LOSSES = {
    'non_saturating': (_non_saturating_d_loss, _non_saturating_g_loss),
    'hinge': (_hinge_d_loss, _hinge_g_loss),
}
# The config.optim.schedule values `make_lr_scheduler` implements.
SCHEDULES = ('constant', 'linear')


def step_fields(config, spectral_norm: bool = False) -> dict:
  """'section.name' -> (value, what is supported), for what the torch step and ports lack.

  What is supported is one value, or a frozenset of the values supported.
  `TorchGANStep` implements the losses of `LOSSES` and Adam at the rates of `SCHEDULES`
  (no warm-up), and no port has the minibatch-stddev feature. `spectral_norm` says that
  the port implements `model.spectral_norm` (the ResNet's does), so that both values
  pass. Both compute dtypes are supported: bfloat16 runs the players under torch's
  autocast (see `TorchGANStep`).
  """
  fields = {
      'model.spectral_norm': (config.model.spectral_norm, False),
      'model.minibatch_std_group': (config.model.minibatch_std_group, 0),
      'loss.name': (config.loss.name, frozenset(LOSSES)),
      'loss.gradient_penalty': (config.loss.gradient_penalty, 0.0),
      'loss.r1': (config.loss.r1, 0.0),
      'loss.clip_weights': (config.loss.clip_weights, 0.0),
      'stabilize.unroll_steps': (config.stabilize.unroll_steps, 0),
      'stabilize.diffaugment': (config.stabilize.diffaugment, ''),
      'optim.name': (config.optim.name, 'adam'),
      'optim.schedule': (config.optim.schedule, frozenset(SCHEDULES)),
      'optim.warmup_steps': (config.optim.warmup_steps, 0),
  }
  if spectral_norm:
    del fields['model.spectral_norm']
  return fields


def raise_unsupported(fields: dict, port: str) -> None:
  """A ValueError naming the first of `fields` (as `step_fields` gives them) off its value."""
  for field, (value, supported) in fields.items():
    if isinstance(supported, frozenset):
      # `any(==)` rather than `in`: a config value need not be hashable.
      if not any(value == s for s in supported):
        raise ValueError(f'The torch {port} supports only config.{field} in '
                         f'{sorted(supported)}, got {value!r}.')
    elif value != supported:
      raise ValueError(f'The torch {port} supports only config.{field}={supported!r}, '
                       f'got {value!r}.')


def check_supported(config) -> None:
  """A ValueError naming the first config field this port does not implement."""
  raise_unsupported({'model.name': (config.model.name, 'dcgan'),
                     'stabilize.pack': (config.stabilize.pack, 1),
                     **step_fields(config)}, 'DCGAN')


def make_models(config, data_shape: tuple) -> tuple[Generator, Discriminator]:
  """The torch (generator, discriminator) for `config` and images of `data_shape`."""
  model_config = config.model
  data_shape = tuple(int(d) for d in data_shape)
  generator = Generator(int(model_config.latent_dim), data_shape,
                        features=int(model_config.g_features))
  discriminator = Discriminator(data_shape, features=int(model_config.d_features),
                                batch_norm=bool(model_config.d_batch_norm))
  return generator, discriminator


def count_params(module: nn.Module) -> int:
  """Trainable parameters of a torch module (BatchNorm running statistics are buffers)."""
  return sum(p.numel() for p in module.parameters())


def to_torch(x: np.ndarray) -> torch.Tensor:
  """A batch of NHWC images (gan_jax's layout) as the NCHW tensor this port's models take."""
  return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def make_lr_scheduler(optimizer: torch.optim.Optimizer, optim_config,
                      num_updates: int) -> torch.optim.lr_scheduler.LRScheduler | None:
  """torch's counterpart of `gan_jax.core.optim.make_schedule` for one player, or None.

  None for the constant rate. For 'linear', a scheduler to step after every update of
  `optimizer`: optax's schedule counts the player's updates (`num_updates` of them over
  training: num_train_steps for G, n_critic times that for D), and its
  linear_schedule(lr, 0, n) runs update k (from 0) at lr * (1 - k / n), then 0 from
  update n on. Warm-up is not implemented (`step_fields` rejects it).
  """
  if optim_config.schedule == 'constant':
    return None
  decay_updates = max(int(num_updates), 1)  # gan_jax's max(num_steps - warmup, 1).
  return torch.optim.lr_scheduler.LambdaLR(
      optimizer, lambda k: max(0.0, 1.0 - k / decay_updates))


def gan_jax_param_counts(config, data_shape: tuple) -> dict:
  """{'generator': n, 'discriminator': n}: the 'params' sizes of gan_jax's modules.

  Shapes only (`jax.eval_shape`), so nothing is initialised or compiled.
  """
  generator, discriminator = models_lib.make_models(config.model, tuple(data_shape))
  key = jax.random.PRNGKey(0)
  # Two examples: BatchNorm needs a batch; the discriminator judges packs of
  # `stabilize.pack` examples. Both as in gan_jax.core.state.init_state.
  z = jnp.zeros((2, int(config.model.latent_dim)), jnp.float32)
  x = jnp.zeros((2, *packing.packed_shape(data_shape, config.stabilize.pack)), jnp.float32)
  counts = {}
  for name, module, inputs in (('generator', generator, z), ('discriminator', discriminator, x)):
    shapes = jax.eval_shape(lambda k, m=module, v=inputs: m.init(k, v, train=False), key)
    counts[name] = sum(leaf.size for leaf in jax.tree.leaves(shapes['params']))
  return counts


class TorchGANStep:
  """One gan_jax train step in eager PyTorch: `step(x)` with x (n_critic * B, ...).

  Trains the (generator, discriminator) pair of a port's `make_models` on x in the port's
  layout (see `to_torch`), with the loss `config.loss.name` of `LOSSES` and Adam at the
  rate of `config.optim.schedule` (see `make_lr_scheduler`). Seed torch before making
  the pair, and check the config with the port's `check_supported` first: the step
  trusts that it is one it implements.
  Critic update i uses the rows i, i + n_critic, ... of x, as gan_jax's step does.
  The step runs where the pair's parameters are (move the pair and x to a GPU with
  `.to(device)` first). With `model.compute_dtype='bfloat16'` the players' forward
  passes run under `torch.autocast(dtype=torch.bfloat16)`, torch's counterpart of
  gan_jax's mixed precision: float32 parameters and optimizer, bf16 matmuls and
  convolutions, float32 losses.
  """

  def __init__(self, config, generator: nn.Module, discriminator: nn.Module):
    self.generator, self.discriminator = generator, discriminator
    self.device = next(generator.parameters()).device
    self.bfloat16 = config.model.compute_dtype == 'bfloat16'
    self.generator.train()
    self.discriminator.train()
    optim = config.optim
    betas = (float(optim.b1), float(optim.b2))
    # eps 1e-8 is optax's default, applied outside the square root as torch does.
    self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=float(optim.g_lr),
                                  betas=betas, eps=1e-8)
    self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=float(optim.d_lr),
                                  betas=betas, eps=1e-8)
    self.n_critic = int(config.loss.n_critic)
    steps = int(config.num_train_steps)
    self.g_schedule = make_lr_scheduler(self.g_opt, optim, steps)
    self.d_schedule = make_lr_scheduler(self.d_opt, optim, steps * self.n_critic)
    self.d_loss_fn, self.g_loss_fn = LOSSES[config.loss.name]
    self.latent_dim = int(config.model.latent_dim)
    self.ema_decay = float(optim.ema_decay)
    self.g_params = list(self.generator.parameters())
    self.d_params = list(self.discriminator.parameters())
    self.ema_params = [p.detach().clone() for p in self.g_params] if self.ema_decay > 0 else None
    self.step = 0

  def _autocast(self):
    """The context the players run in: bf16 autocast for bfloat16 compute, else a no-op."""
    return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bfloat16)

  def param_counts(self) -> dict:
    """{'generator': n, 'discriminator': n}, as `gan_jax_param_counts` returns them."""
    return {'generator': count_params(self.generator),
            'discriminator': count_params(self.discriminator)}

  def _d_update(self, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """One discriminator update on `real` and the fake batch G(z); returns the loss."""
    with torch.no_grad(), self._autocast():
      # gan_jax stops the gradient at the fakes; no_grad is torch's way to not record it.
      # Unlike gan_jax, this moves the generator's BatchNorm running statistics, a few
      # elementwise ops per layer.
      fake = self.generator(z)
    with self._autocast():
      # Two calls, as gan_jax makes them, so each batch is normalised by its own statistics.
      real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
    # The loss in float32, as gan_jax's players return float32 logits.
    loss = self.d_loss_fn(real_logits.float(), fake_logits.float())
    self.d_opt.zero_grad(set_to_none=True)
    loss.backward()
    self.d_opt.step()
    if self.d_schedule is not None:
      self.d_schedule.step()
    return loss.detach()

  def _g_update(self, z: torch.Tensor) -> torch.Tensor:
    """One generator update of G(z) against the current discriminator; returns the loss."""
    # gan_jax differentiates the generator's loss with respect to g_params only; freezing
    # D's parameters keeps torch from computing their unused gradients too.
    for p in self.d_params:
      p.requires_grad_(False)
    with self._autocast():
      logits = self.discriminator(self.generator(z))
    loss = self.g_loss_fn(logits.float())
    self.g_opt.zero_grad(set_to_none=True)
    loss.backward()
    self.g_opt.step()
    if self.g_schedule is not None:
      self.g_schedule.step()
    for p in self.d_params:
      p.requires_grad_(True)
    return loss.detach()

  def __call__(self, x: torch.Tensor, noise=None) -> dict:
    """One train step on x; returns the last critic loss and the generator loss (tensors).

    `noise`, if given, holds the n_critic + 1 noise batches (B, latent_dim) to use, the
    critic updates' first, so that a test can replay the noise of gan_jax's step;
    otherwise they are drawn here.
    """
    batch_size = x.shape[0] // self.n_critic
    if noise is None:
      noise = [torch.randn(batch_size, self.latent_dim, device=self.device)
               for _ in range(self.n_critic + 1)]
    for i in range(self.n_critic):
      d_loss = self._d_update(x[i::self.n_critic], noise[i])
    g_loss = self._g_update(noise[self.n_critic])
    if self.ema_params is not None:
      # gan_jax's ramp (step.ema_decay_at): min(decay, (1 + step) / (10 + step)).
      decay = min(self.ema_decay, (1.0 + self.step) / (10.0 + self.step))
      with torch.no_grad():
        # lerp(e, p, 1 - decay) = decay * e + (1 - decay) * p.
        torch._foreach_lerp_(self.ema_params, self.g_params, 1.0 - decay)  # pylint: disable=protected-access
    self.step += 1
    return {'d_loss': d_loss, 'g_loss': g_loss}


def copy_(tensor: torch.Tensor, value) -> None:
  """Copies an array-like of the same shape into a parameter, without recording gradients."""
  # np.array copies: jax arrays are read-only, which torch.from_numpy warns about.
  with torch.no_grad():
    tensor.copy_(torch.from_numpy(np.array(value, np.float32)))


def copy_batch_norms_(norms: list, params: dict) -> None:
  """flax BatchNorm_i's scale and bias into the i-th torch BatchNorm."""
  for i, norm in enumerate(norms):
    copy_(norm.weight, params[f'BatchNorm_{i}']['scale'])
    copy_(norm.bias, params[f'BatchNorm_{i}']['bias'])


def load_gan_jax_params_(generator: Generator, discriminator: Discriminator,
                         g_params: dict, d_params: dict) -> None:
  """Sets the torch players' parameters to gan_jax's 'params' trees, in place.

  With these, both compute the same functions (up to float rounding), which is what
  tests/test_compare_torch.py checks: the layouts differ only by the permutations
  described at the top of this file.
  """
  base_c, base_h, base_w = generator.base
  kernel = np.asarray(g_params['Dense_0']['kernel'])  # (latent, H * W * C), (H, W, C) order.
  copy_(generator.dense.weight, kernel.reshape(-1, base_h, base_w, base_c)
         .transpose(0, 3, 1, 2).reshape(kernel.shape[0], -1).T)
  copy_batch_norms_([generator.dense_norm] + [m for m in generator.blocks
                                               if isinstance(m, nn.BatchNorm2d)], g_params)
  ups = [m for m in generator.blocks if isinstance(m, nn.ConvTranspose2d)]
  for i, up in enumerate(ups):
    layer = g_params[f'ConvTranspose_{i}']
    # flax correlates the dilated input with the kernel as stored; torch's transposed
    # convolution uses it flipped in space. Both store (in, out) channel pairs.
    copy_(up.weight, np.flip(np.asarray(layer['kernel']), (0, 1)).transpose(2, 3, 0, 1))
    if up.bias is not None:
      copy_(up.bias, layer['bias'])

  convs = [m for m in discriminator.blocks if isinstance(m, nn.Conv2d)]
  for i, conv in enumerate(convs):
    layer = d_params[f'Conv_{i}']
    copy_(conv.weight, np.asarray(layer['kernel']).transpose(3, 2, 0, 1))
    if conv.bias is not None:
      copy_(conv.bias, layer['bias'])
  copy_batch_norms_([m for m in discriminator.blocks if isinstance(m, nn.BatchNorm2d)],
                     d_params)
  final_c, final_h, final_w = discriminator.final
  kernel = np.asarray(d_params['Dense_0']['kernel'])  # (H * W * C, 1), (H, W, C) order.
  copy_(discriminator.logit.weight,
         kernel.reshape(final_h, final_w, final_c).transpose(2, 0, 1).reshape(1, -1))
  copy_(discriminator.logit.bias, d_params['Dense_0']['bias'])


def param_counts_match(config, data_shape: tuple,
                       make_torch_models: Callable = make_models) -> tuple[dict, dict]:
  """(gan_jax counts, torch counts) for `config`; an AssertionError if they differ.

  `make_torch_models` is a port's `make_models` (by default this DCGAN's).
  """
  jax_counts = gan_jax_param_counts(config, data_shape)
  generator, discriminator = make_torch_models(config, data_shape)
  torch_counts = {'generator': count_params(generator),
                  'discriminator': count_params(discriminator)}
  assert jax_counts == torch_counts, (
      f'Parameter counts differ: gan_jax {jax_counts}, torch {torch_counts}.')
  return jax_counts, torch_counts


def load_module(path: pathlib.Path, name: str):
  """Imports the Python file at `path` as a module called `name`."""
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def print_param_counts(configs: dict, make_torch_models: Callable = make_models) -> None:
  """Prints and asserts the two frameworks' parameter counts of each {name: config}."""
  # Imported here, not at the top: it defines absl flags, which a test importing this
  # module should not get.
  step_speed = load_module(BENCHMARKS / 'step_speed.py', 'step_speed')
  for name, config in configs.items():
    shape = step_speed.data_shape_of(config)
    jax_counts, torch_counts = param_counts_match(config, shape, make_torch_models)
    print(f'{name} {shape}: gan_jax {jax_counts}, torch {torch_counts}')


def main():
  """Prints and asserts the parameter counts of the MNIST and CIFAR-10 DCGANs."""
  print_param_counts({name: load_module(EXPERIMENTS / f'{name}.py', name).get_config()
                      for name in ('mnist_dcgan', 'cifar10_dcgan')})


if __name__ == '__main__':
  main()
