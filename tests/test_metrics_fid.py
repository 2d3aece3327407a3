"""FID and its streaming statistics against float64 NumPy/SciPy and TF-GAN's test vectors.

The TF-GAN vectors are the fixed inputs of tensorflow/gan,
tensorflow_gan/python/eval/classifier_metrics_test.py (FrechetTest and UtilsTest): 512 x 256
float32 standard normals drawn after `np.random.seed(0)`, real set first. TF-GAN asserts
no literal numbers there: its expected values come from the NumPy/SciPy formulas of that
file (`_expected_fid`, `_expected_trace_sqrt_product`), rewritten below, and it accepts a
relative error of 1e-4 (1e-2 for the trace); here the tolerance is 1e-6.
"""

import importlib

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import threadpoolctl

from gan_jax import metrics

# The module, not the function `metrics.fid` that shadows it as an attribute of the package.
fid_module = importlib.import_module('gan_jax.metrics.fid')


@pytest.fixture(autouse=True)
def _one_blas_thread():
  # 256 x 256 square roots are too small to gain from BLAS threads, and on a busy 2-core
  # runner spinning threads made them take seconds instead of tens of milliseconds.
  with threadpoolctl.threadpool_limits(limits=1, user_api='blas'):
    yield


def _expected_fid(real, gen):
  """TF-GAN's `_expected_fid`: float64 np.cov (N - 1) and scipy.linalg.sqrtm."""
  m, m_v = np.mean(real, axis=0), np.mean(gen, axis=0)
  sigma, sigma_v = np.cov(real, rowvar=False), np.cov(gen, rowvar=False)
  sqcc = scipy.linalg.sqrtm(np.dot(sigma, sigma_v))
  return np.square(m - m_v).sum() + np.trace(sigma + sigma_v - 2 * sqcc)


def _tfgan_pools(num_rows=512, num_features=256):
  np.random.seed(0)
  real = np.float32(np.random.randn(num_rows, num_features))
  gen = np.float32(np.random.randn(num_rows, num_features))
  return real, gen


def _relative_error(actual, expected):
  return abs(actual - expected) / abs(expected)


def test_tfgan_frechet_classifier_distance_value():
  real, gen = _tfgan_pools()
  assert _relative_error(metrics.fid(real, gen), _expected_fid(real, gen)) < 1e-6


def test_tfgan_trace_sqrt_product_value():
  # With equal means and the trace of each covariance known, fid_from_stats gives the
  # trace of sqrt(sigma sigma_v): the quantity of TF-GAN's test_trace_sqrt_product_value.
  real, gen = _tfgan_pools()
  cov_real, cov_gen = np.cov(real, rowvar=False), np.cov(gen, rowvar=False)
  zero = np.zeros(real.shape[1])
  distance = metrics.fid_from_stats(zero, cov_real, zero, cov_gen)
  actual = (np.trace(cov_real) + np.trace(cov_gen) - distance) / 2
  expected = np.trace(scipy.linalg.sqrtm(np.dot(cov_real, cov_gen)))
  assert _relative_error(actual, expected) < 1e-6


def test_tfgan_streaming_frechet_classifier_distance_consistency():
  # TF-GAN's streaming test: 5 x 512 rows fed in batches of 512, against the one-shot value.
  real, gen = _tfgan_pools(num_rows=5 * 512)
  streamed = metrics.fid((real[i:i + 512] for i in range(0, len(real), 512)),
                         (gen[i:i + 512] for i in range(0, len(gen), 512)))
  assert _relative_error(streamed, _expected_fid(real, gen)) < 1e-6


def test_tfgan_frechet_classifier_distance_covariance():
  # TF-GAN's check that FID sees the covariance: sets of growing scale, growing FID.
  np.random.seed(0)
  fids = []
  for scale in range(1, 11, 2):
    real = np.float32(np.random.randn(2048, 256) * scale)
    gen = np.float32(np.random.randn(2048, 256) * scale)
    fids.append(metrics.fid(real, gen))
  assert all(a < b for a, b in zip(fids, fids[1:]))


def test_against_scipy_with_correlated_shifted_features():
  rng = np.random.default_rng(1)
  mixing = rng.normal(size=(32, 32))
  a = rng.normal(size=(400, 32)) @ mixing + 5.0
  b = rng.normal(size=(300, 32)) @ (mixing + 0.1 * rng.normal(size=(32, 32))) + 5.3
  assert _relative_error(metrics.fid(a, b), _expected_fid(a, b)) < 1e-6


