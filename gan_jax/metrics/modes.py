"""Mode coverage: mixtures of Gaussians (the VEEGAN protocol) and classifier labels.

`mixture_mode_coverage` follows VEEGAN (Srivastava et al. 2017), also used by PacGAN and
Unrolled GAN for the 2-D ring and grid: each sample goes to its nearest mode and is of
high quality when within `num_std` (3) standard deviations of it, in Euclidean distance;
a mode is captured when it has at least one high-quality sample. The papers draw
`NUM_MIXTURE_SAMPLES` (2,500) samples.

`classifier_mode_coverage` follows the Stacked MNIST protocol (VEEGAN, PacGAN): a
pretrained classifier labels each sample (three digits for a stacked MNIST image, one of
1,000 modes), and the labels that occur are the modes covered.

Both report KL(p || uniform), with p the normalised histogram of (high-quality) samples
over the K modes: sum_k p_k log(K p_k), with 0 log 0 = 0; 0 when every mode has the same
share and log(K) when all samples fall on one mode. When there is no sample to make a
histogram of (no high-quality sample at all), p does not exist and the KL is NaN.
"""

from typing import NamedTuple

import numpy as np

NUM_MIXTURE_SAMPLES = 2500  # Samples per evaluation in VEEGAN's and PacGAN's tables.


class MixtureCoverage(NamedTuple):
  """Mode coverage of samples from a Gaussian mixture."""
  modes: int  # Modes with at least one high-quality sample.
  high_quality_fraction: float  # Fraction (0 to 1) of samples within num_std of their mode.
  kl: float  # KL(high-quality mode histogram || uniform); NaN without high-quality samples.


class ClassifierCoverage(NamedTuple):
  """Mode coverage of classifier labels."""
  modes: int  # Distinct classes among the samples.
  kl: float  # KL(class histogram || uniform over num_classes); NaN without samples.


def _kl_from_uniform(counts: np.ndarray) -> float:
  """KL(counts / sum || uniform) over len(counts) modes, with 0 log 0 = 0."""
  total = counts.sum()
  if total == 0:
    return float('nan')
  p = counts[counts > 0] / total
  return float(np.sum(p * np.log(p * counts.shape[0])))


def mixture_mode_coverage(samples, means, std: float, num_std: float = 3.0) -> MixtureCoverage:
  """Modes captured, high-quality fraction and KL from uniform of mixture samples.

  Args:
    samples: (N, D) generated points (NumPy or JAX array); D = 2 for the ring and grid.
    means: (K, D) mode centres of the mixture.
    std: the standard deviation of each mixture component.
    num_std: a sample is of high quality when at most num_std * std from its nearest mode.

  Returns:
    A `MixtureCoverage(modes, high_quality_fraction, kl)`.
  """
  samples = np.asarray(samples, np.float64)
  means = np.asarray(means, np.float64)
  if samples.ndim != 2 or means.ndim != 2 or samples.shape[1] != means.shape[1]:
    raise ValueError(f'mixture_mode_coverage: samples {samples.shape} and means '
                     f'{means.shape} must be (N, D) and (K, D).')
  if samples.shape[0] == 0:
    raise ValueError('mixture_mode_coverage: no samples.')
  distances = np.linalg.norm(samples[:, None, :] - means[None, :, :], axis=-1)  # (N, K)
  nearest = distances.argmin(axis=1)
  high_quality = distances[np.arange(samples.shape[0]), nearest] <= num_std * std
  counts = np.bincount(nearest[high_quality], minlength=means.shape[0])
  return MixtureCoverage(modes=int(np.count_nonzero(counts)),
                         high_quality_fraction=float(high_quality.mean()),
                         kl=_kl_from_uniform(counts))


def classifier_mode_coverage(class_ids, num_classes: int) -> ClassifierCoverage:
  """Classes covered and KL of the class histogram from uniform over `num_classes`.

  Args:
    class_ids: (N,) integer labels in [0, num_classes), or (N, T) tuples of labels, each
      in [0, B) with B**T = num_classes, read as base-B numbers with the first column
      most significant (stacked MNIST: (N, 3) digits, num_classes=1000, id = 100 a + 10 b
      + c).
    num_classes: the total number of modes K.

  Returns:
    A `ClassifierCoverage(modes, kl)`.
  """
  ids = np.asarray(class_ids)
  if not np.issubdtype(ids.dtype, np.integer):
    raise ValueError(f'classifier_mode_coverage: class ids must be integers; got {ids.dtype}.')
  if ids.ndim == 2:
    base = round(num_classes ** (1.0 / ids.shape[1]))
    if base ** ids.shape[1] != num_classes:
      raise ValueError(f'classifier_mode_coverage: {ids.shape[1]} labels per sample need '
                       f'num_classes = B**{ids.shape[1]}; got {num_classes}.')
    if ids.size and (ids.min() < 0 or ids.max() >= base):
      raise ValueError(f'classifier_mode_coverage: each label must be in [0, {base}).')
    ids = ids.astype(np.int64) @ (base ** np.arange(ids.shape[1] - 1, -1, -1, dtype=np.int64))
  elif ids.ndim != 1:
    raise ValueError(f'classifier_mode_coverage: class ids of shape {ids.shape}; expected '
                     f'(N,) or (N, T).')
  if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
    raise ValueError(f'classifier_mode_coverage: class ids must be in [0, {num_classes}).')
  counts = np.bincount(ids, minlength=num_classes)
  return ClassifierCoverage(modes=int(np.count_nonzero(counts)), kl=_kl_from_uniform(counts))
