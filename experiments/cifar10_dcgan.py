"""DCGAN (Radford et al. 2015) on 32x32 CIFAR-10 from TFDS, with random horizontal flips."""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN on TFDS CIFAR-10 (prepare it first: `tfds build cifar10 --file_format=array_record`)."""
  config = get_base_config()
  config.data.name = 'tfds'
  config.data.tfds_name = 'cifar10'
  config.data.random_flip = True
  config.model.name = 'dcgan'
  config.model.latent_dim = 128
  config.batch_size = 128
  config.num_train_steps = 50_000
  config.sample_every_steps = 2500
  config.checkpoint_every_steps = 5000
  # FID-10k against 10,000 training images, with the TTUR/pytorch-fid InceptionV3.
  config.eval.metrics = ('fid', 'kid', 'inception_score', 'precision_recall')
  config.eval.extractor = 'inception_v3'
  config.eval.num_samples = 10_000
  config.eval.every_steps = 10_000
  return config
