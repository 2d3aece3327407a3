"""Semi-supervised GAN on Fashion-MNIST with 100 labels and the paper's convolutional D.

`cifar10_ssgan.py`'s networks and recipe (the convolutional D of Salimans et al.'s
CIFAR-10 code, weight norm initialised from data, dropout, absolute feature matching,
Adam 3e-4 held for two thirds of the run, D averaged with decay 0.9999) on the 60,000
Fashion-MNIST training images with 100 of them labelled, for 50 epochs (30,000 steps of
100 + 100). It is `fashion_ssgan.py` with a convolutional D in place of the paper's
MNIST MLP, for the issue's target (test error at most 2/3 of the same D trained on the
labels alone):
  python benchmarks/ssgan_baseline.py --config=experiments/fashion_ssgan_conv.py \
      --data_path=../shared/data/fashion-mnist --num_labeled=100 --seeds=0,1,2 --steps=30000
A step is 481 GFLOP of products and convolutions (`matmul_floor.counted_flops` of the
step), 128 times `fashion_ssgan.py`'s 3.8: a GPU experiment, not measured yet
(docs/semi_supervised.md).
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`cifar10_ssgan.py` on TFDS `fashion_mnist` (or its IDX files), 100 labels, 50 epochs."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'cifar10_ssgan.py')
  config.data.tfds_name = 'fashion_mnist'
  config.data.num_labeled = 100
  config.model.g_features = 128  # 28x28: z -> 7x7x256 -> 14x14x128 -> 28x28x1.
  config.num_train_steps = 30_000
  config.sample_every_steps = 2000
  config.checkpoint_every_steps = 2000
  config.eval.every_steps = 2000
  return config
