"""The training loop: `train_and_evaluate(config, workdir)`.

Config in, files in the workdir out: `metrics.jsonl` and TensorBoard events, PNG
samples in `samples/`, orbax checkpoints in `checkpoints/`. A run restarted on the same
workdir resumes from its latest checkpoint and replays exactly what an uninterrupted
run would have done, because the step's randomness derives from (key, step) and the data
iterator's position is checkpointed with the model.
"""

import math
import os
import time

import jax
import numpy as np
import tqdm

from gan_jax import cache
from gan_jax import checkpoint as checkpoint_lib
from gan_jax import data
from gan_jax import evaluation
from gan_jax import parallel
from gan_jax import state as state_lib
from gan_jax import step as step_lib
from gan_jax import validation
from gan_jax import writers
from gan_jax.data import on_device

# Losses whose non-finite value stops a run.
_WATCHED = ('d_loss', 'g_loss')


class _MetricWindow:
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


def fixed_noise(config, num: int) -> jax.Array:
  """The noise behind every sample grid of a run: the same at every step and after resume."""
  key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 1)
  return jax.random.normal(key, (num, config.model.latent_dim))


def _reference_points(source, max_points: int = 2000) -> np.ndarray:
  """Real 2-D points drawn under the samples in scatter plots."""
  count = min(len(source), max_points)
  return np.stack([np.asarray(source[i]['x']) for i in range(count)])


def _divergence_error(step: int, name: str, value: float, checkpointer) -> FloatingPointError:
  last = checkpointer.latest_step()
  where = (f'the last good checkpoint is step {last} at {checkpointer.path(last)}'
           if last is not None else 'no checkpoint had been written yet')
  return FloatingPointError(
      f'Training diverged: {name} = {value} at step {step}; {where}. Lower the learning '
      f'rates, add a regulariser, or check the data for non-finite values.')


