"""Semi-supervised GAN on the embedded 8x8 digits with 100 labels: fast, no download.

`mnist_ssgan.py`'s game and network shapes, scaled to 8x8 images: D 64-256-128-64 with
Gaussian noise and weight normalisation, G 64-128-128-64; 100 of the 1,797 digits
labelled (10 per class, chosen by `seed`). The digits have no test split: the whole set
is the unlabelled pool, so an error measured on it includes the 100 labelled images.
  python -m gan_jax.main --config=experiments/digits_ssgan.py --workdir=runs/digits_ssgan
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`mnist_ssgan.py` on the embedded digits, with smaller nets and fewer steps."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'mnist_ssgan.py')
  config.data.name = 'digits'
  config.data.tfds_name = ''
  config.model.latent_dim = 64
  config.model.d_hidden_dims = (256, 128, 64)
  config.model.g_hidden_dims = (128, 128)
  # Half the MNIST config's 0.6: on these 64-pixel digits the paper's noise level gave a
  # higher error in each of seeds 0-2 (docs/semi_supervised.md#digits-embedded-8x8-fast).
  config.model.d_input_noise = 0.3
  config.batch_size = 64
  config.num_train_steps = 2000
  config.optim.ema_decay = 0.999
  config.log_every_steps = 100
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 1000
  config.eval.reference_split = ''  # The digits have one split: accuracy on all of them.
  config.eval.num_real = 1797
  config.eval.every_steps = 500
  return config
