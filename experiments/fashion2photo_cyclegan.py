"""CycleGAN between Fashion-MNIST and Fashion-MNIST over colour photographs (MNIST-M style).

Domain A is Fashion-MNIST's even-numbered images (grey, 28x28); domain B is made from its
odd-numbered images, each blended over a random colour patch of the photographs that
ship inside scikit-image (`data.domain_b='mnistm'`: |patch - image|, as MNIST-M), so no
image is in both domains and no pair exists. The test split is held out and made the
same way (with scikit-learn's held-out photographs under the B images). The metrics
score B -> A (`game.cyclegan.eval_direction='ba'`): the `fashion28` classifier's accuracy
on translated B test images against their labels (does the translation keep the
garment?), beside its accuracy on real A test images and on the B test images as they
are (grey-converted), FID against real A images, and the cycle error of B -> A -> B.

Networks, sized for 2 CPU cores (the paper's: 64 channels, 9 blocks at 256x256, batch 1):
ResNet-block generators of 16 base channels and 3 blocks (28x28 padded to 28,
two halvings to 7x7), PatchGANs of 2 strided layers (34x34 patches); no identity term (A
has one channel, B three). Batch 8, 2,000 steps.

Data: TFDS `fashion_mnist`, or the IDX files (here `../shared/data/fashion-mnist`):
  python -m gan_jax.main --config=experiments/fashion2photo_cyclegan.py \\
      --workdir=runs/fashion2photo --config.data.name=idx \\
      --config.data.path=../shared/data/fashion-mnist
"""

from gan_jax.default_config import get_base_config


def get_config():
  """ResNet Gs (16 channels, 3 blocks), 2-layer PatchGANs, LSGAN, cycle 10, batch 8."""
  config = get_base_config()
  config.game.name = 'cyclegan'
  config.game.cyclegan.cycle_weight = 10.0
  config.game.cyclegan.identity_weight = 0.0
  config.game.cyclegan.pool_size = 50
  config.game.cyclegan.eval_direction = 'ba'
  config.data.name = 'tfds'
  config.data.tfds_name = 'fashion_mnist'
  config.data.split = 'train'
  config.data.domain_b = 'mnistm'
  config.model.name = 'cyclegan'
  config.model.norm = 'instance'
  config.model.g_features = 16
  config.model.d_features = 32
  config.model.resnet_blocks = 3
  config.model.patch_layers = 2
  config.loss.name = 'least_squares'
  config.optim.schedule = 'linear'
  config.optim.constant_fraction = 0.5
  config.batch_size = 8
  config.num_train_steps = 2000
  config.log_every_steps = 100
  config.sample_every_steps = 500
  config.checkpoint_every_steps = 1000
  config.num_grid_samples = 8
  config.eval.metrics = ('fcn_score', 'fid', 'cycle')
  config.eval.primary = 'fcn_accuracy'
  config.eval.extractor = 'fashion28'
  config.eval.reference_split = 'test'
  config.eval.num_samples = 2000
  config.eval.num_real = 2000
  return config
