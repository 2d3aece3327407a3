"""Tiny variants of configs, so tests compile and run in seconds on a CPU."""

from by_path import load_module
from gan_jax.default_config import get_base_config


def shrink(config, num_steps: int = 2):
  """Makes `config` tiny in place: small players, small batches, few steps; returns it."""
  config.model.latent_dim = 8
  config.model.g_features = 8
  config.model.d_features = 8
  config.model.hidden_dims = (16,)
  config.batch_size = 16
  config.num_train_steps = num_steps
  config.log_every_steps = 1
  config.sample_every_steps = num_steps
  config.checkpoint_every_steps = num_steps
  config.num_grid_samples = 4
  config.data.num_examples = 256
  if config.data.num_labeled:  # One labelled example a class fits any tiny dataset.
    config.data.num_labeled = 10
  # Translation and super-resolution: one residual block, small patches, a small D head.
  config.model.resnet_blocks = min(config.model.resnet_blocks, 1)
  config.model.sr_blocks = min(config.model.sr_blocks, 1)
  config.model.sr_d_halvings = min(config.model.sr_d_halvings, 2)
  config.model.sr_dense = min(config.model.sr_dense, 16)
  if config.data.name == 'photos':
    config.data.patch_size = 24  # SR: 6x6 LR; 16x16 HR left after the border crop for SSIM.
  # Worker processes cost seconds to start; tests/test_data.py covers them.
  config.data.num_workers = 0
  config.eval.num_samples = 64
  config.eval.num_real = 256
  config.eval.kid_subsets = 5
  config.eval.kid_subset_size = 32
  if config.eval.extractor == 'inception_v3':
    # Its weights cannot be downloaded here; tests/test_features_inception.py covers it.
    config.eval.metrics = ()
  return config


def tiny_config(**fields):
  """The base config made tiny; `fields` maps 'section.name' (or 'name') to a value."""
  config = shrink(get_base_config())
  for dotted, value in fields.items():
    *parents, name = dotted.split('.')
    node = config
    for parent in parents:
      node = node[parent]
    node[name] = value
  return config


def load_experiment(path):
  """The ConfigDict of an experiment file, as `--config=<path>` would load it."""
  return load_module(path).get_config()
