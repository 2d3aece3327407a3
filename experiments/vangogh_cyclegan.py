"""CycleGAN style transfer: photographs <-> Van Gogh's The Starry Night, on 32x32 patches.

Domain A is random patches of the colour photographs inside scikit-image
(`data.name='photos'`; the test split: scikit-learn's held-out china.jpg and
flower.jpg); domain B is random patches of the painting at `data.path_b`
(`data.domain_b='patches'`: any image file or folder; here
`../shared/data/style/starry_night.jpg`). There is one painting, so its patches are the
same for training and for the reference set. The metrics score A -> B: the
detectability of translated test-photo patches against real painting patches (a
classifier two-sample test: 0.5 is indistinguishable); `benchmarks/cyclegan_style.py`
adds the cycle reconstruction error and the PNG of photo | translated | reconstructed
on the whole held-out photographs.

Networks, sized for 2 CPU cores (the paper's: 64 channels, 9 blocks at 256x256, batch 1):
ResNet-block generators of 16 base channels and 3 blocks, PatchGANs of 2
strided layers (34x34: each logit sees the whole patch), identity term 0.5 as in the
paper's painting experiments. Batch 8, 2,000 steps.

  python -m gan_jax.main --config=experiments/vangogh_cyclegan.py --workdir=runs/vangogh \\
      --config.data.path_b=../shared/data/style/starry_night.jpg
"""

from gan_jax.default_config import get_base_config


def get_config():
  """ResNet Gs (16 channels, 3 blocks), 2-layer PatchGANs, LSGAN, cycle 10, identity 0.5, batch 8."""
  config = get_base_config()
  config.game.name = 'cyclegan'
  config.game.cyclegan.cycle_weight = 10.0
  config.game.cyclegan.identity_weight = 0.5
  config.game.cyclegan.pool_size = 50
  config.game.cyclegan.eval_direction = 'ab'
  config.data.name = 'photos'
  config.data.patch_size = 32
  config.data.num_examples = 20_000
  config.data.domain_b = 'patches'
  config.data.path_b = 'starry_night.jpg'
  config.data.random_flip = True
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
  config.eval.metrics = ('detectability',)
  config.eval.reference_split = 'test'
  config.eval.num_samples = 2000
  config.eval.num_real = 2000
  return config
