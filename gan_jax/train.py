"""The training loop: `train_and_evaluate(config, workdir)`; `dry_run(config)` checks a
config without training.

Config in, files in the workdir out: `metrics.jsonl` and TensorBoard events, PNG
samples in `samples/`, orbax checkpoints in `checkpoints/`. A run restarted on the same
workdir resumes from its latest checkpoint and replays exactly what an uninterrupted
run would have done, because the step's randomness derives from (key, step) and the data
iterator's position is checkpointed with the model.
"""

import functools
import math
import os
import time

import jax
import numpy as np
import tqdm

from gan_jax.io import cache
from gan_jax.io import checkpoint as checkpoint_lib
from gan_jax.io import lock as lock_lib
from gan_jax import data
from gan_jax import evaluation
from gan_jax.core import events as events_lib
from gan_jax import games
from gan_jax import parallel
from gan_jax import run as run_lib
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.io import writers
from gan_jax.data import on_device
from gan_jax.io.preview import Preview

# Losses whose non-finite value stops a run.
_WATCHED = ('d_loss', 'g_loss')


class MetricWindow:
  """Host-side running means of the step metrics between two log points."""

  def __init__(self):
    self.sums, self.count, self.start_time = {}, 0, time.perf_counter()

  def add(self, metrics: dict) -> None:
    for name, value in metrics.items():
      self.sums[name] = self.sums.get(name, 0.0) + float(value)
    self.count += 1

  def flush(self) -> dict:
    """Means over the window, with steps/s; starts a new window."""
    elapsed = time.perf_counter() - self.start_time
    means = {name: total / max(self.count, 1) for name, total in self.sums.items()}
    means['steps_per_sec'] = self.count / elapsed if elapsed > 0 else float('nan')
    self.__init__()
    return means


def divergence_error(step: int, name: str, value: float, checkpointer) -> FloatingPointError:
  """The error that stops a run whose loss `name` is `value` (non-finite) at `step`."""
  last = checkpointer.latest_step()
  where = (f'the last good checkpoint is step {last} at {checkpointer.path(last)}'
           if last is not None else 'no checkpoint had been written yet')
  return FloatingPointError(
      f'Training diverged: {name} = {value} at step {step}; {where}. Lower the learning '
      f'rates, add a regulariser, or check the data for non-finite values.')


class BestCheckpoint:
  """Evaluates a state, logs the results, and keeps the best one in `workdir/best`."""

  def __init__(self, config, evaluator, generate, workdir: str, readout=None,
               translated: bool = False, translate_back=None):
    # readout(state, images) -> dict: the game's readout, for the metrics that need it;
    # translated: `generate` translates the reference set's sources (translation games);
    # translate_back(state, images): the way back of a two-way game (cycle metrics).
    self.evaluator, self.generate, self.readout = evaluator, generate, readout
    self.translated, self.translate_back = translated, translate_back
    self.key = evaluation.evaluator_lib.primary_key(config.eval)
    self.checkpointer = checkpoint_lib.Checkpointer(os.path.join(workdir, 'best'), keep=1)
    # A damaged best checkpoint is moved aside and the search for the best starts again.
    latest = self.checkpointer.newest_good_step(required=False)
    self.value = (None if latest is None
                  else self.checkpointer.restore_metadata(latest)[1].get('best_value'))

  def evaluate(self, step: int, state, save_best) -> dict:
    """Scores `state`; calls `save_best(checkpointer, meta_update)` when it beats the best."""
    readout = None if self.readout is None else functools.partial(self.readout, state)
    back = None if self.translate_back is None else functools.partial(self.translate_back, state)
    results, seconds = self.evaluator.evaluate(lambda num: self.generate(state, num), readout,
                                               self.translated, back)
    if evaluation.evaluator_lib.is_improvement(self.key, results[self.key], self.value):
      self.value = float(results[self.key])
      save_best(self.checkpointer, {'best_key': self.key, 'best_value': self.value})
    return {**{f'eval/{k}': v for k, v in results.items()},
            **{f'eval_seconds/{k}': v for k, v in seconds.items()}}

  def close(self) -> None:
    self.checkpointer.close()


class _Input:
  """The batches of the next call: from the host pipeline, or None when drawn on device."""

  def __init__(self, pipeline, mesh, on_device_data: bool):
    self.pipeline, self.mesh, self.on_device_data = pipeline, mesh, on_device_data

  def next(self, count: int):
    if self.on_device_data:
      return None
    if count == 1:
      return parallel.global_batch(next(self.pipeline), self.mesh)
    local = [next(self.pipeline) for _ in range(count)]
    return parallel.global_batch({k: np.stack([b[k] for b in local]) for k in local[0]},
                                 self.mesh, stacked=True)


