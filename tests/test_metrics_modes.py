"""Mode coverage on exact samples of the 8-mode ring and on labels of stacked MNIST."""

import math

import numpy as np
import pytest

from gan_jax import metrics

STD = 0.01


def _ring_means(num_modes=8, radius=1.0):
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _ring_samples(num_samples, seed, modes=None):
  rng = np.random.default_rng(seed)
  means = _ring_means()
  component = rng.integers(len(means), size=num_samples) if modes is None else modes
  return means[component] + STD * rng.normal(size=(num_samples, 2))


def test_exact_ring_samples_capture_every_mode():
  result = metrics.mixture_mode_coverage(_ring_samples(metrics.NUM_MIXTURE_SAMPLES, 0),
                                         _ring_means(), STD)
  assert result.modes == 8
  assert result.kl < 0.01  # Histogram noise of 2,500 samples: about 7 / (2 * 2500).


def test_high_quality_fraction_is_the_two_dimensional_chi_probability():
  # |noise| / std is chi with 2 degrees of freedom: P(r <= 3) = 1 - exp(-9 / 2) = 0.98889.
  result = metrics.mixture_mode_coverage(_ring_samples(40_000, 1), _ring_means(), STD)
  assert result.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.003)
  assert result.kl < 1e-3


def test_collapsed_sampler_finds_one_mode_and_kl_log_k():
  samples = _ring_samples(2500, 2, modes=np.full(2500, 3))
  result = metrics.mixture_mode_coverage(samples, _ring_means(), STD)
  assert result.modes == 1
  assert result.kl == pytest.approx(math.log(8), rel=1e-12)


def test_equal_shares_of_some_modes_and_the_three_std_boundary():
  means = _ring_means()
  # Modes 0..3 get two samples each; one more sample just beyond 3 std of mode 4 is
  # assigned to it but is not of high quality, so mode 4 is not captured.
  offsets = np.array([[2.999 * STD, 0.0], [0.0, -2.999 * STD]])
  samples = np.concatenate([means[m] + offsets for m in range(4)]
                           + [means[4:5] + [[3.001 * STD, 0.0]]])
  result = metrics.mixture_mode_coverage(samples, means, STD)
  assert result.modes == 4
  assert result.high_quality_fraction == pytest.approx(8 / 9)
  assert result.kl == pytest.approx(math.log(8 / 4), rel=1e-12)


def test_no_high_quality_sample_gives_nan_kl():
  result = metrics.mixture_mode_coverage(np.full((10, 2), 5.0), _ring_means(), STD)
  assert result.modes == 0 and result.high_quality_fraction == 0.0 and math.isnan(result.kl)


def test_classifier_coverage_of_stacked_mnist_triples():
  digits = np.stack(np.meshgrid(np.arange(10), np.arange(10), np.arange(10), indexing='ij'),
                    axis=-1).reshape(-1, 3)
  every_mode = metrics.classifier_mode_coverage(np.concatenate([digits, digits]), 1000)
  assert every_mode.modes == 1000 and every_mode.kl == pytest.approx(0.0, abs=1e-12)
  # (1, 2, 3) is mode 123 and (3, 2, 1) mode 321: two modes with equal shares.
  two_modes = metrics.classifier_mode_coverage(np.array([[1, 2, 3], [3, 2, 1]] * 5), 1000)
  assert two_modes.modes == 2 and two_modes.kl == pytest.approx(math.log(500), rel=1e-12)
  assert metrics.classifier_mode_coverage(np.array([[1, 2, 3], [3, 2, 1]]), 1000) == \
      metrics.classifier_mode_coverage(np.array([123, 321]), 1000)


def test_classifier_coverage_of_single_labels():
  result = metrics.classifier_mode_coverage(np.array([0, 0, 0, 1]), 10)
  p = np.array([0.75, 0.25])
  assert result.modes == 2 and result.kl == pytest.approx(np.sum(p * np.log(10 * p)), rel=1e-12)


def test_classifier_coverage_rejects_bad_labels():
  with pytest.raises(ValueError, match=r'\[0, 10\)'):
    metrics.classifier_mode_coverage(np.array([[1, 10, 3]]), 1000)
  with pytest.raises(ValueError, match='B\\*\\*3'):
    metrics.classifier_mode_coverage(np.array([[1, 2, 3]]), 999)
  with pytest.raises(ValueError, match='integers'):
    metrics.classifier_mode_coverage(np.array([0.5]), 10)
