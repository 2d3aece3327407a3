"""Sample-quality metrics of generative models, computed from features or labels.

Every function takes NumPy or JAX arrays (features from a classifier, logits, samples or
labels) or iterables of batches, and returns Python floats, dicts of floats or small
named tuples, ready for a metrics file:

  fid(features_a, features_b) -> float                   Frechet distance (Heusel et al.)
  kid(features_a, features_b, num_subsets=100, subset_size=1000, seed=0) -> (mean, std)
  inception_score(logits, num_splits=10) -> (mean, std)
  precision_recall(real, fake, k=3) -> {'precision', 'recall'}
  density_coverage(real, fake, k=5) -> {'density', 'coverage'}
  mixture_mode_coverage(samples, means, std) -> MixtureCoverage(modes, high_quality_fraction, kl)
  classifier_mode_coverage(class_ids, num_classes) -> ClassifierCoverage(modes, kl)
  detectability(real, fake) -> Detectability(accuracy, ci_low, ci_high, num_test)

For features that arrive batch by batch, `GaussianStats().update(batch)` accumulates the
mean and covariance FID needs, and `fid` and `fid_from_stats` take them.
"""

from gan_jax.metrics.detector import Detectability, detectability
from gan_jax.metrics.fid import fid, fid_from_stats
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kid, polynomial_kernel
from gan_jax.metrics.modes import (NUM_MIXTURE_SAMPLES, ClassifierCoverage, MixtureCoverage,
                                   classifier_mode_coverage, mixture_mode_coverage)
from gan_jax.metrics.prdc import density_coverage, prdc, precision_recall
from gan_jax.metrics.stats import GaussianStats

__all__ = [
    'NUM_MIXTURE_SAMPLES', 'ClassifierCoverage', 'Detectability', 'GaussianStats',
    'MixtureCoverage', 'classifier_mode_coverage', 'detectability', 'density_coverage', 'fid', 'fid_from_stats',
    'inception_score', 'kid', 'mixture_mode_coverage', 'polynomial_kernel', 'prdc',
    'precision_recall',
]