def warm_start(config, state, data_shape: tuple, mesh, num_classes: int = 0):
  """`state` with the players the game names in `warm_start_players` (SRGAN's G) taken
  from the latest checkpoint of another run: their params, batch statistics and EMAs.

  Their optimizer states stay fresh (a new stage is a new optimisation). A player whose
  variables differ in structure or shape from that run's is a ValueError naming both.
  """
  game = games.make_game(config, data_shape, num_classes)
  workdir, players = game.warm_start_players()
  if not workdir:
    return state
  field = f'config.game.{config.game.name}.init_from={workdir!r}'
  try:
    source = run_lib.load_run(workdir)
  except (FileNotFoundError, ValueError) as error:
    raise ValueError(f'{field}: cannot load the run to start from: {error}') from error
  replicated = parallel.replicated(mesh)
  params, stats, ema = dict(state.params), dict(state.batch_stats), dict(state.ema)
  for player in players:
    if player not in source.state.params:
      raise ValueError(f'{field}: that run has no player {player!r} (it has '
                       f'{", ".join(sorted(source.state.params))}).')
    mine = (state.params[player], state.batch_stats[player])
    theirs = (source.state.params[player], source.state.batch_stats[player])
    if (jax.tree.structure(mine) != jax.tree.structure(theirs)
        or [x.shape for x in jax.tree.leaves(mine)] != [x.shape for x in jax.tree.leaves(theirs)]):
      raise ValueError(f'{field}: its player {player!r} does not fit this config\'s (was '
                       'model.name, model.g_features or model.sr_blocks changed?).')
    params[player] = jax.device_put(theirs[0], replicated)
    stats[player] = jax.device_put(theirs[1], replicated)
    if player in ema:
      ema[player] = jax.device_put(source.state.ema.get(player, theirs[0]), replicated)
  return state.replace(params=params, batch_stats=stats, ema=ema)


# Folded into the state's key for the data-dependent initialisation: the step keys are
# fold_in(key, step) with step < 2**31 - 1, so this stream is never a step's.
DATA_INIT_STREAM = 2**31 - 1


def peek_first_batch(pipeline) -> dict:
  """The pipeline's next (local) batch, the pipeline rewound so that it serves it again."""
  position = pipeline.get_state()
  batch = next(pipeline)
  pipeline.set_state(position)
  return batch


def init_from_data(config, state, pipeline, data_shape: tuple, mesh, num_classes: int = 0):
  """A fresh `state` after the game's data-dependent initialisation (`Game.init_from_data`)
  on the pipeline's first batch, the pipeline rewound so that the first step reads that
  batch again; `state` itself for games without one. Every process reads its part of the
  same global batch, so all of them compute the same initialisation."""
  game = games.make_game(config, data_shape, num_classes)
  if not game.initialises_from_data:
    return state
  if on_device.make_device_sampler(config.data) is not None:
    raise ValueError(f'config.game.name={config.game.name!r} initialises from the first batch, '
                     'which config.data.draw_on_device=True does not read on the host.')
  batch = parallel.global_batch(peek_first_batch(pipeline), mesh)
  key = jax.random.fold_in(state.key, DATA_INIT_STREAM)
  initialise = jax.jit(game.init_from_data, out_shardings=parallel.replicated(mesh))
  return initialise(state, batch, key)


def make_calibration(config, game, pipeline, mesh):
  """`calibrate(state) -> state`: the game's `calibrate` on the next
  `game.calibration_batches` batches the pipeline would serve, the pipeline then rewound,
  so that training reads what it would have read (and a resumed run calibrates on the
  same batches); the identity for games that calibrate nothing."""
  count = game.calibration_batches
  if not count:
    return lambda state: state
  if on_device.make_device_sampler(config.data) is not None:
    raise ValueError(f'config.game.name={config.game.name!r} recomputes BatchNorm statistics '
                     'on real batches from the host pipeline, which config.data.draw_on_device'
                     '=True does not use; set draw_on_device=False or the game\'s calibration '
                     '(config.game.infogan.precise_bn_batches) to 0.')
  calibrate = jax.jit(game.calibrate, out_shardings=parallel.replicated(mesh))

  def run(state):
    position = pipeline.get_state()
    batches = [parallel.global_batch(next(pipeline), mesh) for _ in range(count)]
    pipeline.set_state(position)
    return calibrate(state, batches)

  return run


