"""The evaluator: the metrics a config asks for, on generated samples against real data.

`Evaluator.evaluate(generate)` draws samples through `generate(num)`, extracts their
features with the configured network, and computes each requested metric against
reference statistics of real data. Those statistics (mean and covariance, features,
logits) are computed once per dataset, split, preprocessing, subset and extractor and
cached on disk under a key that names all of them, so a changed dataset file, a
different image size or new extractor weights can never reuse stale statistics.

This module sees only arrays and callables: the glue that builds real examples from a
config and samples from a state lives in `gan_jax/evaluation.py`.
"""

import hashlib
import json
import os
import time
import uuid
from typing import Callable

import numpy as np

from gan_jax import cache

# Functions, not modules: `gan_jax.metrics` re-exports functions under module names.
from gan_jax.metrics.detector import detectability
from gan_jax.metrics.fid import fid_from_stats
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kid
from gan_jax.metrics.modes import classifier_mode_coverage, mixture_mode_coverage
from gan_jax.metrics.prdc import density_coverage, precision_recall
from gan_jax.metrics.stats import GaussianStats

# Metric name -> the result keys it produces.
METRICS = {
    'fid': ('fid',),
    'kid': ('kid_mean', 'kid_std'),
    'inception_score': ('is_mean', 'is_std'),
    'precision_recall': ('precision', 'recall'),
    'density_coverage': ('density', 'coverage'),
    'class_coverage': ('classes_covered', 'class_kl'),
    'mode_coverage': ('modes', 'high_quality', 'mode_kl'),
    'detectability': ('detector_accuracy', 'detector_ci_low', 'detector_ci_high'),
}
# Metrics that need the feature network.
NEEDS_EXTRACTOR = ('fid', 'kid', 'inception_score', 'precision_recall', 'density_coverage',
                   'class_coverage')
# Result keys for which smaller is better (all others: larger is better).
LOWER_IS_BETTER = ('fid', 'kid_mean', 'class_kl', 'mode_kl', 'detector_accuracy')
CACHE_VERSION = 1


def default_cache_dir() -> str:
  """$GAN_JAX_CACHE/reference_stats, else ~/.cache/gan_jax/reference_stats.

  The same root as downloaded extractor weights (`features.inception.cache_dir`).
  """
  return os.path.join(cache.cache_root(), 'reference_stats')


def primary_key(eval_config) -> str:
  """The result key that selects the best checkpoint (`eval.primary` or the first metric's)."""
  if eval_config.primary:
    return eval_config.primary
  return METRICS[eval_config.metrics[0]][0]


def is_improvement(key: str, new: float, best: float | None) -> bool:
  """Whether `new` beats `best` for result `key` (NaN never does)."""
  if new is None or not np.isfinite(new):
    return False
  if best is None or not np.isfinite(best):
    return True
  return new < best if key in LOWER_IS_BETTER else new > best


def check_eval_config(eval_config) -> None:
  """Raises ValueError naming the `config.eval` field that is wrong."""
  for name in eval_config.metrics:
    if name not in METRICS:
      raise ValueError(f'config.eval.metrics has {name!r}, which is unknown; known: '
                       f'{", ".join(sorted(METRICS))}.')
  needs = [m for m in eval_config.metrics if m in NEEDS_EXTRACTOR]
  if needs and not eval_config.extractor:
    raise ValueError(f'config.eval.metrics {needs} need a feature network: set '
                     'config.eval.extractor (digits8, mnist28 or inception_v3).')
  if eval_config.metrics:
    keys = [k for m in eval_config.metrics for k in METRICS[m]]
    key = primary_key(eval_config)
    if key not in keys:
      raise ValueError(f'config.eval.primary={key!r} is not a result of the listed metrics; '
                       f'choose one of {", ".join(keys)}.')
  for field in ('num_samples', 'num_real', 'batch_size', 'kid_subsets', 'kid_subset_size'):
    if eval_config[field] < 1:
      raise ValueError(f'config.eval.{field}={eval_config[field]} must be >= 1.')


