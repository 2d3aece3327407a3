"""The InfoGAN demo: a 10-way categorical code and two continuous codes on the embedded
8x8 digits (scikit-learn), with the main job's DCGAN nets and a Q head on D's trunk.

Needs no download; a few minutes on two CPU cores. Previews: `samples/step_*.png` has
one row per value of the categorical code; `samples/traversal_c0/` and `traversal_c1/`
sweep each continuous code from -2 to 2 along the columns (one row per code value).
  python -m gan_jax.main --config=experiments/digits_infogan.py --workdir=runs/digits_infogan
"""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN with InfoGAN's codes (10-way + 2 continuous, noise 16), 3,000 steps."""
  config = get_base_config()
  config.game.name = 'infogan'
  config.game.infogan.categorical = (10,)
  config.game.infogan.continuous = 2
  config.data.name = 'digits'
  config.model.name = 'dcgan'
  config.model.latent_dim = 16
  config.optim.g_lr = 1e-3  # InfoGAN's G learning rate (D and Q: 2e-4).
  config.num_train_steps = 3000
  config.num_grid_samples = 80  # 8 samples per code value, one row per value.
  config.eval.metrics = ('code_accuracy', 'code_purity', 'fid')
  config.eval.extractor = 'digits8'
  config.eval.num_samples = 2000
  return config
