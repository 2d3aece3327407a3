"""pix2pix colourisation of photograph patches: grey in, colour out (32x32, offline).

Pairs are made by a fixed operator (`config.data.pairs='grayscale'`: the BT.601 luma of
each colour patch is its source). Training patches are cut at random from the colour
photographs that ship inside scikit-image (`config.data.name='photos'`, see
`gan_jax/data/photos.py`: astronaut, coffee, chelsea, rocket, immunohistochemistry);
the reference set (`eval.reference_split='test'`) is patches of scikit-learn's two
sample photographs (china.jpg, flower.jpg), which no photo experiment trains on. The
metrics are L1, PSNR and SSIM of the colourised test patches against the originals.

  python -m gan_jax.main --config=experiments/colorize_pix2pix.py --workdir=runs/colorize
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """edges2fashion's U-Net (32 channels) and 2-layer PatchGAN on 32x32 grey -> colour
  photo patches, batch 32, 3,000 steps."""
  config = config_from_file(pathlib.Path(__file__).parent / 'edges2fashion_pix2pix.py')
  config.data.name = 'photos'
  config.data.tfds_name = ''
  config.data.patch_size = 32
  config.data.num_examples = 20_000  # Patches cut once, from the seed.
  config.data.pairs = 'grayscale'
  config.data.random_flip = True
  config.num_train_steps = 3000
  config.eval.metrics = ('translation',)
  config.eval.primary = 'psnr'
  config.eval.extractor = ''
  config.eval.num_samples = 2000
  config.eval.num_real = 2000
  return config
