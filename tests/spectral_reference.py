"""A NumPy reference for spectral normalization, shared by the model tests."""

import numpy as np


def power_iteration_sigma(kernel, u) -> float:
  """sigma as flax's SpectralNorm computes it from a stored u (one more iteration)."""
  matrix = np.asarray(kernel, np.float64).reshape(-1, kernel.shape[-1])
  v = u @ matrix.T
  v /= np.linalg.norm(v)
  u = v @ matrix
  u /= np.linalg.norm(u)
  return (v @ matrix @ u.T).item()