def train_and_evaluate(config, workdir: str):
  """Trains the GAN described by `config`, writing everything to `workdir`.

  Returns the final GANState (replicated over all devices).
  """
  validation.validate_config(config)
  if config.compilation_cache:
    cache.enable_compilation_cache()
  workdir = os.path.abspath(workdir)
  is_writer = jax.process_index() == 0
  mesh = parallel.make_mesh()
  parallel.check_batch_size(config.batch_size, mesh)

  source = data.make_source(config.data, config.seed)
  # Each step consumes n_critic batches: one per discriminator update.
  local_batch = config.batch_size * config.loss.n_critic // jax.process_count()
  pipeline = data.make_pipeline(source, config.data, local_batch, config.seed,
                                shard_index=jax.process_index(),
                                shard_count=jax.process_count())
  data_shape = tuple(int(d) for d in pipeline.element_shape)
  meta = {'data_shape': list(data_shape), 'num_classes': int(source.num_classes),
          'is_image': bool(source.is_image)}

  checkpointer = checkpoint_lib.Checkpointer(os.path.join(workdir, 'checkpoints'),
                                             keep=config.keep_checkpoints)
  start_step = checkpointer.latest_step()
  if start_step is None:
    start_step = 0
    state = state_lib.create_state(config, data_shape, mesh)
  else:
    state, data_state, _, saved_meta = checkpointer.restore(
        start_step, state_lib.abstract_state(config, data_shape, mesh))
    if list(saved_meta['data_shape']) != list(data_shape):
      raise ValueError(f'{checkpointer.path(start_step)} holds a model for data of shape '
                       f'{saved_meta["data_shape"]}, but the config gives {list(data_shape)}.')
    pipeline.set_state(data_state)

  train_step = step_lib.make_train_step(config, mesh, data_shape)
  steps_per_call = int(config.steps_per_call)
  multi_step = (step_lib.make_train_step(config, mesh, data_shape, steps_per_call)
                if steps_per_call > 1 else None)
  # With data.draw_on_device the step draws its own batches; the host pipeline idles.
  device_data = on_device.make_device_sampler(config.data) is not None
  sample = step_lib.make_sample_fn(config, data_shape)
  noise = jax.device_put(fixed_noise(config, config.num_grid_samples), parallel.replicated(mesh))
  is_points = not source.is_image
  real_points = _reference_points(source) if is_points and is_writer else None
  means = (data.mixture_means(config.data)
           if config.data.name in ('ring', 'grid') else None)

  def write_samples(step: int) -> None:
    samples = np.asarray(jax.device_get(sample(state, noise)))
    if not is_writer:
      return
    path = os.path.join(workdir, 'samples', f'step_{step:07d}.png')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if is_points:
      picture = writers.save_scatter_plot(path, samples, real=real_points, means=means)
    else:
      picture = writers.save_image_grid(samples, path)
    metric_writer.write_image(step, 'samples', picture)

  evaluator = evaluation.make_evaluator(config, source)
  best_checkpointer = best_key = best_value = None
  if evaluator is not None:
    best_key = evaluation.evaluator_lib.primary_key(config.eval)
    best_checkpointer = checkpoint_lib.Checkpointer(os.path.join(workdir, 'best'), keep=1)
    if best_checkpointer.latest_step() is not None:
      best_value = best_checkpointer.restore_metadata(best_checkpointer.latest_step())[1].get(
          'best_value')

  def evaluate(step: int) -> None:
    nonlocal best_value
    results, seconds = evaluator.evaluate(
        lambda num: evaluation.generate_samples(sample, state, num, config, mesh))
    metric_writer.write_scalars(step, {**{f'eval/{k}': v for k, v in results.items()},
                                       **{f'eval_seconds/{k}': v for k, v in seconds.items()}})
    tqdm.tqdm.write(f'step {step}: ' + ', '.join(f'{k}={v:.4g}' for k, v in results.items()))
    if evaluation.evaluator_lib.is_improvement(best_key, results[best_key], best_value):
      best_value = float(results[best_key])
      best_checkpointer.save(step, state, pipeline.get_state(), config,
                             dict(meta, best_key=best_key, best_value=best_value))

  num_steps = config.num_train_steps
  metric_writer = writers.MetricWriter(workdir, enabled=is_writer, resume_step=start_step)
  window = _MetricWindow()
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
          raise _divergence_error(last_step - count + 1 + i, name, float(step_values[name]),
                                  checkpointer)
      window.add(step_values)

  def events_after(step: int) -> set[str]:
    """What happens after `step`: a subset of {'log', 'sample', 'eval', 'save'}."""
    is_last = step == num_steps
    due = {
        'log': step % config.log_every_steps == 0,
        'sample': step % config.sample_every_steps == 0,
        'save': step % config.checkpoint_every_steps == 0,
        'eval': evaluator is not None and bool(config.eval.every_steps)
                and step % config.eval.every_steps == 0,
    }
    if is_last:  # The last step logs, draws, saves, and evaluates when there is an evaluator.
      due = {name: name != 'eval' or evaluator is not None for name in due}
    return {name for name, now in due.items() if now}

  def steps_in_next_call(step: int) -> int:
    """K when no event falls strictly inside the next K steps, else 1."""
    if multi_step is None or step + steps_per_call > num_steps:
      return 1
    inside = range(step + 1, step + steps_per_call)
    return 1 if any(events_after(s) for s in inside) else steps_per_call

  def next_batches(count: int):
    """The batches of the next `count` steps (None when the step draws its own data)."""
    if device_data:
      return None
    if count == 1:
      return parallel.global_batch(next(pipeline), mesh)
    local = [next(pipeline) for _ in range(count)]
    return parallel.global_batch({k: np.stack([b[k] for b in local]) for k in local[0]},
                                 mesh, stacked=True)

  try:
    # The metrics of call t are read after call t+1 is dispatched, so the host never
    # stalls the device; they are read at once before anything is written about step t.
    pending = None
    step = start_step
    while step < num_steps:
      count = steps_in_next_call(step)
      run = train_step if count == 1 else multi_step
      state, metrics = run(state, next_batches(count))
      step += count
      if pending is not None:
        record(*pending)
      pending = (step, metrics, count)
      progress.update(count)

      events = events_after(step)
      if events:
        record(*pending)
        pending = None
      if 'log' in events:
        scalars = window.flush()
        metric_writer.write_scalars(step, scalars)
        progress.set_postfix(d_loss=f'{scalars["d_loss"]:.3f}', g_loss=f'{scalars["g_loss"]:.3f}',
                             steps_s=f'{scalars["steps_per_sec"]:.1f}')
      if 'sample' in events:
        write_samples(step)
      if 'eval' in events:
        evaluate(step)
      if 'save' in events:
        checkpointer.save(step, state, pipeline.get_state(), config, meta)
  finally:
    pipeline.close()
    if best_checkpointer is not None:
      best_checkpointer.close()
    progress.close()
    metric_writer.close()
    checkpointer.close()
  return state
