"""Semi-supervised GAN on CIFAR-10 with 4,000 labels: Salimans et al. (2016)'s setting.

The paper's CIFAR-10 recipe (its code's `train_cifar_feature_matching.py`): the
convolutional classifier D of `models/improved_gan_conv.py` (dropout 0.2 on the input;
three weight-normalised 3x3 convolutions of 96 channels, then of 192, each stage ending
in a stride-2 one and dropout 0.5; a valid 3x3 convolution and two NIN layers of 192;
global mean pooling; a weight-normalised output layer), every weight-normalised layer
initialised from the first batch with the hidden scales then fixed; G z (100) -> 4x4x512
-> 8x8x256 -> 16x16x128 -> 32x32x3 with BatchNorm and ReLU, tanh; feature matching on the
pooled features with the absolute difference (the code's `T.mean(abs(m1 - m2))`);
4,000 labelled examples (400 per class) beside the 50,000 training images as the
unlabelled pool; batches of 100 labelled + 100 unlabelled; Adam lr 3e-4, beta1 0.5, held
for 800 epochs and then decayed linearly to 0 at 1,200 (600,000 steps of 100); D averaged
with decay 0.9999, which `classify` and the reported accuracy use. The paper reports
18.63% test error (std 2.32 over 10 seeds).

Differences from the code: G's transposed convolutions have 4x4 kernels (the code's 5x5)
and its output layer is not weight-normalised; z is Gaussian, not uniform; the data init
reads the first batch of 100 unlabelled images (the code: 500 labelled ones); G's feature
matching reads D's unlabelled batch rather than a second one.

It needs TFDS `cifar10` prepared (`tfds build cifar10 --file_format=array_record`):
  python -m gan_jax.main --config=experiments/cifar10_ssgan.py --workdir=runs/cifar10_ssgan
with the supervised-only baseline of the same D:
  python benchmarks/ssgan_baseline.py --config=experiments/cifar10_ssgan.py \
      --num_labeled=4000 --seeds=0 --steps=600000
A step is 667 GFLOP of products and convolutions (`matmul_floor.counted_flops` of the
step: D's update on 300 images, G's through D on 200), so this is a GPU experiment: it
has not been run here (2 CPU cores, no CIFAR-10).
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """The paper's CIFAR-10 feature-matching recipe with 4,000 labels."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'mnist_ssgan.py')
  config.data.tfds_name = 'cifar10'
  config.data.num_labeled = 4000
  config.game.semi_supervised.feature_distance = 'absolute'
  config.model.name = 'improved_gan_conv'
  config.model.d_conv_widths = (96, 192)
  config.model.d_input_dropout = 0.2
  config.model.d_dropout = 0.5
  config.model.d_data_init = True
  config.model.d_train_hidden_scale = False
  config.model.d_kernel_stddev = 0.05  # The code's W=Normal(0.05) in every D layer.
  config.model.g_features = 128  # 512 -> 256 -> 128 channels on the way up to 32x32.
  config.num_train_steps = 600_000  # 1,200 epochs of 500 batches.
  config.optim.g_lr = 3e-4
  config.optim.d_lr = 3e-4
  config.optim.schedule = 'linear'
  config.optim.constant_fraction = 2 / 3  # lr * min(3 - epoch / 400, 1): held for 800 of 1,200.
  config.sample_every_steps = 10_000
  config.checkpoint_every_steps = 10_000
  config.eval.every_steps = 10_000
  return config
