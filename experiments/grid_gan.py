"""The 5x5 grid of Gaussians (means on {-4,-2,0,2,4}^2, std 0.05), MLP players."""

from gan_jax.default_config import get_base_config


def get_config():
  """MLP GAN on the 25-mode grid, fresh samples every batch."""
  config = get_base_config()
  config.data.name = 'grid'
  config.data.std = 0.05
  config.data.fresh_samples = True
  config.model.name = 'mlp'
  config.model.latent_dim = 64
  config.model.hidden_dims = (128, 128)
  config.model.activation = 'relu'
  config.batch_size = 256
  # A generator hopping between modes averages to a blob between them; score the raw one.
  config.optim.ema_decay = 0.0
  config.optim.g_lr = 1e-4
  config.optim.d_lr = 1e-4
  config.num_train_steps = 20_000
  config.log_every_steps = 100
  config.sample_every_steps = 5000
  config.checkpoint_every_steps = 5000
  config.num_grid_samples = 2500
  config.eval.metrics = ('mode_coverage', 'detectability')
  config.eval.primary = 'mode_kl'
  config.eval.num_samples = 2500  # The VEEGAN protocol.
  config.eval.every_steps = 5000
  return config
