"""DCGAN (Radford et al. 2015) on 28x28 MNIST from TFDS."""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN on TFDS MNIST (prepare it first: `tfds build mnist --file_format=array_record`)."""
  config = get_base_config()
  config.data.name = 'tfds'
  config.data.tfds_name = 'mnist'
  config.model.name = 'dcgan'
  config.model.latent_dim = 100
  config.batch_size = 128
  config.num_train_steps = 10_000
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 2500
  config.eval.metrics = ('fid', 'kid', 'precision_recall', 'density_coverage',
                         'inception_score', 'class_coverage')
  config.eval.extractor = 'mnist28'
  config.eval.num_samples = 10_000
  config.eval.every_steps = 5000
  return config
