"""Feature extractors of the evaluation suite: images -> features and class logits.

  extractor = get_extractor('digits8')      # or 'mnist28', 'fashion28', 'inception_v3'
  out = extractor.extract(images)           # NHWC, floats in [-1, 1] or uint8
  out['features']                           # (N, D): FID, KID, precision/recall
  out['logits']                             # (N, K): Inception Score, mode coverage

* 'digits8': a small CNN trained on scikit-learn's 8x8 digits (features 128-d, 10
  classes); weights shipped in the package.
* 'mnist28': the same kind of CNN for 28x28 MNIST-like images; shipped weights trained
  on 8,000 images of MNIST's t10k split (see `digit_classifier`), or your own through
  `weights_path` (made by `python -m gan_jax.metrics.features.train_digit_classifier`).
* 'fashion28': the same CNN trained on Fashion-MNIST's 60,000-image train split (with
  random left-right flips) and tested on its t10k split (docs/classifiers.md).
* 'inception_v3': the FID InceptionV3 of TTUR / pytorch-fid (pool3 features 2048-d,
  1008 logits, plus 'logits_unbiased', the logits without the fc bias, which the
  original Inception Score code and torch-fidelity use); any image size, resized to
  299x299; 1-channel images are tiled to RGB. Its weights file is looked for in, or
  downloaded once to, ~/.cache/gan_jax (see `inception.find_weights`).

`extractor.cache_key` names the network and digests its weights: key cached
statistics of reference data by it.
"""

import functools

import numpy as np

from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features import inception
from gan_jax.metrics.features.digit_classifier import DigitClassifier, load_digit_classifier
from gan_jax.metrics.features.extractor import FeatureExtractor
from gan_jax.metrics.features.inception import (InceptionV3, WeightsNotFoundError,
                                                load_inception_v3)
from gan_jax.metrics.features.torch_pickle import load_torch_state_dict

# fashion28 last: it came last, and the order is the one error messages list.
EXTRACTORS = ('digits8', 'mnist28', 'inception_v3', 'fashion28')


@functools.lru_cache(maxsize=8)
def get_extractor(name: str, weights_path: str | None = None, download: bool = True,
                  batch_size: int | None = None) -> FeatureExtractor:
  """The feature extractor called `name` (one of EXTRACTORS), loaded once per process.

  Args:
    name: 'digits8', 'mnist28', 'inception_v3' or 'fashion28'.
    weights_path: a weights file instead of the default: an .npz from the training
      command for the digit classifiers, the pytorch-fid .pth for Inception.
    download: Inception only; fetch the weights into the cache when they are missing.
    batch_size: images per jitted batch (default 1024 for the digit classifiers, 64
      for Inception); a multiple of the local device count shards each batch.

  Raises ValueError for an unknown name (listing the known ones) and, for Inception,
  WeightsNotFoundError saying where to put the weights file when it is missing.
  """
  if name in digit_classifier.CONFIGS:
    return digit_classifier.make_extractor(name, weights_path, batch_size)
  if name == 'inception_v3':
    _, variables, sha256 = load_inception_v3(weights_path, download)
    return inception.make_extractor(variables, sha256, batch_size)
  raise ValueError(f'feature extractor {name!r} is unknown; known: {", ".join(EXTRACTORS)}.')


def extract(name: str, images: np.ndarray, batch_size: int | None = None) -> dict:
  """`get_extractor(name).extract(images, batch_size)`: features and logits of `images`."""
  return get_extractor(name).extract(images, batch_size)


__all__ = [
    'EXTRACTORS', 'DigitClassifier', 'FeatureExtractor', 'InceptionV3',
    'WeightsNotFoundError', 'extract', 'get_extractor', 'load_digit_classifier',
    'load_inception_v3', 'load_torch_state_dict',
]
