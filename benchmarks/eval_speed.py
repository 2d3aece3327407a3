"""Evaluation speed: seconds to score N generated samples, in total and metric by metric.

  python benchmarks/eval_speed.py --workdir=runs/digits_dcgan_unconditional [--num_samples=10000]
      [--metrics=fid,kid,precision_recall] [--extractor=digits8]

Runs the evaluator of the trained run twice: the first call includes compilation and
computing (or loading) the real-data reference statistics, the second is the steady
state a training run sees at each evaluation. Prints both as JSON.
"""

import json
import time

import jax
from absl import app
from absl import flags

from gan_jax import evaluation
from gan_jax import run as run_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'A trained run.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', 10_000, 'Generated samples.')
_METRICS = flags.DEFINE_list('metrics', ['fid', 'kid', 'precision_recall'], 'Metrics to time.')
_EXTRACTOR = flags.DEFINE_string('extractor', '', 'Feature network (default: the run config).')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  del argv
  run = run_lib.load_run(_WORKDIR.value)
  config = run.config
  config.eval.metrics = tuple(_METRICS.value)
  config.eval.num_samples = _NUM_SAMPLES.value
  config.eval.extractor = _EXTRACTOR.value or config.eval.extractor
  evaluator = evaluation.make_evaluator(config)
  generate = lambda num: evaluation.generate_samples(run.sample_fn, run.state, num, config)
  report = {'num_samples': _NUM_SAMPLES.value, 'metrics': list(config.eval.metrics),
            'extractor': config.eval.extractor, 'devices': jax.device_count(),
            'platform': jax.devices()[0].platform}
  for label in ('first_call', 'steady_state'):
    start = time.perf_counter()
    results, seconds = evaluator.evaluate(generate)
    report[label] = {'total_s': round(time.perf_counter() - start, 3),
                     **{k: round(v, 3) for k, v in seconds.items()}}
  report['results'] = results
  print(json.dumps(report, indent=2))


if __name__ == '__main__':
  app.run(main)
