"""Semi-supervised GAN on SVHN with 1,000 labels: Salimans et al. (2016)'s setting.

`cifar10_ssgan.py` with the paper's SVHN changes (its code's
`train_svhn_feature_matching.py`): D's stages of 64 and 128 channels, 1,000 labelled
examples (100 per class) beside the 73,257 training images (TFDS `svhn_cropped`'s train
split; the code does not use the extra split), and 900 epochs of 732 batches with the
rate held for 600 of them. The paper reports 8.11% test error (std 1.3 over 10 seeds).
It needs TFDS `svhn_cropped` prepared:
  python -m gan_jax.main --config=experiments/svhn_ssgan.py --workdir=runs/svhn_ssgan
A step is 328 GFLOP (counted as for `cifar10_ssgan.py`): a GPU experiment, not run here.
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """The paper's SVHN feature-matching recipe with 1,000 labels."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'cifar10_ssgan.py')
  config.data.tfds_name = 'svhn_cropped'
  config.data.num_labeled = 1000
  config.model.d_conv_widths = (64, 128)
  config.num_train_steps = 900 * 732  # 900 epochs of 732 batches of 100.
  config.optim.constant_fraction = 2 / 3  # lr * min(3 - epoch / 300, 1): held for 600 of 900.
  return config