class Evaluator:
  """Computes `eval_config.metrics` for a generator, against cached real-data statistics.

  Args:
    eval_config: the `config.eval` section.
    real_examples: `() -> {'x': (N, ...) float32 in data space, 'y': (N,)}`, the
      reference set; called only when something is not in the cache.
    reference_key: a JSON-able description of the reference set (dataset, split,
      preprocessing, subset size and seed); part of the cache key.
    extractor: a `FeatureExtractor` (see `gan_jax.metrics.features`), or None when no
      listed metric needs one.
    mixture: (means (K, 2), std) for `mode_coverage`, else None.
  """

  def __init__(self, eval_config, real_examples: Callable[[], dict], reference_key: dict,
               extractor=None, mixture=None):
    check_eval_config(eval_config)
    self.config = eval_config
    self.metrics = tuple(eval_config.metrics)
    self._real_examples_fn = real_examples
    self._real_examples = None
    self.extractor = extractor
    self.mixture = mixture
    if any(m in NEEDS_EXTRACTOR for m in self.metrics) and extractor is None:
      raise ValueError(f'config.eval.metrics {self.metrics} need a feature extractor.')
    if 'mode_coverage' in self.metrics and mixture is None:
      raise ValueError('config.eval.metrics has mode_coverage, which needs a 2-D mixture '
                       'dataset (data.name ring or grid).')
    self.cache_dir = eval_config.cache_dir or default_cache_dir()
    key = dict(reference_key, extractor=extractor.cache_key if extractor else None,
               version=CACHE_VERSION)
    self.cache_key_json = json.dumps(key, sort_keys=True)
    digest = hashlib.sha256(self.cache_key_json.encode()).hexdigest()[:20]
    prefix = extractor.cache_key if extractor else 'raw'
    self.cache_path = os.path.join(self.cache_dir, f'{prefix}-{digest}.npz')
    self._reference = None

  def real_examples(self) -> dict:
    """The reference set, loaded once."""
    if self._real_examples is None:
      self._real_examples = self._real_examples_fn()
    return self._real_examples

  def reference(self) -> dict:
    """Real-data features, logits, mean and covariance: from the cache, else computed and cached."""
    if self._reference is not None:
      return self._reference
    if os.path.exists(self.cache_path):
      with np.load(self.cache_path) as cached:
        if str(cached['key']) != self.cache_key_json:
          raise ValueError(f'{self.cache_path} holds statistics for another reference set '
                           f'({cached["key"]}); delete it.')
        self._reference = {k: cached[k] for k in cached.files if k != 'key'}
        self._reference['cache_hit'] = True
        return self._reference
    outputs = self.extractor.extract(self.real_examples()['x'])
    stats = GaussianStats.from_features(outputs['features'])
    reference = {'features': outputs['features'], 'logits': outputs['logits'],
                 'mean': stats.mean, 'cov': stats.cov}
    os.makedirs(self.cache_dir, exist_ok=True)
    # Written under a temporary name and renamed, so a crash never leaves half a file
    # that a later run would read as valid statistics.
    temporary = os.path.join(self.cache_dir, f'.{uuid.uuid4().hex}.tmp.npz')
    np.savez(temporary, key=np.asarray(self.cache_key_json), **reference)
    os.replace(temporary, self.cache_path)
    self._reference = dict(reference, cache_hit=False)
    return self._reference

  def evaluate(self, generate: Callable[[int], np.ndarray]) -> tuple[dict, dict]:
    """(results, seconds): metric values and the time each step took.

    `generate(num)` returns `num` samples in data space (NumPy).
    """
    seconds = {}
    start = time.perf_counter()
    fake = np.asarray(generate(self.config.num_samples))
    seconds['generate'] = time.perf_counter() - start
    results = {}
    fake_outputs = reference = None
    if self.extractor is not None:
      start = time.perf_counter()
      fake_outputs = self.extractor.extract(fake)
      seconds['extract'] = time.perf_counter() - start
      start = time.perf_counter()
      reference = self.reference()
      seconds['reference'] = time.perf_counter() - start
    for name in self.metrics:
      start = time.perf_counter()
      results.update(self._metric(name, fake, fake_outputs, reference))
      seconds[name] = time.perf_counter() - start
    return results, seconds

  def _metric(self, name: str, fake, fake_outputs, reference) -> dict:
    if name == 'fid':
      fake_stats = GaussianStats.from_features(fake_outputs['features'])
      return {'fid': fid_from_stats(reference['mean'], reference['cov'],
                                    fake_stats.mean, fake_stats.cov)}
    if name == 'kid':
      mean, std = kid(reference['features'], fake_outputs['features'],
                              num_subsets=self.config.kid_subsets,
                              subset_size=self.config.kid_subset_size)
      return {'kid_mean': mean, 'kid_std': std}
    if name == 'inception_score':
      # The original Inception Score code takes the logits without the fc bias; the
      # digit classifiers have only the one kind.
      logits = fake_outputs.get('logits_unbiased', fake_outputs['logits'])
      mean, std = inception_score(logits)
      return {'is_mean': mean, 'is_std': std}
    if name == 'precision_recall':
      return dict(precision_recall(reference['features'], fake_outputs['features']))
    if name == 'density_coverage':
      return dict(density_coverage(reference['features'], fake_outputs['features']))
    if name == 'class_coverage':
      logits = fake_outputs['logits']
      result = classifier_mode_coverage(np.argmax(logits, axis=1), logits.shape[1])
      return {'classes_covered': result.modes, 'class_kl': result.kl}
    if name == 'mode_coverage':
      means, std = self.mixture
      result = mixture_mode_coverage(fake, means, std)
      return {'modes': result.modes, 'high_quality': result.high_quality_fraction,
              'mode_kl': result.kl}
    if name == 'detectability':
      result = detectability(self.real_examples()['x'], fake)
      return {'detector_accuracy': result.accuracy, 'detector_ci_low': result.ci_low,
              'detector_ci_high': result.ci_high}
    raise ValueError(f'unknown metric {name!r}')
