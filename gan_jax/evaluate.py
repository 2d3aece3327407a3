"""Command line: the metrics of a trained run's checkpoint, written as JSON and printed.

  python -m gan_jax.evaluate --workdir=runs/digits_dcgan [--checkpoint=STEP] [--num_samples=N]

The metrics are those of the run's `config.eval` (or `--metrics=fid,kid`); the result
goes to `<workdir>/eval/step_<STEP>.json` with the config of the evaluation.
"""

import functools
import json
import os

from absl import app
from absl import flags
from absl import logging

_WORKDIR = flags.DEFINE_string('workdir', None, 'The run directory (holds checkpoints/).')
_CHECKPOINT = flags.DEFINE_integer('checkpoint', None, 'Step to evaluate (default: latest).')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', None, 'Generated samples (default: config).')
_METRICS = flags.DEFINE_list('metrics', None, 'Metrics to compute (default: config.eval.metrics).')
_EXTRACTOR = flags.DEFINE_string('extractor', None, 'Feature network (default: config).')
flags.mark_flags_as_required(['workdir'])


def evaluate_run(workdir: str, step: int | None = None, num_samples: int | None = None,
                 metrics=None, extractor: str | None = None) -> dict:
  """Evaluates checkpoint `step` (latest when None) of the run in `workdir`; returns the report."""
  # Imported here so that `--help` answers without initialising JAX.
  from gan_jax import evaluation  # pylint: disable=g-import-not-at-top
  from gan_jax import run as run_lib  # pylint: disable=g-import-not-at-top

  run = run_lib.load_run(workdir, step)
  config = run.config
  config.eval.num_samples = num_samples or config.eval.num_samples
  if metrics:
    config.eval.metrics = tuple(metrics)
  if extractor is not None:
    config.eval.extractor = extractor
  if not config.eval.metrics:
    raise ValueError(f'The run in {workdir} lists no config.eval.metrics; pass --metrics.')
  evaluator = evaluation.make_evaluator(config)
  readout = None
  if run.game.readouts:
    readout_fn = evaluation.make_readout(run.game)
    readout = lambda images: readout_fn(run.state, images)  # pylint: disable=unnecessary-lambda-assignment
  translate_back = evaluation.make_translate_back(run.game, config)
  if translate_back is not None:
    translate_back = functools.partial(translate_back, run.state)
  generate = evaluation.make_generate(run.game, run.sample_fn, config, evaluator)
  results, seconds = evaluator.evaluate(lambda num: generate(run.state, num), readout,
                                        translated=bool(run.game.translations),
                                        translate_back=translate_back)
  report = {'step': run.step, 'metrics': results, 'seconds': seconds,
            'num_samples': config.eval.num_samples, 'extractor': config.eval.extractor,
            'reference_cache': evaluator.cache_path if evaluator.extractor else None}
  path = os.path.join(workdir, 'eval', f'step_{run.step}.json')
  os.makedirs(os.path.dirname(path), exist_ok=True)
  temporary = f'{path}.tmp'
  with open(temporary, 'w', encoding='utf-8') as f:
    json.dump(report, f, indent=2, allow_nan=True)
  os.replace(temporary, path)
  return report


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  report = evaluate_run(_WORKDIR.value, _CHECKPOINT.value, _NUM_SAMPLES.value, _METRICS.value,
                        _EXTRACTOR.value)
  print(json.dumps(report, indent=2))


if __name__ == '__main__':
  app.run(main)
