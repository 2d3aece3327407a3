"""The original GAN (Goodfellow et al. 2014) on MNIST from TFDS: MLP players, 28x28."""

from gan_jax.default_config import get_base_config


def get_config():
  """MLP GAN on TFDS MNIST (prepare it first: `tfds build mnist --file_format=array_record`)."""
  config = get_base_config()
  config.data.name = 'tfds'
  config.data.tfds_name = 'mnist'
  config.model.name = 'mlp'
  config.model.latent_dim = 100
  config.model.hidden_dims = (512, 512)
  config.batch_size = 128
  config.num_train_steps = 20_000
  config.sample_every_steps = 2000
  config.checkpoint_every_steps = 5000
  config.eval.metrics = ('fid', 'kid', 'precision_recall', 'density_coverage',
                         'inception_score', 'class_coverage')
  config.eval.extractor = 'mnist28'
  config.eval.num_samples = 10_000
  config.eval.every_steps = 5000
  return config
