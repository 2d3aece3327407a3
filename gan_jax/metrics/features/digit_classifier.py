"""A small LeNet-style classifier of handwritten digits, the feature network of digit GANs.

InceptionV3 sees an upsampled 8x8 digit as a blur; a classifier trained on the data
itself gives features (FID, KID, precision/recall) and class predictions (Inception
Score, mode coverage) that mean something there. Two configurations ship with weights
in `weights/`, each made by `python -m gan_jax.metrics.features.train_digit_classifier`:

* `digits8`: scikit-learn's 8x8 digits, two conv blocks (32, 64 channels), trained on
  1,497 of the 1,797 images; the other 300 (a seeded, stratified split) are its test.
* `mnist28`: 28x28 MNIST, three conv blocks (32, 64, 128 channels). Only MNIST's t10k
  split is at hand where the weights were made, so they are trained on 8,000 of its
  10,000 images and tested on the other 2,000 (again a seeded stratified split); the
  same command trains on any labelled MNIST-like source (e.g. the full train split).
* `fashion28`: 28x28 Fashion-MNIST, the architecture of mnist28, trained on all 60,000
  images of the train split with random left-right flips, and tested on the 10,000 of
  the t10k split, which it never sees in training (docs/classifiers.md).

Inputs are NHWC, one channel, floats in [-1, 1]: the data pipeline's scaling of
uint8 images (x / 127.5 - 1) and the range of the generator's tanh output.

A weights file is an .npz of the flattened params ('params/Conv_0/kernel', ...) plus a
JSON string 'meta': the architecture, the input shape and how the weights were made.
"""

import hashlib
import json
import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_jax.metrics.features.extractor import FeatureExtractor

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / 'weights'

# name -> architecture and input shape of a digit classifier.
CONFIGS = {
    'digits8': {'input_shape': (8, 8, 1), 'widths': (32, 64), 'hidden': 128, 'num_classes': 10},
    'mnist28': {'input_shape': (28, 28, 1), 'widths': (32, 64, 128), 'hidden': 128,
                'num_classes': 10},
    'fashion28': {'input_shape': (28, 28, 1), 'widths': (32, 64, 128), 'hidden': 128,
                  'num_classes': 10},
}


class DigitClassifier(nn.Module):
  """Conv blocks (3x3 conv, ReLU, 2x2 max pool), a hidden layer, then class logits.

  `__call__(x, train=False)` returns (logits (N, num_classes), features (N, hidden)):
  the features are the hidden layer's ReLU activations, the penultimate layer, as
  pool3 is Inception's. Dropout (`dropout_rate`, on those features, before the
  classifier) acts only when `train` is set, and then needs a 'dropout' rng.
  """

  widths: tuple[int, ...] = (32, 64)
  hidden: int = 128
  num_classes: int = 10
  dropout_rate: float = 0.5

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, jax.Array]:
    """`x`: (N, H, W, 1) floats in [-1, 1]. Returns (logits, features)."""
    for width in self.widths:
      x = nn.relu(nn.Conv(width, (3, 3), padding='SAME')(x))
      x = nn.max_pool(x, (2, 2), (2, 2))
    x = x.reshape((x.shape[0], -1))
    features = nn.relu(nn.Dense(self.hidden)(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    return nn.Dense(self.num_classes)(x), features


def make_classifier(name: str) -> DigitClassifier:
  """The untrained DigitClassifier of configuration `name` (a key of CONFIGS)."""
  if name not in CONFIGS:
    raise ValueError(f'digit classifier {name!r} is unknown; known: {", ".join(sorted(CONFIGS))}.')
  config = CONFIGS[name]
  return DigitClassifier(widths=config['widths'], hidden=config['hidden'],
                         num_classes=config['num_classes'])


def params_digest(params) -> str:
  """SHA-256 over the params' paths, dtypes, shapes and bytes: a weights identity.

  Unlike a hash of the .npz file, which records write times, it depends on the
  values alone, so retrained weights can be compared with shipped ones.
  """
  digest = hashlib.sha256()
  for path, value in sorted(traverse_util.flatten_dict(params, sep='/').items()):
    value = np.ascontiguousarray(np.asarray(value))
    digest.update(f'{path}:{value.dtype.str}:{value.shape};'.encode())
    digest.update(value.tobytes())
  return digest.hexdigest()


def save_weights(path, params, meta: dict) -> None:
  """Writes `params` and the JSON-able `meta` (architecture, provenance) to an .npz."""
  flat = {f'params/{k}': np.asarray(v) for k, v in
          traverse_util.flatten_dict(params, sep='/').items()}
  pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
  np.savez(path, meta=np.array(json.dumps(meta, sort_keys=True)), **flat)


def load_weights(path) -> tuple[dict, dict]:
  """(params, meta) from an .npz written by `save_weights`."""
  with np.load(path, allow_pickle=False) as arrays:
    if 'meta' not in arrays.files:
      raise ValueError(f'{path} is not a digit classifier weights file (no "meta").')
    meta = json.loads(str(arrays['meta']))
    flat = {k[len('params/'):]: arrays[k] for k in arrays.files if k.startswith('params/')}
  return traverse_util.unflatten_dict(flat, sep='/'), meta


def shipped_weights_path(name: str) -> pathlib.Path:
  """The path of the weights shipped for configuration `name`."""
  make_classifier(name)  # Validates the name.
  return WEIGHTS_DIR / f'{name}.npz'


def load_digit_classifier(name: str = 'digits8', weights_path=None
                          ) -> tuple[DigitClassifier, dict, dict]:
  """(model, variables, meta) of a trained digit classifier.

  `name` picks the configuration; the weights are the shipped ones unless
  `weights_path` names an .npz written by the training command. The architecture is
  read from the file, so weights trained with other widths load too. Apply with
  `model.apply(variables, x)` -> (logits, features).
  """
  path = pathlib.Path(weights_path) if weights_path else shipped_weights_path(name)
  if not path.is_file():
    raise FileNotFoundError(
        f'no digit classifier weights at {path}; make them with\n'
        f'  python -m gan_jax.metrics.features.train_digit_classifier --model={name} '
        f'--output={path}')
  params, meta = load_weights(path)
  model = DigitClassifier(widths=tuple(meta['widths']), hidden=meta['hidden'],
                          num_classes=meta['num_classes'])
  shapes = jax.eval_shape(model.init, jax.random.key(0),
                          jnp.zeros((1, *meta['input_shape']), jnp.float32))
  if jax.tree.map(lambda s: s.shape, shapes['params']) != jax.tree.map(np.shape, params):
    raise ValueError(f'{path}: the stored params do not fit the architecture its meta '
                     f'describes ({meta["widths"]}, hidden {meta["hidden"]}).')
  return model, {'params': params}, meta


def make_extractor(name: str = 'digits8', weights_path=None,
                   batch_size: int | None = None) -> FeatureExtractor:
  """The FeatureExtractor of a trained digit classifier (see `load_digit_classifier`).

  Its cache key digests the params, so that statistics cached with other weights (a
  retrained file) are never mistaken for these.
  """
  model, variables, meta = load_digit_classifier(name, weights_path)

  def apply_fn(variables, images):
    logits, features = model.apply(variables, images)
    return {'features': features, 'logits': logits}

  info = {k: meta[k] for k in ('test_accuracy', 'num_train', 'num_test', 'source', 'command')
          if k in meta}
  return FeatureExtractor(name, apply_fn, variables, tuple(meta['input_shape']),
                          cache_key=f'{name}-{params_digest(variables["params"])[:16]}',
                          batch_size=batch_size or 1024, info=info)
