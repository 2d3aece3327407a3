"""Checks a run's config before anything is built, so mistakes fail in the first second.

Each registry also rejects unknown names where it is used; checking them all up front
means a typo in the loss name does not surface only after the dataset has loaded.
"""

from gan_jax.stabilize import augment
from gan_jax import data
from gan_jax import games
from gan_jax import losses
from gan_jax import models
from gan_jax.core import optim
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


def configured_stabilizers(config) -> dict[str, str]:
  """The stabilizers `config` turns on: name (see `games.STABILIZERS`) -> the setting."""
  settings = {
      'pack': ('stabilize.pack', config.stabilize.pack, config.stabilize.pack > 1),
      'diffaugment': ('stabilize.diffaugment', config.stabilize.diffaugment,
                      bool(config.stabilize.diffaugment)),
      'gradient_penalty': ('loss.gradient_penalty', config.loss.gradient_penalty,
                           config.loss.gradient_penalty > 0),
      'r1': ('loss.r1', config.loss.r1, config.loss.r1 > 0),
      'clip_weights': ('loss.clip_weights', config.loss.clip_weights,
                       config.loss.clip_weights > 0),
      'unroll_steps': ('stabilize.unroll_steps', config.stabilize.unroll_steps,
                       config.stabilize.unroll_steps > 0),
      'minibatch_std': ('model.minibatch_std_group', config.model.minibatch_std_group,
                        config.model.minibatch_std_group > 0),
      'minibatch_discrimination': ('model.minibatch_kernels', config.model.minibatch_kernels,
                                   config.model.minibatch_kernels > 0),
  }
  return {name: f'config.{field}={value!r}' for name, (field, value, on) in settings.items()
          if on}


def check_game(config, num_classes: int | None = None) -> None:
  """The game exists, supports every configured stabilizer, and has the labels it needs."""
  game_class = games.get_game_class(config.game.name)
  for name, setting in configured_stabilizers(config).items():
    if name not in game_class.supports:
      raise ValueError(f'{setting} is not supported by config.game.name='
                       f'{config.game.name!r}; it supports: '
                       f'{", ".join(sorted(game_class.supports)) or "no stabilizer"}.')
  labelled = [m for m in config.eval.metrics if m in evaluator.NEEDS_LABELS]
  if labelled and not game_class.labelled_samples:
    raise ValueError(f'config.eval.metrics {labelled} score samples generated for given '
                     f'classes, which config.game.name={config.game.name!r} does not make; '
                     'use config.game.name=conditional (or infogan, whose first code '
                     'plays the class).')
  if not isinstance(config.data.num_labeled, int) or config.data.num_labeled < 0:
    raise ValueError(f'config.data.num_labeled={config.data.num_labeled!r} must be an integer '
                     '>= 0.')
  if config.data.num_labeled and not game_class.reads_labeled_stream:
    raise ValueError(f'config.data.num_labeled={config.data.num_labeled} serves a labelled '
                     f'stream that config.game.name={config.game.name!r} does not read (a '
                     'semi-supervised game does); set it to 0.')
  if config.data.num_labeled and config.data.draw_on_device:
    raise ValueError(f'config.data.num_labeled={config.data.num_labeled} needs the host '
                     'pipeline, which serves the labelled stream; set '
                     'config.data.draw_on_device=False.')
  reads = [m for m in config.eval.metrics if 'readout' in evaluator.METRICS[m].needs]
  if reads and not game_class.readouts:
    raise ValueError(f'config.eval.metrics {reads} read codes or classes from images with '
                     f'the model, which config.game.name={config.game.name!r} cannot; use a '
                     'game with a readout (infogan, semi_supervised).')
  if config.data.pairs and not game_class.reads_pairs:
    raise ValueError(f'config.data.pairs={config.data.pairs!r} makes paired images, which '
                     f'config.game.name={config.game.name!r} does not read (pix2pix does); '
                     "set config.data.pairs=''.")
  if game_class.reads_pairs and not config.data.pairs:
    raise ValueError(f'config.game.name={config.game.name!r} learns from paired images: set '
                     'config.data.pairs (side_by_side for A|B files, edges, grayscale; '
                     'bicubic_x4 for srgan).')
  if config.data.domain_b and not game_class.reads_unpaired:
    raise ValueError(f'config.data.domain_b={config.data.domain_b!r} serves a second domain, '
                     f'which config.game.name={config.game.name!r} does not read (cyclegan '
                     "does); set config.data.domain_b=''.")
  if game_class.reads_unpaired and not config.data.domain_b:
    raise ValueError(f'config.game.name={config.game.name!r} learns from two unpaired domains: '
                     'set config.data.domain_b (split, mnistm, patches).')
  paired = [m for m in config.eval.metrics if 'pairs' in evaluator.METRICS[m].needs]
  if paired and not game_class.translations:
    raise ValueError(f'config.eval.metrics {paired} compare translations with their targets, '
                     f'which config.game.name={config.game.name!r} does not make; use a '
                     'translation game (pix2pix, cyclegan).')
  two_way = [m for m in config.eval.metrics if 'way_back' in evaluator.METRICS[m].needs]
  if two_way and len(game_class.translations) < 2:
    raise ValueError(f'config.eval.metrics {two_way} map translations back to their sources, '
                     f'which config.game.name={config.game.name!r} cannot do; use a two-way '
                     'translation game (cyclegan).')
  if num_classes is not None and game_class.needs_labels and num_classes < 2:
    raise ValueError(f'config.game.name={config.game.name!r} needs labelled data, but '
                     f'config.data.name={config.data.name!r} has no labels here; use a '
                     'labelled source (digits, idx with labels, npz with y, tfds, a folder '
                     'of class subfolders).')


def validate_config(config) -> None:
  """Raises ValueError naming the field for unknown names or impossible values."""
  check_game(config)
  _check_name('data.name', config.data.name, data.SOURCES)
  _check_name('model.name', config.model.name, models.KNOWN_MODELS)
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
