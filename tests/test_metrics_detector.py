"""Detectability: the classifier two-sample test and its Wilson interval."""

import numpy as np
import pytest
from scipy import stats

from gan_jax.metrics.detector import detectability, wilson_interval


@pytest.mark.parametrize('successes, trials', [(0, 10), (7, 10), (10, 10), (512, 1000),
                                               (998, 1000)])
def test_wilson_interval_matches_scipy(successes, trials):
  expected = stats.binomtest(successes, trials).proportion_ci(0.95, method='wilson')
  np.testing.assert_allclose(wilson_interval(successes, trials),
                             (expected.low, expected.high), atol=1e-9)


@pytest.mark.slow
def test_same_distribution_is_undetectable():
  # One held-out accuracy of 2,000 has a standard deviation of 0.011 around 0.5; the mean
  # of five independent repetitions, 0.005, so 0.02 is a 4-sigma bound.
  results = []
  for seed in range(5):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    results.append(detectability(real, fake, num_steps=200, seed=seed))
  assert all(r.num_test == 2000 for r in results)
  assert abs(np.mean([r.accuracy for r in results]) - 0.5) < 0.02
  assert sum(r.ci_low <= 0.5 <= r.ci_high for r in results) >= 3


def test_shifted_distribution_is_detected():
  rng = np.random.default_rng(1)
  real = rng.normal(size=(1000, 4, 4, 1))
  fake = rng.normal(size=(1000, 4, 4, 1)) + 1.0
  result = detectability(real, fake, num_steps=300)
  assert result.accuracy > 0.95 and result.ci_low > 0.9


def test_mismatched_shapes_are_an_error():
  with pytest.raises(ValueError, match='shape'):
    detectability(np.zeros((10, 2)), np.zeros((10, 3)))
