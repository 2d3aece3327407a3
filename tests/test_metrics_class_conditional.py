"""Class accuracy and intra-class FID against scikit-learn and a SciPy Frechet distance."""

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial
from sklearn import metrics as sk_metrics

from gan_jax.metrics import class_conditional


def _frechet(a, b):
  """The Frechet distance between Gaussians fitted to a and b, written out with SciPy."""
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  root = scipy.linalg.sqrtm(cov_a @ cov_b).real
  return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


def test_class_accuracy_matches_sklearn():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 4, 500)
  logits = rng.normal(size=(500, 4))
  logits[np.arange(500), labels] += rng.uniform(0, 3, 500)  # mostly right
  result = class_conditional.class_accuracy(logits, labels)
  predicted = logits.argmax(1)
  assert result.accuracy == pytest.approx(sk_metrics.accuracy_score(labels, predicted))
  recalls = sk_metrics.recall_score(labels, predicted, average=None)
  np.testing.assert_allclose(result.per_class, recalls)
  assert result.min_class_accuracy == pytest.approx(recalls.min())


def test_class_accuracy_rejects_bad_labels():
  with pytest.raises(ValueError, match=r'must be in \[0, 3\)'):
    class_conditional.class_accuracy(np.zeros((2, 3)), np.array([0, 3]))
  with pytest.raises(ValueError, match='shape'):
    class_conditional.class_accuracy(np.zeros((2, 3)), np.array([0]))


def test_intra_fid_is_the_mean_of_per_class_frechet_distances():
  rng = np.random.default_rng(1)
  real_labels, fake_labels = rng.integers(0, 3, 600), rng.integers(0, 3, 450)
  real = rng.normal(size=(600, 4)) + real_labels[:, None]
  fake = rng.normal(size=(450, 4)) * 1.3 + 0.8 * fake_labels[:, None]
  result = class_conditional.intra_fid(real, real_labels, fake, fake_labels, 3)
  expected = [_frechet(real[real_labels == c], fake[fake_labels == c]) for c in range(3)]
  np.testing.assert_allclose(result.per_class, expected, rtol=1e-6)
  assert result.mean == pytest.approx(np.mean(expected))


def test_intra_fid_leaves_out_classes_without_examples():
  rng = np.random.default_rng(2)
  real, fake = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
  real_labels = np.zeros(40, int)
  fake_labels = np.zeros(40, int)
  result = class_conditional.intra_fid(real, real_labels, fake, fake_labels, 2)
  assert np.isnan(result.per_class[1]) and result.mean == pytest.approx(result.per_class[0])


def test_within_class_diversity_is_the_ratio_of_mean_pairwise_distances():
  rng = np.random.default_rng(3)
  real_labels, fake_labels = rng.integers(0, 2, 300), rng.integers(0, 2, 200)
  real = rng.normal(size=(300, 5))
  fake = rng.normal(size=(200, 5)) * np.where(fake_labels == 0, 0.5, 1.0)[:, None]
  result = class_conditional.within_class_diversity(real, real_labels, fake, fake_labels, 2)
  expected = [scipy.spatial.distance.pdist(fake[fake_labels == c]).mean()
              / scipy.spatial.distance.pdist(real[real_labels == c]).mean() for c in range(2)]
  np.testing.assert_allclose(result.per_class, expected, rtol=1e-6)
  assert result.ratio == pytest.approx(np.mean(expected))
  assert result.per_class[0] < 0.6 < 0.9 < result.per_class[1]
