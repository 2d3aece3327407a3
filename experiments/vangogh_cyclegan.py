"""CycleGAN style transfer: photographs <-> Van Gogh's The Starry Night, on 32x32 patches.

Domain A is random patches of the colour photographs inside scikit-image
(`data.name='photos'`; the test split: scikit-learn's held-out china.jpg and
flower.jpg); domain B is random patches of the painting at `data.path_b`
(`data.domain_b='patches'`: any image file or folder; here
`../shared/data/style/starry_night.jpg`). There is one painting, so its patches are the
same for training and for the reference set. The metrics score A -> B: the
detectability of translated test-photo patches against real painting patches (a
classifier two-sample test: 0.5 is indistinguishable) and the cycle error (`cycle`:
L1, PSNR and SSIM of F(G(photo)) against the test-photo patch); the preview shows
photo | translated | reconstructed. `benchmarks/style_transfer_photos.py` translates
the two whole held-out photographs.

Networks and schedule are `fashion2photo_cyclegan.py`'s (ResNet-block generators of 16
base channels and 3 blocks, PatchGANs of 2 strided layers, whose 34x34 receptive field
sees the whole patch; batch 8, 2,000 steps), with the identity term 0.5 of the paper's
painting experiments (both domains are RGB here).

  python -m gan_jax.main --config=experiments/vangogh_cyclegan.py --workdir=runs/vangogh \\
      --config.data.path_b=../shared/data/style/starry_night.jpg
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """fashion2photo's CycleGAN on photo and painting patches, identity 0.5; detectability
  and cycle error."""
  config = config_from_file(pathlib.Path(__file__).parent / 'fashion2photo_cyclegan.py')
  config.game.cyclegan.identity_weight = 0.5
  config.game.cyclegan.eval_direction = 'ab'
  config.data.name = 'photos'
  config.data.tfds_name = ''
  config.data.patch_size = 32
  config.data.num_examples = 20_000
  config.data.domain_b = 'patches'
  config.data.path_b = 'starry_night.jpg'
  config.data.random_flip = True
  config.eval.metrics = ('detectability', 'cycle')
  config.eval.primary = ''
  config.eval.extractor = ''
  return config
