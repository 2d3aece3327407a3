"""Classification Accuracy Score: real labels learn, shuffled labels do not, seeds repeat.

On scikit-learn's 8x8 digits with the digits8 classifier and a short recipe, so that
each training takes a few seconds on a CPU.
"""

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from gan_jax.data import sources
from gan_jax.metrics import cas
from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features import train_digit_classifier as training

# Few epochs and a larger learning rate than the shipped recipe: seconds, not minutes.
FAST = dict(epochs=8, batch_size=64, learning_rate=3e-3)


@pytest.fixture(scope='module')
def digits():
  """(train x, train y, test x, test y): digits as uint8, 300 held out, stratified."""
  source = sources.digits_source(None, 0)
  train, test = training.split(source.y, 300, seed=0)
  return source.x[train], source.y[train], source.x[test], source.y[test]


@pytest.fixture(scope='module')
def baseline(digits):
  """The real-data baseline of the FAST recipe, seed 0: trained once for the module."""
  train_x, train_y, test_x, test_y = digits
  return cas.real_data_accuracy_score(train_x, train_y, test_x, test_y, seed=0, **FAST)


@pytest.mark.slow
def test_real_digits_give_high_accuracy(baseline):
  assert baseline > 0.9


@pytest.mark.slow
def test_cas_of_real_images_in_model_range_equals_the_baseline(digits, baseline):
  # Generated images arrive as floats in [-1, 1]: the same images so scaled, and the
  # same seed, must train the same classifier as the uint8 baseline.
  train_x, train_y, test_x, test_y = digits
  fake_x = train_x.astype(np.float32) / 127.5 - 1.0
  score = cas.classification_accuracy_score(fake_x, train_y, test_x, test_y, seed=0, **FAST)
  # The two roads to [-1, 1] may round differently in the last bit (they did at XLA's
  # optimisation level 0), which can move a test image or two over 8 epochs.
  assert abs(score - baseline) <= 0.01
  # The same images mis-scaled to [0, 1] do not pass, so the check above can fail.
  misscaled = cas.classification_accuracy_score(train_x.astype(np.float32) / 255.0, train_y,
                                                test_x, test_y, seed=0, **FAST)
  assert misscaled < baseline - 0.05


@pytest.mark.slow
def test_shuffled_labels_give_chance_accuracy(digits):
  train_x, train_y, test_x, test_y = digits
  shuffled = np.random.default_rng(0).permutation(train_y)
  score = cas.classification_accuracy_score(train_x, shuffled, test_x, test_y, seed=0, **FAST)
  assert score < 0.3


@pytest.mark.slow
def test_training_is_deterministic_for_a_seed(digits):
  train_x, train_y, _, _ = digits
  digest = lambda seed: digit_classifier.params_digest(  # noqa: E731
      cas.train_classifier(train_x[:256], train_y[:256], seed=seed, epochs=1)[1])
  assert digest(0) == digest(0)
  assert digest(0) != digest(1)


@pytest.mark.slow
def test_accuracy_agrees_with_sklearn(digits):
  train_x, train_y, test_x, test_y = digits
  model, params = cas.train_classifier(train_x, train_y, seed=0, epochs=2)
  predicted = training.predict(model, params, training.to_model_range(test_x), batch_size=128)
  expected = sk_metrics.accuracy_score(test_y, predicted)
  assert cas.evaluate_accuracy(model, params, test_x, test_y) == pytest.approx(expected)


def test_default_classifier_follows_the_image_shape():
  assert cas._classifier_name((8, 8, 1), None) == 'digits8'
  assert cas._classifier_name((28, 28, 1), None) == 'mnist28'
  assert cas._classifier_name((28, 28, 1), 'fashion28') == 'fashion28'
  with pytest.raises(ValueError, match=r'shape \(32, 32, 3\).*classifier='):
    cas._classifier_name((32, 32, 3), None)
  with pytest.raises(ValueError, match="classifier='lenet' is unknown"):
    cas._classifier_name((8, 8, 1), 'lenet')


def test_bad_inputs_are_clear_errors(digits):
  train_x, train_y, test_x, test_y = digits
  with pytest.raises(ValueError, match=r'training images must be uint8 or floats in \[-1, 1\]'):
    cas.train_classifier(train_x.astype(np.float32), train_y)  # 0..255 as floats.
  with pytest.raises(ValueError, match=r'training labels must lie in 0..9'):
    cas.train_classifier(train_x, train_y + 1)
  with pytest.raises(ValueError, match='training labels must be 1497 integers'):
    cas.train_classifier(train_x, train_y[:-1])
  with pytest.raises(ValueError, match='fewer than one batch'):
    cas.train_classifier(train_x[:10], train_y[:10], epochs=1)
  model, params = cas.train_classifier(train_x[:64], train_y[:64], epochs=1)
  with pytest.raises(ValueError, match=r'test images must be NHWC'):
    cas.evaluate_accuracy(model, params, test_x[..., 0], test_y)
