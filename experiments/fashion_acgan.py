"""AC-GAN (Odena et al. 2017) on 28x28 Fashion-MNIST: `fashion_cgan.py` with a class head in D.

Everything as in `experiments/fashion_cgan.py` (data, nets, steps, evaluation) except
the discriminator: an auxiliary 10-way classifier on D's features instead of the
projection term, trained on the real labels in D's loss and on the requested labels in
G's loss (weights 1, the paper's).
  python -m gan_jax.main --config=experiments/fashion_acgan.py --workdir=runs/fashion_acgan \
      --config.data.name=idx --config.data.path=/usr/share/datasets/fashion-mnist
"""

import importlib.util
import pathlib


def get_config():
  """`fashion_cgan.py` with game.conditional.d_conditioning='acgan'."""
  path = pathlib.Path(__file__).resolve().parent / 'fashion_cgan.py'
  spec = importlib.util.spec_from_file_location('fashion_cgan', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.game.conditional.d_conditioning = 'acgan'
  return config
