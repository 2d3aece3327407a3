"""Command line: one config over several seeds, summarised as a table of mean and std.

    python -m gan_jax.study --config=experiments/ring_best.py --seeds=5 \
        --workdir=runs/study/ring_best [--config.<field>=<value> ...]

Seed s trains in `<workdir>/seed_<s>` with `config.seed = first_seed + s` (a finished
seed is not retrained: its run resumes at its last step and only re-reads its results).
The final evaluation of every seed (`config.eval`, logged at the last step) is
collected into `<workdir>/study.json` (per-seed values, mean, sample std, wall time)
and `<workdir>/study.md` (one Markdown table row per metric set).

With `--parallel_seeds` (data drawn on device only) all seeds train at once in one
vmapped program (`gan_jax.core.multiseed`), without checkpoints or logs: the study then
writes each seed's final samples as `<workdir>/seed_<s>.png` beside the table.
"""

import json
import math
import os
import time

import jax
from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags
import numpy as np

from gan_jax import parallel

def final_eval(metrics_path: str, step: int) -> dict:
  """The `eval/*` values logged at `step` in a run's metrics.jsonl, without the prefix."""
  results = {}
  with open(metrics_path) as f:
    for line in f:
      record = json.loads(line)
      if record['step'] == step:
        results.update({k[len('eval/'):]: v for k, v in record.items()
                        if k.startswith('eval/')})
  if not results:
    raise ValueError(f'{metrics_path} has no eval/* values at step {step}: the config needs '
                     'config.eval.metrics for a study to have something to report.')
  return results


def summarize(per_seed: list[dict]) -> dict:
  """Mean and sample standard deviation (ddof=1; 0 for one seed) of every metric."""
  names = sorted(set().union(*per_seed))
  summary = {}
  for name in names:
    values = np.asarray([r[name] for r in per_seed if r.get(name) is not None], np.float64)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    summary[name] = {'mean': float(np.mean(values)) if len(values) else math.nan, 'std': std}
  return summary


def markdown_row(name: str, summary: dict, num_seeds: int) -> str:
  """`| name | metric mean ± std | ... |` with the metrics in sorted order."""
  cells = [f'{v["mean"]:.4g} ± {v["std"]:.2g}' for _, v in sorted(summary.items())]
  return f'| {name} ({num_seeds} seeds) | ' + ' | '.join(cells) + ' |'


def _train_one_by_one(config, workdir: str, seeds: list[int]) -> tuple[list[dict], list[float]]:
  """Full runs (checkpoints, logs, samples) in `workdir/seed_<s>`, one after the other."""
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  per_seed, seconds = [], []
  for seed in seeds:
    seed_config = config.copy_and_resolve_references()
    seed_config.seed = seed
    run_dir = os.path.join(workdir, f'seed_{seed}')
    start = time.perf_counter()
    train.train_and_evaluate(seed_config, run_dir)
    seconds.append(time.perf_counter() - start)
    per_seed.append(final_eval(os.path.join(run_dir, 'metrics.jsonl'),
                               seed_config.num_train_steps))
  return per_seed, seconds


def _train_in_parallel(config, workdir: str, seeds: list[int]) -> tuple[list[dict], list[float]]:
  """All seeds in one vmapped program; each seed's final samples drawn to a PNG."""
  from gan_jax import data  # pylint: disable=g-import-not-at-top
  from gan_jax.core import multiseed  # pylint: disable=g-import-not-at-top
  from gan_jax.io import writers  # pylint: disable=g-import-not-at-top
  states, finite, seconds = multiseed.train_seeds(config, seeds)
  per_seed = []
  os.makedirs(workdir, exist_ok=True)
  for seed, ok, (results, samples) in zip(seeds, finite,
                                          multiseed.evaluate_seeds(config, states, seeds)):
    writers.save_scatter_plot(os.path.join(workdir, f'seed_{seed}.png'), samples,
                              means=data.mixture_means(config.data))
    per_seed.append({**results, 'diverged': float(not ok)})
  return per_seed, [seconds]


def run_study(config, workdir: str, seeds: int, first_seed: int = 0, name: str = '',
              parallel_seeds: bool = False) -> dict:
  """Trains `seeds` runs of `config` and writes study.json and study.md; returns the study.

  `wall_seconds` in the result holds one time per seed, or with `parallel_seeds` one
  time for all of them (compilation included).
  """
  if seeds <= 0:
    raise ValueError(f'--seeds={seeds} must be positive.')
  workdir = os.path.abspath(workdir)
  name = name or os.path.basename(workdir)
  seed_list = list(range(first_seed, first_seed + seeds))
  train_fn = _train_in_parallel if parallel_seeds else _train_one_by_one
  per_seed, seconds = train_fn(config, workdir, seed_list)
  summary = summarize(per_seed)
  study = {'name': name, 'seeds': seed_list, 'num_train_steps': config.num_train_steps,
           'per_seed': per_seed, 'summary': summary, 'wall_seconds': seconds,
           'parallel_seeds': parallel_seeds, 'device': str(jax.devices()[0].device_kind),
           'config': config.to_dict()}
  header = '| run | ' + ' | '.join(sorted(summary)) + ' |'
  table = '\n'.join([header, '|' + '---|' * (len(summary) + 1),
                     markdown_row(name, summary, seeds)])
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'study.json'), 'w') as f:
    json.dump(study, f, indent=1, default=str)
  with open(os.path.join(workdir, 'study.md'), 'w') as f:
    f.write(table + '\n')
  print(table)
  return study


def _define_flags() -> dict:
  """The command line's flags; defined only when run as a program, so importing
  `run_study` from other programs does not claim their flag names."""
  return {
      'config': config_flags.DEFINE_config_file('config', None, 'Experiment config file.',
                                                lock_config=True),
      'workdir': flags.DEFINE_string('workdir', None,
                                     'Directory of the study (one subfolder per seed).'),
      'seeds': flags.DEFINE_integer('seeds', 5, 'Number of seeds.'),
      'first_seed': flags.DEFINE_integer('first_seed', 0, 'Seed of the first run.'),
      'parallel_seeds': flags.DEFINE_bool(
          'parallel_seeds', False, 'Train all seeds at once, vmapped (needs data.draw_on_device).'),
      'name': flags.DEFINE_string('name', '', 'Row label in the table (default: the workdir name).'),
  }


def main(argv, flag_values: dict):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  config = flag_values['config'].value
  parallel.initialize_distributed(config.distributed)
  run_study(config, flag_values['workdir'].value, flag_values['seeds'].value,
            flag_values['first_seed'].value, flag_values['name'].value,
            flag_values['parallel_seeds'].value)


if __name__ == '__main__':
  _FLAGS = _define_flags()
  flags.mark_flags_as_required(['config', 'workdir'])
  app.run(lambda argv: main(argv, _FLAGS))
