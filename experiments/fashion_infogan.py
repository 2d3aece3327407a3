"""InfoGAN on 28x28 Fashion-MNIST with the paper's MNIST networks (see mnist_infogan.py).

Trains on the train split (60,000 images, no labels used); `code_accuracy` reads the
categorical code as a classifier of the test split (`eval.reference_split='test'`),
mapped to classes one to one: the figure of the InfoGAN row in ClusterGAN's comparison
(Mukherjee et al. 2019: about 0.61 on Fashion-MNIST).
  python -m gan_jax.main --config=experiments/fashion_infogan.py --workdir=runs/fashion_infogan \
      --config.data.name=idx --config.data.path=/usr/share/datasets/fashion-mnist
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """mnist_infogan's game and networks on TFDS fashion_mnist, scored on its test split."""
  config = config_from_file(pathlib.Path(__file__).parent / 'mnist_infogan.py')
  config.data.tfds_name = 'fashion_mnist'
  config.data.split = 'train'
  config.eval.extractor = 'fashion28'
  config.eval.reference_split = 'test'
  return config