def _restore_or_create(config, checkpointer, data_shape, mesh, num_classes, pipeline):
  """(state, start step): from the newest intact checkpoint (the pipeline moved to its
  position), else a new state, warm-started from another run when the game names one.

  Damaged checkpoints newer than it are reported and moved aside; when all are damaged
  the run stops (checkpoint.DamagedCheckpointError) rather than start afresh over them.
  """
  start_step = checkpointer.newest_good_step()
  if start_step is None:
    state = state_lib.create_state(config, data_shape, mesh, num_classes)
    state = init_from_data(config, state, pipeline, data_shape, mesh, num_classes)
    return warm_start(config, state, data_shape, mesh, num_classes), 0
  state, data_state, _, saved_meta = checkpointer.restore(
      start_step, state_lib.abstract_state(config, data_shape, mesh, num_classes))
  if list(saved_meta['data_shape']) != list(data_shape):
    raise ValueError(f'{checkpointer.path(start_step)} holds a model for data of shape '
                     f'{saved_meta["data_shape"]}, but the config gives {list(data_shape)}.')
  pipeline.set_state(data_state)
  return state, start_step


def _open_data(config):
  """(mesh, source, num_classes, pipeline, data_shape) of a run: this process's devices,
  the config's data source and this process's training pipeline over it."""
  mesh = parallel.make_mesh()
  parallel.check_batch_size(config.batch_size, mesh)
  source = data.make_source(config.data, config.seed)
  num_classes = int(source.num_classes)
  validation.check_game(config, num_classes)
  # Each step consumes n_critic batches: one per discriminator update.
  local_batch = config.batch_size * config.loss.n_critic // jax.process_count()
  # With data.num_labeled a labelled stream travels beside the unlabelled one.
  # With data.domain_b a second domain's stream travels beside the first (cyclegan).
  make_pipeline = (data.make_semi_supervised_pipeline if config.data.num_labeled
                   else data.make_unpaired_pipeline if config.data.domain_b
                   else data.make_pipeline)
  pipeline = make_pipeline(source, config.data, local_batch, config.seed,
                           shard_index=jax.process_index(),
                           shard_count=jax.process_count())
  data_shape = tuple(int(d) for d in pipeline.element_shape)
  return mesh, source, num_classes, pipeline, data_shape


def dry_run(config) -> dict:
  """Checks that `config` would train, in seconds rather than minutes; no workdir is touched.

  Validates it, opens its data and reads one batch, builds the evaluator and reads its
  reference set, and traces and lowers, without compiling, the state's
  initialisation, the game's data-dependent one, the training step (and its K-steps
  form) on that batch, and the sampler. What it cannot catch is what only compiling or
  running the programs shows. Returns {'data_shape', 'num_classes', 'batch'}, the last
  the shapes of one step's global batch (None when drawn on device).
  """
  validation.validate_config(config)
  mesh, source, num_classes, pipeline, data_shape = _open_data(config)
  try:
    state = state_lib.abstract_state(config, data_shape, mesh, num_classes)
    game = games.make_game(config, data_shape, num_classes)
    on_device_data = on_device.make_device_sampler(config.data) is not None
    inputs = _Input(pipeline, mesh, on_device_data)
    batch = inputs.next(1)
    if game.initialises_from_data and not on_device_data:
      jax.jit(game.init_from_data).lower(state, batch, state.key)
    for count in sorted({1, config.steps_per_call}):
      step = step_lib.make_train_step(config, mesh, data_shape, count, num_classes)
      step.lower(state, batch if count == 1 else inputs.next(count))
    z = jax.ShapeDtypeStruct((config.num_grid_samples, game.noise_dim), np.float32)
    labels = (jax.ShapeDtypeStruct((config.num_grid_samples,), np.int32)
              if game.sample_classes else None)
    if not game.translations:
      step_lib.make_sample_fn(config, data_shape, num_classes=num_classes).lower(
          state, z, labels)
    evaluator = evaluation.make_evaluator(config, source)
    if evaluator is not None:
      evaluator.real_examples()  # The reference split is read on first use.
  finally:
    pipeline.close()
  return {'data_shape': data_shape, 'num_classes': num_classes,
          'batch': None if batch is None else jax.tree.map(lambda a: a.shape, batch)}


def train_and_evaluate(config, workdir: str):
  """Trains the game described by `config`, writing everything to `workdir`.

  Returns the final GameState (replicated over all devices). A second run on the same
  workdir is refused (lock.WorkdirBusyError) before it reads or writes anything there.
  """
  validation.validate_config(config)
  workdir = os.path.abspath(workdir)
  with lock_lib.workdir_lock(workdir, enabled=jax.process_index() == 0):
    return _train_and_evaluate(config, workdir)


