r"""Which weights and which BatchNorm statistics should a generator be sampled with?

`Run.sample` and the evaluation sample G in eval mode: the EMA weights (when
`optim.ema_decay` > 0) normalised by the running BatchNorm statistics that training
stored, a moving average of the *raw* G's batch statistics. The EMA weights never run in
training, so those statistics are not theirs. For each run (a workdir, `@step` for a
checkpoint other than the newest) this scores the samples (`--sample_metrics`; default: those of
the run's `eval.metrics` that score samples) of the EMA and of the raw weights, each with
  stored    the running statistics as the run stored them (what `Run.sample` uses);
  standing  the sampled weights' own statistics: PreciseBN (`models/precise_bn.py`) over
            `--batches` batches of `config.batch_size` noise draws, G in train mode
            (BigGAN's "standing statistics");
  batch     G in train mode: each evaluation batch (`eval.batch_size`) normalised by its
            own statistics.
The noise is the run's evaluation noise (`evaluation.generate_samples`), so the row (ema,
stored) repeats the run's own evaluation of that checkpoint. Rows are appended to `--out`
(JSON lines) as each run finishes. With `--grid_dir`, one PNG a run shows the same noise
under each (weights, reading), side by side, one row per class or code value.

  python benchmarks/g_statistics.py --runs=runs/mnist_infogan,runs/x@2500 \
      --out=docs/g_statistics.jsonl [--sample_metrics=fid,precision_recall] [--grid_dir=...]
"""

import json
import os

from absl import app
from absl import flags
from absl import logging
import jax
import numpy as np

from gan_jax import evaluation
from gan_jax import run as run_lib
from gan_jax.games import base
from gan_jax.games import infogan
from gan_jax.games import semi_supervised
from gan_jax.games import unconditional
from gan_jax.io import writers
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.models import precise_bn

READINGS = ('stored', 'standing', 'batch')

_RUNS = flags.DEFINE_list('runs', None, 'Run folders, each optionally @step.')
_OUT = flags.DEFINE_string('out', None, 'JSON-lines file the rows are appended to.')
_SAMPLE_METRICS = flags.DEFINE_list(
    'sample_metrics', None,
    "Sample metrics (default: the run's own eval.metrics that score samples).")
_BATCHES = flags.DEFINE_integer('batches', 50, 'Noise batches of the standing statistics.')
_DATA_PATH = flags.DEFINE_string('data_path', None,
                                 "Replaces the run's config.data.path (data moved since).")
_GRID_DIR = flags.DEFINE_string('grid_dir', None, 'Folder of one side-by-side PNG a run.')
flags.mark_flags_as_required(['runs', 'out'])


def generator_inputs(game, z: jax.Array, labels: jax.Array | None) -> dict:
  """G's keyword inputs for evaluation noise `z` (and `labels`: classes of a conditional
  game, values of InfoGAN's first categorical code), as the game's `sample` builds them."""
  if isinstance(game, infogan.InfoGAN):
    return {'z': game.generator_input(*game.split_noise(z, labels))}
  if isinstance(game, unconditional.Unconditional):
    return game.g_inputs(z, labels)
  if isinstance(game, semi_supervised.SemiSupervised):
    return {'z': z}
  raise ValueError(f'config.game.name={game.config.game.name!r} does not sample from noise; '
                   'this benchmark reads generators of unconditional, conditional, infogan '
                   'and semi_supervised runs.')


def noise_batches(run, num_batches: int, seed: int = 0) -> list:
  """`num_batches` batches of `config.batch_size` noise draws {'z', and 'labels' (drawn
  uniformly) where the game takes classes or code values}."""
  game, size = run.game, int(run.config.batch_size)
  key = jax.random.PRNGKey(seed)
  batches = []
  for index in range(num_batches):
    z_key, label_key = jax.random.split(jax.random.fold_in(key, index))
    batch = {'z': jax.random.normal(z_key, (size, game.noise_dim))}
    if game.sample_classes:
      batch['labels'] = jax.random.randint(label_key, (size,), 0, game.sample_classes)
    batches.append(batch)
  return batches


def standing_statistics(run, use_ema: bool, batches: list) -> dict:
  """G's batch_stats with every BatchNorm mean/variance measured for the sampled weights
  (EMA or raw) in train mode over the noise `batches` (`noise_batches`)."""
  game, state = run.game, run.state
  params = state.ema['g'] if use_ema else state.params['g']

  def g_pass(stats, batch):
    inputs = generator_inputs(game, batch['z'], batch.get('labels'))
    return base.apply(game.modules['g'], params, stats, inputs, train=True)[1]

  return jax.jit(lambda stats: precise_bn.population_statistics(g_pass, stats, batches))(
      state.batch_stats['g'])


