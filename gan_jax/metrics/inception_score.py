"""Inception Score (Salimans et al. 2016) from classifier logits.

IS = exp(E_x KL(p(y|x) || p(y))), where p(y) is the mean of p(y|x) over the samples. As
in the reference code of the paper (openai/improved-gan), the samples are cut into
`num_splits` consecutive chunks (rows i*N//splits to (i+1)*N//splits, so every sample is
used and chunk sizes differ by at most one), the score is computed on each chunk with
that chunk's p(y), and the mean and (ddof=0) standard deviation over chunks are
reported. The softmax and everything after it run in float64 on the host.
"""

import numpy as np

from gan_jax.metrics.stats import as_features


def _log_softmax(logits: np.ndarray) -> np.ndarray:
  shifted = logits - logits.max(axis=1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _split_score(log_p: np.ndarray) -> float:
  """exp of the mean KL(p(y|x) || p(y)) over the rows of one chunk."""
  p = np.exp(log_p)
  marginal = p.mean(axis=0)
  # 0 log 0 = 0: a class whose probability underflows to 0 for every sample of the chunk
  # has a zero marginal; its terms are 0 * (finite), not 0 * inf = nan.
  log_marginal = np.log(np.where(marginal > 0, marginal, 1.0))
  kl_terms = p * (log_p - log_marginal)
  return float(np.exp(kl_terms.sum(axis=1).mean()))


def inception_score(logits, num_splits: int = 10) -> tuple[float, float]:
  """Mean and standard deviation of the Inception Score over `num_splits` chunks.

  Args:
    logits: (N, C) pre-softmax classifier outputs (NumPy or JAX array, or an iterable
      of batches, concatenated), N >= num_splits.
    num_splits: number of consecutive chunks (the reference's 10).

  Returns:
    (mean, std) as Python floats.
  """
  logits = as_features(logits, 'inception_score logits').astype(np.float64)
  n = logits.shape[0]
  if not 1 <= num_splits <= n:
    raise ValueError(f'inception_score: num_splits={num_splits} must be between 1 and the '
                     f'number of samples, {n}.')
  log_p = _log_softmax(logits)
  scores = [_split_score(log_p[i * n // num_splits:(i + 1) * n // num_splits])
            for i in range(num_splits)]
  return float(np.mean(scores)), float(np.std(scores))
