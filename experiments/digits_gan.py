"""The original GAN (Goodfellow et al. 2014): MLP generator and discriminator on 8x8 digits."""

from gan_jax.default_config import get_base_config


def get_config():
  """MLP GAN with the non-saturating loss on the embedded digits."""
  config = get_base_config()
  config.data.name = 'digits'
  config.model.name = 'mlp'
  config.model.hidden_dims = (256, 256)
  config.model.activation = 'leaky_relu'
  config.num_train_steps = 3000
  config.eval.metrics = ('fid', 'kid', 'precision_recall', 'density_coverage',
                         'inception_score', 'class_coverage', 'detectability')
  config.eval.extractor = 'digits8'  # LeNet-style classifier shipped with the package.
  config.eval.num_samples = 2000
  return config
