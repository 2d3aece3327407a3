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
"""

from typing import NamedTuple

import numpy as np
import scipy.optimize


class MatchedAccuracy(NamedTuple):
  accuracy: float  # Share of examples whose mapped code value is their class.
  mapping: tuple[int, ...]  # mapping[v] = the class code value v is assigned (-1: none).
  confusion: np.ndarray  # (num_values, num_classes) counts of (code value, class).


class CodePurity(NamedTuple):
  purity: float  # Mean over code values of the majority class's share.
  per_value: tuple[float, ...]  # That share per code value (NaN for a value never generated).
  majority: tuple[int, ...]  # The majority class of each code value (-1: never generated).


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
