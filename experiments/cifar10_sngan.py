"""SNGAN's ResNet on 32x32 CIFAR-10 from TFDS: hinge loss, spectral norm in D, n_critic 5.

Miyato, Kataoka, Koyama and Yoshida, "Spectral Normalization for Generative Adversarial
Networks", ICLR 2018 (arXiv:1802.05957), unconditional CIFAR-10 ResNet as in the
authors' code (pfnet-research/sngan_projection): G with 256 channels and 3 residual
up-blocks from a 4x4 map, D with 128 channels and 4 residual blocks, spectral norm on
every D layer, hinge loss, 5 D updates per G update, Adam (lr 2e-4, b1 0, b2 0.9) for
both players, batch 64, z of 128 standard normals, 50k generator updates with the
learning rate decayed linearly to 0 from the start, no EMA of the generator. Random
horizontal flips are off (`--config.data.random_flip=True` turns them on).

Deviations:
- The generator's update uses a batch of 64 (`batch_size`, shared by both players); the
  authors' updater draws 128 samples (`n_gen_samples`) for it.
- Evaluation is FID-10k / KID / IS / precision-recall against 10,000 training images with
  the pytorch-fid InceptionV3; the paper's scores used other sample counts and TF's
  Inception graph, so they are not directly comparable with its tables.
"""

from gan_jax.default_config import get_base_config


def get_config():
  """SNGAN on TFDS CIFAR-10 (prepare it first: `tfds build cifar10 --file_format=array_record`)."""
  config = get_base_config()
  config.data.name = 'tfds'
  config.data.tfds_name = 'cifar10'
  config.model.name = 'resnet'
  config.model.latent_dim = 128
  config.model.g_features = 256
  config.model.d_features = 128
  config.model.spectral_norm = True
  config.loss.name = 'hinge'
  config.loss.n_critic = 5
  config.optim.name = 'adam'
  config.optim.g_lr = 2e-4
  config.optim.d_lr = 2e-4
  config.optim.b1 = 0.0
  config.optim.b2 = 0.9
  config.optim.schedule = 'linear'
  config.optim.ema_decay = 0.0
  config.batch_size = 64
  config.num_train_steps = 50_000
  config.sample_every_steps = 2500
  config.checkpoint_every_steps = 5000
  # FID-10k against 10,000 training images, with the TTUR/pytorch-fid InceptionV3.
  config.eval.metrics = ('fid', 'kid', 'inception_score', 'precision_recall')
  config.eval.extractor = 'inception_v3'
  config.eval.num_samples = 10_000
  config.eval.every_steps = 10_000
  return config