def _train_and_evaluate(config, workdir: str):
  """`train_and_evaluate` once the workdir is this run's."""
  if config.compilation_cache:
    cache.enable_compilation_cache()
  is_writer = jax.process_index() == 0
  mesh, source, num_classes, pipeline, data_shape = _open_data(config)
  meta = {'data_shape': list(data_shape), 'num_classes': num_classes,
          'is_image': bool(source.is_image), 'state_format': state_lib.STATE_FORMAT}
  checkpointer = checkpoint_lib.Checkpointer(os.path.join(workdir, 'checkpoints'),
                                             keep=config.keep_checkpoints)
  state, start_step = _restore_or_create(config, checkpointer, data_shape, mesh, num_classes,
                                         pipeline)

  steps = {1: step_lib.make_train_step(config, mesh, data_shape, num_classes=num_classes)}
  if config.steps_per_call > 1:
    steps[config.steps_per_call] = step_lib.make_train_step(
        config, mesh, data_shape, config.steps_per_call, num_classes)
  # With data.draw_on_device the step draws its own batches; the host pipeline idles.
  inputs = _Input(pipeline, mesh, on_device.make_device_sampler(config.data) is not None)
  game = games.make_game(config, data_shape, num_classes)
  sample_fn = step_lib.make_sample_fn(config, data_shape, num_classes=num_classes)
  calibrate = make_calibration(config, game, pipeline, mesh)
  evaluator = evaluation.make_evaluator(config, source)
  preview = Preview(config, game, sample_fn, source, mesh, workdir, enabled=is_writer,
                    pairs=evaluation.preview_pairs(config, source, evaluator)
                    if game.translations else None)
  best = None
  if evaluator is not None:
    best = BestCheckpoint(
        config, evaluator, workdir=workdir,
        generate=evaluation.make_generate(game, sample_fn, config, evaluator, mesh),
        readout=evaluation.make_readout(game) if game.readouts else None,
        translated=bool(game.translations),
        translate_back=evaluation.make_translate_back(game, config))

  num_steps = config.num_train_steps
  metric_writer = writers.MetricWriter(workdir, enabled=is_writer, resume_step=start_step)
  window = MetricWindow()
  progress = tqdm.tqdm(total=num_steps, initial=start_step, disable=not is_writer,
                       desc='train', dynamic_ncols=True)

  def record(last_step: int, metrics, count: int) -> None:
    """Checks and accumulates the metrics of the `count` steps that ended at `last_step`."""
    values = jax.device_get(metrics)
    for i in range(count):
      step_values = values if count == 1 else {k: v[i] for k, v in values.items()}
      for name in _WATCHED:
        if not math.isfinite(float(step_values[name])):
          checkpointer.wait()
          raise divergence_error(last_step - count + 1 + i, name, float(step_values[name]),
                                 checkpointer)
      window.add(step_values)

  try:
    # The metrics of call t are read after call t+1 is dispatched, so the host never
    # stalls the device; they are read at once before anything is written about step t.
    pending = None
    step = start_step
    while step < num_steps:
      count = events_lib.steps_in_next_call(step, config, evaluator is not None)
      state, metrics = steps[count](state, inputs.next(count))
      step += count
      if pending is not None:
        record(*pending)
      pending = (step, metrics, count)
      progress.update(count)

      events = events_lib.events_after(step, config, evaluator is not None)
      if events:
        record(*pending)
        pending = None
      if 'log' in events:
        scalars = window.flush()
        metric_writer.write_scalars(step, scalars)
        progress.set_postfix(d_loss=f'{scalars["d_loss"]:.3f}', g_loss=f'{scalars["g_loss"]:.3f}',
                             steps_s=f'{scalars["steps_per_sec"]:.1f}')
      if 'eval' in events or 'save' in events:
        # What eval mode reads (InfoGAN's D statistics), recomputed for these weights; the
        # checkpoint and the evaluation then see the same state.
        state = calibrate(state)
      if 'sample' in events:
        picture = preview.write(state, step)
        if picture is not None:
          metric_writer.write_image(step, 'samples', picture)
      if 'eval' in events:
        scalars = best.evaluate(step, state, lambda ckpt, extra: ckpt.save(
            step, state, pipeline.get_state(), config, dict(meta, **extra)))
        metric_writer.write_scalars(step, scalars)
        tqdm.tqdm.write(f'step {step}: ' + ', '.join(
            f'{k[5:]}={v:.4g}' for k, v in scalars.items() if k.startswith('eval/')))
      if 'save' in events:
        checkpointer.save(step, state, pipeline.get_state(), config, meta)
  finally:
    pipeline.close()
    if best is not None:
      best.close()
    progress.close()
    metric_writer.close()
    checkpointer.close()
  return state
