"""Metrics of unsupervised codes (InfoGAN): do the code's values line up with the classes?

  matched_accuracy(predicted, labels, num_values, num_classes) -> MatchedAccuracy
      the accuracy of a code read as a classifier after mapping code values to classes
      by the best one-to-one assignment (the Hungarian method,
      `scipy.optimize.linear_sum_assignment`): the "unsupervised classification" figure
      of InfoGAN's paper (5% error on MNIST), with the mapping and the confusion matrix.
  code_purity(classes, code_values, num_values, num_classes) -> CodePurity
      for samples generated with each code value, the share that a classifier puts in
      that value's most frequent class, averaged over values: 1 when every value of the
      code generates one class only.
  code_information(logits) -> CodeInformation
      the mutual information between images and Q's categorical code, read from Q's
      posteriors on real images, I = H(mean_x p(c|x)) - mean_x H(p(c|x)) (nats). It needs
      no label: a code that splits the images into K confident, equally used groups
      scores log K, so it can choose between runs where the labels may not be used.
"""

from typing import NamedTuple

import numpy as np
import scipy.optimize
import scipy.special


class MatchedAccuracy(NamedTuple):
  accuracy: float  # Share of examples whose mapped code value is their class.
  mapping: tuple[int, ...]  # mapping[v] = the class code value v is assigned (-1: none).
  confusion: np.ndarray  # (num_values, num_classes) counts of (code value, class).


class CodePurity(NamedTuple):
  purity: float  # Mean over code values of the majority class's share.
  per_value: tuple[float, ...]  # That share per code value (NaN for a value never generated).
  majority: tuple[int, ...]  # The majority class of each code value (-1: never generated).


class CodeInformation(NamedTuple):
  information: float  # marginal_entropy - conditional_entropy, in [0, log K] (nats).
  marginal_entropy: float  # H of the mean posterior: how evenly the values are used.
  conditional_entropy: float  # Mean H of one image's posterior: how unsure Q is.


def _check(values, num: int, size: int, what: str) -> np.ndarray:
  values = np.asarray(values)
  if values.shape != (num,) or not np.issubdtype(values.dtype, np.integer):
    raise ValueError(f'{what} must be integers of shape ({num},), got {values.dtype} '
                     f'{values.shape}.')
  if values.size and (values.min() < 0 or values.max() >= size):
    raise ValueError(f'{what} must be in [0, {size}), got {values.min()}..{values.max()}.')
  return values.astype(np.int64)


def confusion_matrix(code_values, labels, num_values: int, num_classes: int) -> np.ndarray:
  """(num_values, num_classes) counts of examples per (code value, class)."""
  code_values = np.asarray(code_values)
  code_values = _check(code_values, len(code_values), num_values, 'code values')
  labels = _check(labels, len(code_values), num_classes, 'labels')
  counts = np.zeros((num_values, num_classes), np.int64)
  np.add.at(counts, (code_values, labels), 1)
  return counts


def matched_accuracy(predicted, labels, num_values: int, num_classes: int) -> MatchedAccuracy:
  """Accuracy of code values `predicted` (N,) against classes `labels` (N,) under the best
  one-to-one map of values to classes (the Hungarian method maximises matched counts)."""
  counts = confusion_matrix(predicted, labels, num_values, num_classes)
  rows, cols = scipy.optimize.linear_sum_assignment(counts, maximize=True)
  mapping = np.full(num_values, -1, np.int64)
  mapping[rows] = cols
  accuracy = counts[rows, cols].sum() / max(counts.sum(), 1)
  return MatchedAccuracy(float(accuracy), tuple(int(m) for m in mapping), counts)


def code_purity(classes, code_values, num_values: int, num_classes: int) -> CodePurity:
  """Majority-class share of the samples of each code value, under a classifier's
  `classes` (N,) for samples generated with `code_values` (N,)."""
  counts = confusion_matrix(code_values, classes, num_values, num_classes)
  totals = counts.sum(axis=1)
  with np.errstate(invalid='ignore', divide='ignore'):
    per_value = np.where(totals > 0, counts.max(axis=1) / totals, np.nan)
  majority = np.where(totals > 0, counts.argmax(axis=1), -1)
  return CodePurity(float(np.nanmean(per_value)), tuple(float(p) for p in per_value),
                    tuple(int(m) for m in majority))


def code_information(logits) -> CodeInformation:
  """Mutual information between images and a categorical code under Q's posteriors
  p(c|x) = softmax(`logits`) (N, K) on real images: H(mean p) - mean H(p), in nats.

  It uses no label: it is the clustering objective of e.g. IIC (Ji et al. 2019), the
  information Q's code carries about the real images rather than about G's samples
  (what InfoGAN's bound L_I measures). A code whose values each take a tenth of the
  images with confidence scores log 10 = 2.303; one that merges two classes into a
  value and splits another over two values, or reads real images unsurely, scores less.
  """
  logits = np.asarray(logits, np.float64)
  if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] < 2:
    raise ValueError(f'logits must have shape (N, K) with N >= 1 and K >= 2, got '
                     f'{logits.shape}.')
  log_p = logits - scipy.special.logsumexp(logits, axis=1, keepdims=True)
  p = np.exp(log_p)
  conditional = float(np.mean(-np.sum(p * log_p, axis=1)))
  marginal = p.mean(axis=0)
  marginal_entropy = float(-np.sum(marginal * np.log(np.where(marginal > 0, marginal, 1))))
  return CodeInformation(marginal_entropy - conditional, marginal_entropy, conditional)
