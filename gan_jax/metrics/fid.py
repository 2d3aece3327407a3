"""Frechet Inception Distance (Heusel et al. 2017) between two sets of features.

FID is the Frechet (2-Wasserstein) distance between the Gaussians fitted to two feature
sets: ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). It is computed in float64 on the
host with the handling of a near-singular product of the reference implementations
(TTUR's and pytorch-fid's `calculate_frechet_distance`), so that numbers computed here
can be put next to published ones:
  - the square root of S1 S2 is `scipy.linalg.sqrtm`'s;
  - if it is not finite, eps * I is added to both covariances and the root is retaken;
  - a complex root whose diagonal has an imaginary part above 1e-3 is an error, otherwise
    the imaginary part (rounding noise of a real PSD product) is dropped.
"""

import warnings

import numpy as np
import scipy.linalg

from gan_jax.metrics.stats import as_stats

_IMAGINARY_ATOL = 1e-3  # pytorch-fid's tolerance on the diagonal of the square root.


def _sqrtm(a: np.ndarray) -> np.ndarray:
  # SciPy >= 1.16 warns on singular or ill-conditioned input, a case the caller detects
  # and handles itself (the finite check), as the reference's `disp=False` did quietly.
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', scipy.linalg.LinAlgWarning)
    return scipy.linalg.sqrtm(a)


def fid_from_stats(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
  """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

  Args:
    mu1, mu2: (D,) means.
    sigma1, sigma2: (D, D) covariances.
    eps: added to the diagonal of both covariances when the square root of their
      product is not finite (a singular product), as in pytorch-fid.

  Returns:
    The distance as a Python float.

  Raises:
    ValueError: on mismatched shapes, or when the square root of the product has
      imaginary diagonal entries larger than 1e-3 (the covariances are not PSD, or are
      far too ill-conditioned for the number to mean anything).
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
  d = mu1.shape[0]
  if mu1.shape != mu2.shape or sigma1.shape != (d, d) or sigma2.shape != (d, d):
    raise ValueError(f'fid_from_stats: means {mu1.shape}, {mu2.shape} and covariances '
                     f'{sigma1.shape}, {sigma2.shape} do not describe two D-dimensional '
                     f'Gaussians.')
  diff = mu1 - mu2
  covmean = _sqrtm(sigma1 @ sigma2)
  if not np.isfinite(covmean).all():
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=_IMAGINARY_ATOL):
      raise ValueError(f'fid_from_stats: the square root of sigma1 @ sigma2 has an '
                       f'imaginary component of {np.max(np.abs(covmean.imag)):.3g}.')
    covmean = covmean.real
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(features_a, features_b, eps: float = 1e-6) -> float:
  """Frechet distance between the Gaussians fitted to two sets of features.

  Each argument is an (N, D) NumPy or JAX array, an iterable of (B, D) batches (consumed
  once, never held in memory together), or `GaussianStats` accumulated beforehand (for
  example the cached statistics of the real data). Covariances are unbiased (N - 1), as
  `np.cov`, in float64.

  Returns:
    FID as a Python float; see `fid_from_stats` for `eps` and the errors raised.
  """
  a, b = as_stats(features_a), as_stats(features_b)
  return fid_from_stats(a.mean, a.cov, b.mean, b.cov, eps=eps)
