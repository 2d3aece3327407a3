"""Inception Score against TF-GAN's logits vector and an independent float64 SciPy version.

The TF-GAN vector is the input of `test_classifier_score_from_logits_value` in
tensorflow/gan, tensorflow_gan/python/eval/classifier_metrics_test.py: two rows of 1,001
logits, [1, 2] * 500 + [4] and [4, 5] * 500 + [6]. TF-GAN asserts no literal number; its
expected value is the NumPy `_expected_inception_score` of that file (one split), rewritten
below.
"""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats

from gan_jax import metrics


def _tfgan_expected_inception_score(logits):
  e_x = np.exp(logits - np.max(logits, axis=1)[:, None])
  p = e_x / np.sum(e_x, axis=1)[:, None]
  q = np.expand_dims(np.mean(p, 0), 0)
  return np.exp(np.mean(np.sum(p * (np.log(p) - np.log(q)), 1)))


def _reference_inception_score(logits, num_splits):
  """Per-sample scipy.stats.entropy(p(y|x), p(y)) on consecutive chunks, as in improved-gan."""
  p = scipy.special.softmax(np.asarray(logits, np.float64), axis=1)
  n = len(p)
  scores = []
  for i in range(num_splits):
    part = p[i * n // num_splits:(i + 1) * n // num_splits]
    marginal = part.mean(axis=0)
    scores.append(np.exp(np.mean([scipy.stats.entropy(row, marginal) for row in part])))
  return np.mean(scores), np.std(scores)


def test_tfgan_classifier_score_from_logits_value():
  logits = np.array([np.array([1., 2.] * 500 + [4.]), np.array([4., 5.] * 500 + [6.])])
  mean, std = metrics.inception_score(logits, num_splits=1)
  expected = _tfgan_expected_inception_score(logits)
  assert abs(mean - expected) / expected < 1e-12
  assert std == 0.0


@pytest.mark.parametrize('num_samples', [1000, 1003])  # Equal chunks, and chunks of 100 and 101.
def test_against_scipy_reference_with_ten_splits(num_samples):
  logits = np.random.default_rng(0).normal(scale=3.0, size=(num_samples, 20)).astype(np.float32)
  mean, std = metrics.inception_score(jnp.asarray(logits))
  expected_mean, expected_std = _reference_inception_score(logits, 10)
  assert mean == pytest.approx(expected_mean, rel=1e-12)
  assert std == pytest.approx(expected_std, rel=1e-9)


def test_bounds_one_for_a_constant_classifier_and_num_classes_for_a_perfect_one():
  assert metrics.inception_score(np.zeros((50, 7)), num_splits=5) == (pytest.approx(1.0), 0.0)
  # Confident, evenly spread predictions: p(y|x) one-hot and p(y) uniform, so IS = C.
  confident = 200.0 * np.eye(8)[np.arange(80) % 8]
  mean, std = metrics.inception_score(confident, num_splits=10)
  assert mean == pytest.approx(8.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_extreme_logits_stay_finite():
  # Probabilities underflow to exactly 0 in float64: 0 log 0 must count as 0, not NaN.
  logits = np.array([[0.0, -2000.0, -2000.0], [-2000.0, 0.0, -2000.0]])
  mean, _ = metrics.inception_score(logits, num_splits=1)
  assert mean == pytest.approx(2.0, rel=1e-12)


def test_more_splits_than_samples_is_an_error():
  with pytest.raises(ValueError, match='num_splits'):
    metrics.inception_score(np.zeros((5, 3)), num_splits=10)
