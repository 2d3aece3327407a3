r"""Is a merged InfoGAN code value in G's samples or only in Q's reading of real images?

For each run (a workdir, `@step` for a checkpoint other than the newest) this reads the
first categorical code three ways and looks at the samples:
  - `eval`: Q on the labelled reference images in eval mode, as `encode` and the
    `code_accuracy` metric read them (D's stored running BatchNorm statistics);
  - `batch_statistics`: Q in train mode on shuffled batches of `--batch` reference images,
    each normalised by its own batch's statistics (the real images' own statistics,
    whatever the run stored);
  - `precise`: Q in eval mode after the game's `calibrate` (PreciseBN: D's BatchNorm
    statistics of the current weights) on `--calibration_batches` shuffled batches of
    `config.batch_size` reference images, what a run of `game.infogan.precise_bn_batches`
    stores;
  - `samples`: G's samples for each code value (`--per_value` each, the EMA generator)
    under the run's `eval.extractor` classifier: the majority class's share per value
    (`code_purity`) and which class each value draws.
A value that holds two classes in `eval` but not in `batch_statistics` or `precise`,
with pure samples, is a reading artefact, not a merged generator. Rows are appended to `--out`.

  python benchmarks/infogan_reading.py --runs=runs/infogan_mnist/seed_0,runs/x@4000 \
      --out=docs/infogan_reading.json
"""

import json
import os

from absl import app
from absl import flags
from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import evaluation
from gan_jax import run as run_lib
from gan_jax.games import base
from gan_jax.metrics import codes
from gan_jax.metrics import features

# A sibling file: benchmarks/ is sys.path[0] when this runs as a script.
# pylint: disable-next=g-bad-import-order
from code_scores import labelled_reference, score_codes, score_logits

_RUNS = flags.DEFINE_list('runs', None, 'Run folders, each optionally @step.')
_OUT = flags.DEFINE_string('out', None, 'JSON file the rows are written to.')
_BATCH = flags.DEFINE_integer('batch', 500,
                              'Real images per batch of the batch-statistics reading.')
_PER_VALUE = flags.DEFINE_integer('per_value', 200, 'Samples per code value.')
_CALIBRATION_BATCHES = flags.DEFINE_integer(
    'calibration_batches', 50, 'Batches of the precise reading (the default of '
    'game.infogan.precise_bn_batches).')
_DATA_PATH = flags.DEFINE_string('data_path', None,
                                 "Replaces the run's config.data.path (data moved since).")
flags.mark_flags_as_required(['runs', 'out'])


def batch_statistics_logits(run, images: np.ndarray, batch: int, seed: int = 0) -> np.ndarray:
  """Q's first categorical code's logits, D in train mode on shuffled batches of `batch`
  images (each normalised by its own batch's statistics; nothing is stored)."""
  game, state = run.game, run.state

  @jax.jit
  def read(x):
    outputs, _ = base.apply(game.modules['d'], state.params['d'], state.batch_stats['d'],
                            {'x': x}, train=True)
    return game.split_q(outputs[1])[0][0]

  order = np.random.default_rng(seed).permutation(len(images))
  logits = None
  for start in range(0, len(images), batch):
    chunk = order[start:start + batch]
    values = np.asarray(read(jnp.asarray(images[chunk])))
    if logits is None:
      logits = np.zeros((len(images), values.shape[1]), np.float32)
    logits[chunk] = values
  return logits


def precise_logits(run, images: np.ndarray, num_batches: int, seed: int = 0) -> np.ndarray:
  """Q's first categorical code's logits in eval mode, after `game.calibrate` on
  `num_batches` shuffled batches of `config.batch_size` of `images`."""
  size = run.config.batch_size
  order = np.random.default_rng(seed).permutation(len(images))
  if num_batches * size > len(images):
    raise ValueError(f'--calibration_batches={num_batches} of {size} needs '
                     f'{num_batches * size} images; the reference set has {len(images)}.')
  batches = [{'x': jnp.asarray(images[order[i * size:(i + 1) * size]])}
             for i in range(num_batches)]
  state = jax.jit(run.game.calibrate)(run.state, batches)
  return evaluation.make_readout(run.game)(state, images)['code_logits']


def sample_purity(run, per_value: int) -> dict:
  """G's samples per value of the first categorical code under the run's classifier."""
  if not run.config.eval.extractor:
    raise ValueError(f'{run.workdir}: config.eval.extractor is empty; the samples need a '
                     'classifier (e.g. mnist28).')
  num_values = run.game.categorical[0]
  code = np.repeat(np.arange(num_values), per_value).astype(np.int32)
  samples = np.asarray(run.sample(len(code), seed=0, code=code))
  classes = features.extract(run.config.eval.extractor, samples)['logits'].argmax(axis=1)
  result = codes.code_purity(classes, code, num_values, int(classes.max()) + 1)
  return {'purity': result.purity, 'purity_min': float(np.nanmin(result.per_value)),
          'class_per_value': list(result.majority)}


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  rows = []
  if os.path.exists(_OUT.value):
    with open(_OUT.value) as f:
      rows = json.load(f)['runs']
  for spec in _RUNS.value:
    workdir, _, step = spec.partition('@')
    run = run_lib.load_run(workdir, int(step) if step else None)
    config = run.config.copy_and_resolve_references()
    if _DATA_PATH.value:
      config.data.path = _DATA_PATH.value
    reference = labelled_reference(config)
    keep = ('code_accuracy', 'merged_values', 'per_class_accuracy')
    stored = score_codes(run, reference)
    own = score_logits(batch_statistics_logits(run, reference['x'], _BATCH.value),
                       reference['y'])
    precise = score_logits(precise_logits(run, reference['x'], _CALIBRATION_BATCHES.value),
                           reference['y'])
    row = {'run': spec, 'step': run.step, 'eval': {k: stored[k] for k in keep},
           'batch_statistics': {k: own[k] for k in keep},
           'precise': {k: precise[k] for k in keep},
           'samples': sample_purity(run, _PER_VALUE.value)}
    print(json.dumps({'run': spec, 'step': run.step,
                      'eval': round(stored['code_accuracy'], 4),
                      'eval_merged': stored['merged_values'],
                      'batch_statistics': round(own['code_accuracy'], 4),
                      'batch_merged': own['merged_values'],
                      'precise': round(precise['code_accuracy'], 4),
                      'precise_merged': precise['merged_values'],
                      'purity_min': round(row['samples']['purity_min'], 3)}), flush=True)
    rows = [r for r in rows if r['run'] != spec] + [row]
    temporary = f'{_OUT.value}.tmp'
    with open(temporary, 'w') as f:
      json.dump({'batch': _BATCH.value, 'per_value': _PER_VALUE.value,
                 'calibration_batches': _CALIBRATION_BATCHES.value, 'runs': rows}, f, indent=1)
    os.replace(temporary, _OUT.value)


if __name__ == '__main__':
  app.run(main)
