"""The 2-D mode-collapse study: one config per row of the mode-coverage table (docs/results.md).

Pick the row with the config-file argument `<dataset>,<method>`:

    python -m gan_jax.study --config=experiments/mixture_study.py:ring,pacgan2 \
        --seeds=5 --workdir=runs/study/ring_pacgan2

datasets: ring (8 modes on the unit circle, std 0.01), grid (25 modes on
{-4,-2,0,2,4}^2, std 0.05), as in PacGAN's code. Methods, in two published settings:

VEEGAN / Unrolled-GAN setting (Srivastava et al. 2017; Metz et al. 2016): z of 256
dims, G and D with two ReLU hidden layers of 128, Adam (beta1 0.5), batch 512.
  gan       non-saturating GAN.
  unrolled  + 5 unrolled discriminator steps (Metz et al.'s 2-D setting).
  wgan_gp   Wasserstein loss, 5 critic updates, Adam (0.5, 0.9) as in Gulrajani et al.,
            gradient penalty 0.1: the authors' own 2-D code (gan_toy.py) uses 0.1
            ("smaller lambda seems to help for toy tasks"); with the paper's 10 the
            generator stays a blob on the ring (docs/results.md).
PacGAN setting (Lin et al. 2018): z of 2 dims, G 4x400 with BatchNorm and ReLU, D 3
maxout layers of 200 units with 5 pieces, Adam lr 1e-4, beta1 0.8, 100 packs per batch.
  pacgan1   the GAN in PacGAN's architecture (no packing).
  pacgan2, pacgan3, pacgan4   packing m = 2, 3, 4 (a batch of 100 m samples).

Modifiers can follow a method with '+', e.g. `ring,pacgan4+decay`:
  decay     learning rates decay linearly to 0 over the run.
  mbstd     minibatch standard deviation in D (group 4).
  r1        R1 penalty on real data (gamma 0.1).
  sn        spectral normalization in D.
  hinge     hinge loss.
  pack2, pack4   packing m = 2 or 4 with the batch scaled by m (for the VEEGAN setting).
  long      50,000 steps instead of 25,000.
  steps<N>k N thousand steps instead of 25,000 (e.g. steps35k).
  lr1e3     learning rates of 1e-3 for both players instead of 1e-4.
  d3x256    a discriminator with three ReLU hidden layers of 256 (for the VEEGAN
            setting; its generator stays 2x128).

Every run: 25,000 generator steps, fresh samples every batch (drawn on device), no EMA
(a mode-hopping generator's average is a blob between modes), and the VEEGAN
evaluation at the end: 2,500 samples, nearest mode, high quality within 3 std.
"""

import re

from gan_jax.default_config import get_base_config

DATASETS = ('ring', 'grid')
METHODS = ('gan', 'unrolled', 'wgan_gp', 'pacgan1', 'pacgan2', 'pacgan3', 'pacgan4')


def base_mixture_config(dataset: str):
  """Data, loop cadence and evaluation shared by every row."""
  if dataset not in DATASETS:
    raise ValueError(f'dataset {dataset!r} is unknown; known: {", ".join(DATASETS)}.')
  config = get_base_config()
  config.data.name = dataset
  config.data.std = 0.01 if dataset == 'ring' else 0.05
  config.data.radius = 1.0
  config.data.num_modes = 8
  config.data.fresh_samples = True
  config.data.draw_on_device = True
  config.optim.ema_decay = 0.0
  config.num_train_steps = 25_000
  config.steps_per_call = 100  # Data is drawn on device: 100 steps per dispatch.
  config.log_every_steps = 500
  config.sample_every_steps = 5000
  config.checkpoint_every_steps = 25_000
  config.num_grid_samples = 2500
  config.eval.metrics = ('mode_coverage',)
  config.eval.primary = 'mode_kl'
  config.eval.num_samples = 2500  # The VEEGAN protocol.
  config.eval.every_steps = 0  # Once, at the end.
  return config


def veegan_setting(config):
  """z 256, G and D 2x128 ReLU, Adam lr 1e-4 (beta1 0.5), batch 512."""
  config.model.name = 'mlp'
  config.model.latent_dim = 256
  config.model.hidden_dims = (128, 128)
  config.model.activation = 'relu'
  config.batch_size = 512
  config.optim.g_lr = 1e-4
  config.optim.d_lr = 1e-4
  config.optim.b1 = 0.5
  return config


def pacgan_setting(config, pack: int):
  """z 2, G 4x400 BN+ReLU, D 3x200 maxout (5 pieces), Adam 1e-4 (beta1 0.8), 100 packs."""
  config.model.name = 'mlp'
  config.model.latent_dim = 2
  config.model.g_hidden_dims = (400, 400, 400, 400)
  config.model.g_batch_norm = True
  config.model.activation = 'relu'
  config.model.d_hidden_dims = (200, 200, 200)
  config.model.d_activation = 'maxout'
  config.model.maxout_pieces = 5
  config.stabilize.pack = pack
  config.batch_size = 100 * pack
  config.optim.g_lr = 1e-4
  config.optim.d_lr = 1e-4
  config.optim.b1 = 0.8
  return config


MODIFIERS = ('decay', 'mbstd', 'r1', 'sn', 'hinge', 'pack2', 'pack4', 'long', 'lr1e3',
             'd3x256', 'steps<N>k')


def _method_config(config, method: str):
  """Applies one of METHODS to `config`."""
  if method == 'gan':
    return veegan_setting(config)
  if method == 'unrolled':
    config = veegan_setting(config)
    config.stabilize.unroll_steps = 5
    return config
  if method == 'wgan_gp':
    config = veegan_setting(config)
    config.loss.name = 'wasserstein'
    config.loss.gradient_penalty = 0.1  # gan_toy.py's LAMBDA for 2-D data, not 10.
    config.loss.n_critic = 5
    config.optim.b2 = 0.9
    return config
  if method.startswith('pacgan') and method in METHODS:
    return pacgan_setting(config, int(method[len('pacgan'):]))
  raise ValueError(f'method {method!r} is unknown; known: {", ".join(METHODS)}.')


def _apply_modifier(config, modifier: str):
  """Applies one of MODIFIERS to `config`."""
  if modifier == 'decay':
    config.optim.schedule = 'linear'
  elif modifier == 'mbstd':
    config.model.minibatch_std_group = 4
  elif modifier == 'r1':
    config.loss.r1 = 0.1
  elif modifier == 'sn':
    config.model.spectral_norm = True
  elif modifier == 'hinge':
    config.loss.name = 'hinge'
  elif modifier in ('pack2', 'pack4'):
    pack = int(modifier[-1])
    config.batch_size = config.batch_size // config.stabilize.pack * pack
    config.stabilize.pack = pack
  elif modifier == 'long':
    config.num_train_steps = 50_000
  elif modifier == 'lr1e3':
    config.optim.g_lr = config.optim.d_lr = 1e-3
  elif re.fullmatch(r'steps[1-9][0-9]*k', modifier):
    config.num_train_steps = int(modifier[len('steps'):-1]) * 1000
  elif modifier == 'd3x256':
    config.model.d_hidden_dims = (256, 256, 256)
  else:
    raise ValueError(f'modifier {modifier!r} is unknown; known: {", ".join(MODIFIERS)}.')
  return config


def get_config(arg: str = 'ring,gan'):
  """The study row `<dataset>,<method>[+<modifier>...]`."""
  dataset, _, spec = arg.partition(',')
  method, *modifiers = spec.split('+')
  config = _method_config(base_mixture_config(dataset), method)
  for modifier in modifiers:
    config = _apply_modifier(config, modifier)
  return config
