"""Checks a run's config before anything is built, so mistakes fail in the first second.

Each registry also rejects unknown names where it is used; checking them all up front
means a typo in the loss name does not surface only after the dataset has loaded.
"""

from gan_jax import augment
from gan_jax import data
from gan_jax import losses
from gan_jax import models
from gan_jax import optim
from gan_jax.data import on_device
from gan_jax.metrics import evaluator
from gan_jax.models import layers


def _check_name(field: str, value: str, known) -> None:
  if value not in known:
    raise ValueError(f'config.{field}={value!r} is unknown; known: {", ".join(sorted(known))}.')


def _check_positive(config, field: str) -> None:
  value = config
  for part in field.split('.'):
    value = value[part]
  if not isinstance(value, int) or value <= 0:
    raise ValueError(f'config.{field}={value!r} must be a positive integer.')


def validate_config(config) -> None:
  """Raises ValueError naming the field for unknown names or impossible values."""
  _check_name('data.name', config.data.name, data.SOURCES)
  _check_name('model.name', config.model.name, models.MODELS)
  _check_name('model.compute_dtype', config.model.compute_dtype, layers.COMPUTE_DTYPES)
  _check_name('loss.name', config.loss.name, losses.LOSSES)
  _check_name('optim.name', config.optim.name, optim.OPTIMIZERS)
  _check_name('optim.schedule', config.optim.schedule, optim.SCHEDULES)
  for field in ('batch_size', 'num_train_steps', 'log_every_steps', 'sample_every_steps',
                'checkpoint_every_steps', 'keep_checkpoints', 'num_grid_samples',
                'loss.n_critic', 'model.latent_dim', 'steps_per_call', 'stabilize.pack'):
    _check_positive(config, field)
  for field in ('gradient_penalty', 'r1', 'clip_weights'):
    if config.loss[field] < 0:
      raise ValueError(f'config.loss.{field}={config.loss[field]} must be >= 0.')
  if not isinstance(config.stabilize.unroll_steps, int) or config.stabilize.unroll_steps < 0:
    raise ValueError(f'config.stabilize.unroll_steps={config.stabilize.unroll_steps!r} must be '
                     'an integer >= 0.')
  if config.batch_size % config.stabilize.pack:
    raise ValueError(f'config.stabilize.pack={config.stabilize.pack} must divide '
                     f'config.batch_size={config.batch_size}: the discriminator judges packs '
                     'of that many examples.')
  augment.parse_policy(config.stabilize.diffaugment)
  on_device.make_device_sampler(config.data)  # Rejects draw_on_device for other data.
  evaluator.check_eval_config(config.eval)
  if not 0.0 <= config.optim.ema_decay < 1.0:
    raise ValueError(f'config.optim.ema_decay={config.optim.ema_decay} must be in [0, 1).')