def test_fid_of_a_set_with_itself_is_zero():
  real, _ = _tfgan_pools()
  assert abs(metrics.fid(real, real)) < 1e-8 * np.trace(np.cov(real, rowvar=False))


def test_fewer_samples_than_features_stays_finite_and_near_zero_with_itself():
  # Singular covariances (rank 49 < 64): the product has zero eigenvalues, whose roots
  # come back with rounding noise, possibly complex; the reference's handling keeps FID finite.
  x = np.random.default_rng(2).normal(size=(50, 64))
  value = metrics.fid(x, x)
  assert np.isfinite(value) and abs(value) < 1e-4 * np.trace(np.cov(x, rowvar=False))


def test_inputs_jax_arrays_lists_of_batches_and_stats():
  real, gen = _tfgan_pools()
  expected = metrics.fid(real, gen)
  real_stats = metrics.GaussianStats.from_features(real)
  assert metrics.fid(jnp.asarray(real), jnp.asarray(gen)) == pytest.approx(expected, rel=1e-12)
  assert metrics.fid([real[:100], real[100:]], gen) == pytest.approx(expected, rel=1e-12)
  assert metrics.fid(real_stats, gen) == pytest.approx(expected, rel=1e-12)


def test_imaginary_square_root_is_an_error():
  # diag(1, -1) is no covariance: the root of the product has an imaginary unit diagonal entry.
  with pytest.raises(ValueError, match='imaginary'):
    metrics.fid_from_stats(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))


def test_non_finite_square_root_is_retaken_with_eps_on_both_diagonals(monkeypatch):
  calls = []
  real_sqrtm = fid_module._sqrtm

  def flaky_sqrtm(a):
    calls.append(a)
    return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

  monkeypatch.setattr(fid_module, '_sqrtm', flaky_sqrtm)
  sigma1, sigma2 = np.diag([2.0, 3.0]), np.diag([5.0, 7.0])
  value = metrics.fid_from_stats(np.zeros(2), sigma1, np.ones(2), sigma2, eps=1e-3)
  offset = 1e-3 * np.eye(2)
  np.testing.assert_allclose(calls[1], (sigma1 + offset) @ (sigma2 + offset))
  roots = np.sqrt(np.diag(calls[1]))
  assert value == pytest.approx(2 + 2 + 3 + 5 + 7 - 2 * roots.sum(), rel=1e-12)


def test_mismatched_shapes_are_an_error():
  with pytest.raises(ValueError, match='Gaussians'):
    metrics.fid_from_stats(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_streaming_stats_equal_one_shot_numpy():
  # A large common offset is where sums of x and x x^T lose the covariance to cancellation.
  rng = np.random.default_rng(3)
  x = (1e4 + rng.normal(size=(1000, 48)) @ rng.normal(size=(48, 48))).astype(np.float32)
  stats = metrics.GaussianStats()
  for start, stop in [(0, 1), (1, 2), (2, 130), (130, 512), (512, 1000)]:
    stats.update(x[start:stop])
  assert stats.count == 1000 and stats.dim == 48
  np.testing.assert_allclose(stats.mean, np.mean(x.astype(np.float64), axis=0), rtol=1e-14)
  np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-10, atol=1e-12)


def test_merged_stats_equal_one_stream():
  rng = np.random.default_rng(4)
  x = rng.normal(size=(300, 8))
  merged = metrics.GaussianStats.from_features(x[:70]).merge(
      metrics.GaussianStats.from_features([x[70:200], x[200:]]))
  np.testing.assert_allclose(merged.mean, x.mean(axis=0), rtol=1e-13)
  np.testing.assert_allclose(merged.cov, np.cov(x, rowvar=False), rtol=1e-12)
  assert merged.count == 300


def test_stats_reject_bad_batches():
  stats = metrics.GaussianStats().update(np.zeros((3, 4)))
  with pytest.raises(ValueError, match='4 seen before'):
    stats.update(np.zeros((3, 5)))
  with pytest.raises(ValueError, match='2-D'):
    stats.update(np.zeros(4))
  with pytest.raises(ValueError, match='at least 2 rows'):
    _ = metrics.GaussianStats().update(np.zeros((1, 4))).cov
