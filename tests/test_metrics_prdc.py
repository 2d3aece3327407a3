"""Precision, recall, density and coverage on constructed cases and against float64 SciPy."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.spatial.distance

from gan_jax import metrics


def _reference_prdc(real, fake, k):
  """The clovaai `prdc` definitions in float64: full distance matrices and np.partition."""
  def radii(points):
    d = scipy.spatial.distance.cdist(points, points)
    return np.partition(d, k, axis=1)[:, k]  # (k+1)-th smallest: the point itself is the first.

  real_radii, fake_radii = radii(real), radii(fake)
  d = scipy.spatial.distance.cdist(real, fake)
  in_real_ball = d < real_radii[:, None]
  return {
      'precision': in_real_ball.any(axis=0).mean(),
      'recall': (d < fake_radii[None, :]).any(axis=1).mean(),
      'density': in_real_ball.sum(axis=0).mean() / k,
      'coverage': (d.min(axis=1) < real_radii).mean(),
  }


def test_against_reference_with_ragged_blocks():
  rng = np.random.default_rng(0)
  real = rng.normal(size=(300, 8))
  fake = rng.normal(size=(250, 8)) * 1.3 + 0.4
  for k in (3, 5):
    # 300 rows in blocks of 64: four full blocks and one of 44.
    assert metrics.prdc(real, fake, k=k, block_size=64) == pytest.approx(
        _reference_prdc(real, fake, k), abs=1e-12)
  assert metrics.precision_recall(jnp.asarray(real), fake, block_size=64) == pytest.approx(
      {key: _reference_prdc(real, fake, 3)[key] for key in ('precision', 'recall')}, abs=1e-12)
  assert metrics.density_coverage(real, [fake[:100], fake[100:]]) == pytest.approx(
      {key: _reference_prdc(real, fake, 5)[key] for key in ('density', 'coverage')}, abs=1e-12)


def test_identical_sets_are_perfect():
  x = np.random.default_rng(1).normal(size=(200, 16))
  assert metrics.precision_recall(x, x) == {'precision': 1.0, 'recall': 1.0}
  # Each ball holds its centre and its k - 1 nearest neighbours, strictly inside.
  assert metrics.density_coverage(x, x) == {'density': 1.0, 'coverage': 1.0}


def test_far_apart_sets_score_zero():
  x = np.random.default_rng(2).normal(size=(100, 4))
  assert metrics.prdc(x, x + 100.0, k=3) == {
      'precision': 0.0, 'recall': 0.0, 'density': 0.0, 'coverage': 0.0}


def test_fake_subset_of_real_is_precise_but_misses_recall():
  real = np.random.default_rng(3).normal(size=(400, 4))
  fake = real[:60]
  result = metrics.prdc(real, fake, k=3)
  assert result['precision'] == 1.0
  assert result['recall'] < 1.0 and result['coverage'] < 1.0


def test_too_few_points_is_an_error():
  with pytest.raises(ValueError, match='more than k points'):
    metrics.precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
