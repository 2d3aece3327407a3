"""Classification Accuracy Score (CAS; Ravuri and Vinyals 2019) of a class-conditional GAN.

CAS trains a classifier on generated images labelled with the classes they were
generated for, and reports its accuracy on REAL test images. A generator whose
samples of class k look like real images of class k, with the variety of the real
class, gives a classifier nearly as good as one trained on real data; mode collapse
or class mixing within a label show up as a lower score, which FID and IS miss.

  cas = classification_accuracy_score(fake_x, fake_y, test_x, test_y, seed=0)
  baseline = real_data_accuracy_score(train_x[:len(fake_x)], train_y[:len(fake_x)],
                                      test_x, test_y, seed=0)

The score is read against the baseline: the same classifier and training routine on
the same number of real labelled training images (the caller passes those). The
classifier is a fresh `DigitClassifier` of one of the shipped configurations (by
default the one whose input shape matches the images: digits8 for 8x8, mnist28 for
28x28), trained by `train_digit_classifier.train`, the routine behind the shipped
weights, with that configuration's recipe (epochs, batch size, flips) unless told
otherwise. Training is deterministic for a fixed seed.
"""

import numpy as np

from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features import train_digit_classifier as training
from gan_jax.metrics.features.extractor import to_model_range

# Floats a little outside [-1, 1] are fine (an unclipped generator); far outside means
# images scaled another way ([0, 1], [0, 255]), which the classifier would misread.
_RANGE_SLACK = 1.05


def _classifier_name(shape: tuple, classifier: str | None) -> str:
  """`classifier`, or the first shipped configuration taking images of `shape`."""
  if classifier is not None:
    if classifier not in digit_classifier.CONFIGS:
      raise ValueError(f'classifier={classifier!r} is unknown; known: '
                       f'{", ".join(digit_classifier.CONFIGS)}.')
    return classifier
  for name, config in digit_classifier.CONFIGS.items():
    if tuple(config['input_shape']) == tuple(shape):
      return name
  known = ', '.join(f'{n} {c["input_shape"]}' for n, c in digit_classifier.CONFIGS.items())
  raise ValueError(f'no classifier configuration takes images of shape {tuple(shape)} '
                   f'(known: {known}); pass classifier= to choose one.')


def _checked(x, y, what: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
  """(float32 images in [-1, 1], int32 labels), or a ValueError naming `what`."""
  x, y = np.asarray(x), np.asarray(y)
  if x.ndim != 4:
    raise ValueError(f'{what} images must be NHWC (N, H, W, C); got shape {x.shape}.')
  if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
    raise ValueError(f'{what} labels must be {len(x)} integers, one per image; got dtype '
                     f'{y.dtype} and shape {y.shape}.')
  if len(y) and (y.min() < 0 or y.max() >= num_classes):
    raise ValueError(f'{what} labels must lie in 0..{num_classes - 1}; got '
                     f'{y.min()}..{y.max()}.')
  x = to_model_range(x).astype(np.float32, copy=False)
  if x.size and np.abs(x).max() > _RANGE_SLACK:
    raise ValueError(f'{what} images must be uint8 or floats in [-1, 1]; got values in '
                     f'[{x.min():.3g}, {x.max():.3g}].')
  return x, y.astype(np.int32)


def train_classifier(train_x, train_y, *, classifier: str | None = None,
                     epochs: int | None = None, batch_size: int | None = None,
                     learning_rate: float = 1e-3, weight_decay: float = 1e-4,
                     flip: bool | None = None, seed: int = 0
                     ) -> tuple[digit_classifier.DigitClassifier, dict]:
  """(model, params): a fresh DigitClassifier trained on labelled images.

  Args:
    train_x: (N, H, W, C) images, uint8 or floats in [-1, 1].
    train_y: (N,) integer labels in 0..num_classes-1 of the configuration.
    classifier: a `digit_classifier.CONFIGS` name; default: the one whose input shape
      is the images' shape.
    epochs, batch_size, flip: default to that configuration's recipe in
      `train_digit_classifier.DEFAULTS` (e.g. digits8: 60 epochs of 64; fashion28 20
      epochs with flips).
    learning_rate, weight_decay: AdamW's peak learning rate and decay.
    seed: seeds the init, the order, dropout and flips; same seed, same params.
  """
  name = _classifier_name(np.shape(train_x)[1:], classifier)
  config = digit_classifier.CONFIGS[name]
  x, y = _checked(train_x, train_y, 'training', config['num_classes'])
  recipe = training.DEFAULTS.get(name, {})
  epochs = recipe.get('epochs', 20) if epochs is None else epochs
  batch_size = recipe.get('batch_size', 64) if batch_size is None else batch_size
  flip = recipe.get('flip', False) if flip is None else flip
  if epochs < 1:
    raise ValueError(f'epochs={epochs} must be >= 1.')
  model = digit_classifier.make_classifier(name)
  params = training.train(model, x, y, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, weight_decay=weight_decay,
                          seed=seed, flip=flip)
  return model, params


def evaluate_accuracy(model: digit_classifier.DigitClassifier, params: dict, test_x,
                  test_y) -> float:
  """Fraction of the real test images (uint8 or [-1, 1] floats) classified as labelled."""
  x, y = _checked(test_x, test_y, 'test', model.num_classes)
  return training.accuracy(model, params, x, y)


def classification_accuracy_score(fake_x, fake_y, real_test_x, real_test_y,
                                  **train_kwargs) -> float:
  """CAS: accuracy on real test images of a classifier trained on generated ones.

  `fake_x` (N, H, W, C) are generated images in [-1, 1] (or uint8), `fake_y` the
  labels they were generated for; `real_test_x`, `real_test_y` real held-out images
  and labels. `train_kwargs` go to `train_classifier` (classifier, epochs, batch_size,
  learning_rate, weight_decay, flip, seed). Compare with `real_data_accuracy_score`
  on as many real training images, with the same `train_kwargs`.
  """
  model, params = train_classifier(fake_x, fake_y, **train_kwargs)
  return evaluate_accuracy(model, params, real_test_x, real_test_y)


def real_data_accuracy_score(real_train_x, real_train_y, real_test_x, real_test_y,
                             **train_kwargs) -> float:
  """CAS's baseline: the same classifier and routine trained on REAL labelled images.

  Pass as many real training images as the generated set of the CAS it is compared
  with (and the same `train_kwargs`), so that only the source of the images differs.
  """
  model, params = train_classifier(real_train_x, real_train_y, **train_kwargs)
  return evaluate_accuracy(model, params, real_test_x, real_test_y)