def make_sample_fn(run, use_ema: bool, reading: str):
  """Jitted `sample(state, z, labels=None)`: G (EMA or raw weights) in eval mode with the
  state's statistics, or in train mode (`reading='batch'`)."""
  game = run.game

  @jax.jit
  def sample(state, z, labels=None):
    params = state.ema['g'] if use_ema else state.params['g']
    return base.apply(game.modules['g'], params, state.batch_stats['g'],
                      generator_inputs(game, z, labels), train=reading == 'batch')[0]

  return sample


def sample_metrics(config, metrics) -> tuple:
  """`metrics` or the run's eval.metrics that score samples (not a readout of real images)."""
  if metrics:
    return tuple(metrics)
  chosen = tuple(m for m in config.eval.metrics
                 if 'readout' not in evaluator_lib.METRICS[m].needs)
  if not chosen:
    raise ValueError(f'config.eval.metrics {tuple(config.eval.metrics)} has no metric of '
                     'samples; pass --sample_metrics (e.g. fid).')
  return chosen


def score_run(run, metrics, num_batches: int, data_path: str | None = None,
              grid_path: str | None = None) -> list:
  """One row per (weights, reading): the sample metrics of `run`'s generator; with
  `grid_path`, the panels of `preview_panel` side by side in that PNG."""
  if grid_path and len(run.data_shape) != 3:
    raise ValueError(f'{run.workdir} samples {run.data_shape}-shaped points, not images; '
                     'drop --grid_dir.')
  config = run.config.copy_and_resolve_references()
  if data_path:
    config.data.path = data_path
  config.eval.metrics = sample_metrics(config, metrics)
  evaluator = evaluation.make_evaluator(config)
  rows, panels = [], []
  for use_ema in ((True, False) if config.optim.ema_decay > 0 else (False,)):
    for reading in READINGS:
      state = run.state
      if reading == 'standing':
        stats = standing_statistics(run, use_ema, noise_batches(run, num_batches))
        state = state.replace(batch_stats={**state.batch_stats, 'g': stats})
      sample_fn = make_sample_fn(run, use_ema, reading)
      generate = evaluation.make_generate(run.game, sample_fn, config, evaluator)
      results, _ = evaluator.evaluate(lambda num, state=state: generate(state, num))
      rows.append({'run': run.workdir, 'step': run.step, 'weights': 'ema' if use_ema else 'raw',
                   'g_statistics': reading, 'num_samples': int(config.eval.num_samples),
                   **{k: float(v) for k, v in results.items() if np.ndim(v) == 0}})
      print(json.dumps(rows[-1]), flush=True)
      if grid_path:
        panels.append(preview_panel(run, sample_fn, state))
  if grid_path:
    save_panels(panels, grid_path)
  return rows


def preview_panel(run, sample_fn, state, per_row: int = 8) -> np.ndarray:
  """Samples (rows, per_row, H, W, C) of noise seed 0: one row per class or code value
  (10 rows otherwise), the same noise in every panel."""
  rows = run.game.sample_classes or 10
  z = jax.random.normal(jax.random.PRNGKey(0), (rows * per_row, run.game.noise_dim))
  labels = np.repeat(np.arange(rows), per_row) if run.game.sample_classes else None
  samples = np.asarray(sample_fn(state, z, labels))
  return samples.reshape(rows, per_row, *samples.shape[1:])


def save_panels(panels: list, path: str) -> None:
  """The panels side by side in one PNG, a column of white cells between two panels."""
  rows, per_row, *shape = panels[0].shape
  white = np.ones((rows, 1, *shape), np.float32)
  cells = np.concatenate([p for panel in panels for p in (panel, white)][:-1], axis=1)
  writers.save_image_grid(cells.reshape(-1, *shape), path, ncols=cells.shape[1])


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  for spec in _RUNS.value:
    workdir, _, step = spec.partition('@')
    run = run_lib.load_run(workdir, int(step) if step else None)
    grid_path = None
    if _GRID_DIR.value:
      os.makedirs(_GRID_DIR.value, exist_ok=True)
      name = f'{os.path.basename(os.path.normpath(workdir))}_step{run.step}.png'
      grid_path = os.path.join(_GRID_DIR.value, name)
    rows = score_run(run, _SAMPLE_METRICS.value, _BATCHES.value, _DATA_PATH.value, grid_path)
    with open(_OUT.value, 'a', encoding='utf-8') as f:
      f.writelines(json.dumps(row) + '\n' for row in rows)


if __name__ == '__main__':
  app.run(main)
