"""SNGAN-projection on 32x32 CIFAR-10 (Miyato & Koyama 2018), for GPU users.

The conditional counterpart of `experiments/cifar10_sngan.py`: the same ResNets, hinge
loss, spectral norm in D, n_critic 5, Adam (2e-4, 0, 0.9) with linear decay, batch 64,
50k generator updates; the generator's BatchNorms are class-conditional and D adds the
projection term <embed(y), phi(x)> (spectrally normalised like every D layer), as in the
authors' code (pfnet-research/sngan_projection). Fake labels are drawn uniformly.
Evaluation: FID-10k, intra-class FID and IS with the pytorch-fid InceptionV3 (download
its weights once, see docs/evaluation.md).

Prepare the data once: `tfds build cifar10 --file_format=array_record`.
"""

import pathlib

from gan_jax.default_config import config_from_file


def get_config():
  """`cifar10_sngan.py` as a conditional game with cBN + projection."""
  config = config_from_file(pathlib.Path(__file__).resolve().parent / 'cifar10_sngan.py')
  config.game.name = 'conditional'
  config.game.conditional.g_conditioning = 'cbn'
  config.game.conditional.d_conditioning = 'projection'
  config.num_grid_samples = 100  # 10 per class, one row per class.
  config.eval.metrics = ('fid', 'intra_fid', 'kid', 'inception_score')
  return config
