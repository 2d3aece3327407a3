"""KID against a float64 NumPy estimator written here and TF-GAN's kernel distance vector.

The TF-GAN vector is the input of `test_kernel_classifier_distance_value` in tensorflow/gan,
tensorflow_gan/python/eval/classifier_metrics_test.py: after `np.random.seed(0)`, real =
float32 randn(512, 256), generated = float32 randn(512, 256) * 1.1 + 0.05. TF-GAN asserts
no literal number; its expected value is the NumPy `_expected_kid_and_std` of that file,
rewritten below. With all 512 rows in one block it is the unbiased MMD^2 of the whole sets,
which is `kid` with one subset of all 512 rows (the estimate does not depend on row order).
"""

import numpy as np
import pytest

from gan_jax import metrics


def _tfgan_expected_kid_one_block(real, gen):
  """TF-GAN's `_expected_kid_and_std` when max_block_size >= the set sizes (one block)."""
  dim = real.shape[1]
  k_rr = (np.dot(real, real.T) / dim + 1) ** 3
  k_rg = (np.dot(real, gen.T) / dim + 1) ** 3
  k_gg = (np.dot(gen, gen.T) / dim + 1) ** 3
  return (-2 * k_rg.mean() + k_rr[np.triu_indices_from(k_rr, k=1)].mean()
          + k_gg[np.triu_indices_from(k_gg, k=1)].mean())


def _reference_kid(a, b, num_subsets, subset_size, seed):
  """torch-fidelity's subset protocol, in float64 NumPy with explicit kernel matrices."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  m = subset_size
  rng = np.random.RandomState(seed)
  estimates = []
  for _ in range(num_subsets):
    x = a[rng.choice(len(a), m, replace=False)]
    y = b[rng.choice(len(b), m, replace=False)]
    k_xx = (x @ x.T / a.shape[1] + 1) ** 3
    k_yy = (y @ y.T / a.shape[1] + 1) ** 3
    k_xy = (x @ y.T / a.shape[1] + 1) ** 3
    estimates.append((k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
                     - 2 * k_xy.mean())
  return np.mean(estimates), np.std(estimates)


def test_tfgan_kernel_classifier_distance_value():
  np.random.seed(0)
  real = np.float32(np.random.randn(512, 256))
  gen = np.float32(np.random.randn(512, 256) * 1.1 + .05)
  expected = _tfgan_expected_kid_one_block(real.astype(np.float64), gen.astype(np.float64))
  mean, std = metrics.kid(real, gen, num_subsets=1, subset_size=512)
  assert abs(mean - expected) / expected < 1e-5
  assert std == 0.0  # One subset: nothing to spread.


def test_against_float64_reference_with_subsets():
  rng = np.random.default_rng(0)
  a = rng.normal(size=(300, 32)).astype(np.float32)
  b = (rng.normal(size=(250, 32)) * 1.2 + 0.2).astype(np.float32)
  mean, std = metrics.kid(a, b, num_subsets=20, subset_size=100, seed=7)
  expected_mean, expected_std = _reference_kid(a, b, 20, 100, seed=7)
  assert mean == pytest.approx(expected_mean, rel=1e-5)
  assert std == pytest.approx(expected_std, rel=1e-4)


def test_unbiased_near_zero_for_one_distribution_and_positive_for_a_shift():
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
  same_mean, same_std = metrics.kid(a, b, num_subsets=50, subset_size=200)
  shifted_mean, shifted_std = metrics.kid(a, b + 0.5, num_subsets=50, subset_size=200)
  # An unbiased estimate spreads around 0 (a biased one would sit near 2 E k(x,x) / m).
  assert abs(same_mean) < same_std
  assert shifted_mean > 10 * shifted_std > 0
  assert shifted_mean > 20 * abs(same_mean)


def test_subset_size_is_clamped_to_the_smaller_set():
  rng = np.random.default_rng(2)
  a, b = rng.normal(size=(60, 8)), rng.normal(size=(40, 8)) + 0.3
  assert metrics.kid(a, b, num_subsets=5, subset_size=1000) == pytest.approx(
      metrics.kid(a, b, num_subsets=5, subset_size=40), rel=1e-12)


def test_seeded_and_accepts_batches():
  rng = np.random.default_rng(3)
  a, b = rng.normal(size=(120, 8)), rng.normal(size=(100, 8))
  first = metrics.kid(a, b, num_subsets=4, subset_size=50, seed=3)
  assert metrics.kid([a[:60], a[60:]], b, num_subsets=4, subset_size=50, seed=3) == first
  assert metrics.kid(a, b, num_subsets=4, subset_size=50, seed=4) != first


def test_bad_arguments_are_errors():
  with pytest.raises(ValueError, match='dimensions'):
    metrics.kid(np.zeros((10, 3)), np.zeros((10, 4)))
  with pytest.raises(ValueError, match='>= 2 rows'):
    metrics.kid(np.zeros((1, 3)), np.zeros((10, 3)))
