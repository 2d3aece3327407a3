"""Metrics of class-conditional generators: do the samples show the class they were asked for?

  class_accuracy(logits, labels, num_classes) -> ClassAccuracy(accuracy, min_class_accuracy,
                                                              per_class)
      the share of samples a classifier assigns to the requested class (overall, and the
      worst class), as in AC-GAN's and the projection discriminator's evaluations.
  intra_fid(real_features, real_labels, fake_features, fake_labels, num_classes)
      -> IntraFID(mean, per_class): FID between each class's real and generated
      features (Miyato & Koyama 2018), and the mean over classes.

  within_class_diversity(real_features, real_labels, fake_features, fake_labels, num_classes)
      -> WithinClassDiversity(ratio, per_class): the mean pairwise feature distance among
      the samples of one class over the same among its real examples, averaged over
      classes: 1 is real-like variety, below 1 samples of a class alike (the
      accuracy-for-diversity trade AC-GAN is known for).

All take features and logits from any extractor (`gan_jax.metrics.features`).
"""

from typing import NamedTuple

import numpy as np

from gan_jax.metrics.fid import fid


class ClassAccuracy(NamedTuple):
  accuracy: float  # Share of all samples classified as their requested class.
  min_class_accuracy: float  # The lowest per-class share.
  per_class: tuple[float, ...]  # Share per requested class (NaN for a class never asked for).


class IntraFID(NamedTuple):
  mean: float  # Mean of the per-class FIDs (over the classes with enough examples).
  per_class: tuple[float, ...]


class WithinClassDiversity(NamedTuple):
  ratio: float  # Mean over classes of fake / real mean pairwise distance.
  per_class: tuple[float, ...]


def _check_labels(labels, num: int, num_classes: int, what: str) -> np.ndarray:
  labels = np.asarray(labels)
  if labels.shape != (num,):
    raise ValueError(f'{what} must have shape ({num},), got {labels.shape}.')
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(f'{what} must be in [0, {num_classes}), got {labels.min()}..{labels.max()}.')
  return labels.astype(np.int64)


def class_accuracy(logits, labels, num_classes: int | None = None) -> ClassAccuracy:
  """How often argmax(logits) equals the requested label, overall and per class.

  Args:
    logits: (N, K) classifier outputs for the samples.
    labels: (N,) the classes the samples were generated for.
    num_classes: K (default: logits.shape[1]).
  """
  logits = np.asarray(logits)
  num_classes = int(num_classes or logits.shape[1])
  labels = _check_labels(labels, len(logits), num_classes, 'labels')
  correct = np.argmax(logits, axis=1) == labels
  per_class = tuple(float(np.mean(correct[labels == c])) if np.any(labels == c) else float('nan')
                    for c in range(num_classes))
  asked = [a for a in per_class if not np.isnan(a)]
  return ClassAccuracy(float(np.mean(correct)), float(min(asked)), per_class)


def intra_fid(real_features, real_labels, fake_features, fake_labels,
              num_classes: int) -> IntraFID:
  """FID between the real and the generated features of each class, and their mean.

  A class with fewer than 2 examples on either side gets NaN and is left out of the
  mean (a ValueError if no class has enough). With fewer examples than feature
  dimensions the covariances are singular and FID is computed as `fid` handles that
  (eps added to the diagonals), so compare intra-FIDs only at equal sample counts.
  """
  real_features, fake_features = np.asarray(real_features), np.asarray(fake_features)
  real_labels = _check_labels(real_labels, len(real_features), num_classes, 'real labels')
  fake_labels = _check_labels(fake_labels, len(fake_features), num_classes, 'fake labels')
  per_class = []
  for c in range(num_classes):
    real, fake = real_features[real_labels == c], fake_features[fake_labels == c]
    per_class.append(float(fid(real, fake)) if len(real) >= 2 and len(fake) >= 2
                     else float('nan'))
  if np.all(np.isnan(per_class)):
    raise ValueError('intra-FID needs at least 2 real and 2 generated examples of some class.')
  return IntraFID(float(np.nanmean(per_class)), tuple(per_class))


def mean_pairwise_distance(features, max_points: int = 1000) -> float:
  """The mean Euclidean distance over distinct pairs of (at most the first `max_points`) rows."""
  x = np.asarray(features, np.float64)[:max_points]
  if len(x) < 2:
    return float('nan')
  squared = np.sum(x * x, axis=1)
  distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * x @ x.T, 0.0))
  return float(distances[np.triu_indices(len(x), k=1)].mean())


def within_class_diversity(real_features, real_labels, fake_features, fake_labels,
                           num_classes: int) -> WithinClassDiversity:
  """Per class, fake over real mean pairwise feature distance; their mean over classes.

  Classes with fewer than 2 examples on either side get NaN and are left out.
  """
  real_features, fake_features = np.asarray(real_features), np.asarray(fake_features)
  real_labels = _check_labels(real_labels, len(real_features), num_classes, 'real labels')
  fake_labels = _check_labels(fake_labels, len(fake_features), num_classes, 'fake labels')
  per_class = tuple(
      mean_pairwise_distance(fake_features[fake_labels == c])
      / mean_pairwise_distance(real_features[real_labels == c]) for c in range(num_classes))
  if np.all(np.isnan(per_class)):
    raise ValueError('within-class diversity needs at least 2 real and 2 generated examples '
                     'of some class.')
  return WithinClassDiversity(float(np.nanmean(per_class)), per_class)
