"""Step speed of an experiment: compile time, then steps/s and examples/s, printed as JSON.

  python benchmarks/step_speed.py --config=experiments/digits_dcgan_unconditional.py [--seconds=20]

Beside the step, the input pipeline's own speed: `loader_batches_per_sec` is how many
of the step's batches (`batch_size * n_critic` examples each, read, preprocessed and
put on the devices as `gan_jax.train` does) the host produces per second on its own,
timed for `--loader_seconds`. A pipeline slower than the step starves it. It is null,
with `loader_note` saying why, where there is no host pipeline (data drawn on device)
or its data cannot be read here (a TFDS dataset that is not prepared).

`matmul_peak_gflops` is the device's own reference: a large square matmul in the
step's compute dtype (`config.model.compute_dtype`; 2048 on a CPU, 8192 on an
accelerator) timed here, and `fraction_of_matmul_peak` is the step's useful
GFLOP/s (XLA's count) over it. XLA's count is trustworthy on a CPU only: on a GPU it
leaves out the work of the cuBLAS/cuDNN kernels it calls (cifar10_dcgan at batch 256 on an
H200: 18.9 GFLOP a step, against the 107.9 GFLOP its matrix products alone do). The
`counted_*` fields count the step's products and convolutions from its jaxpr instead
(`matmul_floor.counted_flops`, equal to XLA's CPU count for convolutions and their
gradients), the same on every backend: on a GPU, `counted_fraction_of_matmul_peak` is the
share to read.

With `--config.steps_per_call=K`, each call runs K steps (`lax.scan`); fresh-sample 2-D
mixtures with `data.draw_on_device` draw their data inside the step. The step is timed on device-resident batches of the experiment's data shape, so the
figure is the compiled training step itself (data loading is measured separately, and
TFDS datasets need not be prepared to benchmark their models). Any config field can be
overridden as in `gan_jax.main`.
"""

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app
from absl import flags
from ml_collections import config_flags

from gan_jax import data
from gan_jax import games
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.data import on_device
from gan_jax.data import throughput

# A sibling file: benchmarks/ is sys.path[0] when this runs as a script, and when
# compare_torch.py (a script in the same folder) loads it.
import matmul_floor  # pylint: disable=g-bad-import-order

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.')
_SECONDS = flags.DEFINE_float('seconds', 20.0, 'Length of the timed window.')
_WARMUP = flags.DEFINE_integer('warmup_steps', 5, 'Steps run after compiling, before timing.')
_PEAK_SECONDS = flags.DEFINE_float(
    'peak_seconds', 2.0, 'Length of the reference matmul\'s timed window (0 = skip it).')
_LOADER_SECONDS = flags.DEFINE_float(
    'loader_seconds', 5.0, 'Length of the input pipeline\'s timed window (0 = skip it).')
flags.mark_flags_as_required(['config'])


def data_shape_of(config) -> tuple:
  """Shape of one example after preprocessing, without needing a TFDS dataset's files."""
  if config.data.name == 'tfds':
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    shape = tuple(tfds.builder(config.data.tfds_name).info.features['image'].shape)
    if config.data.image_size:
      shape = (config.data.image_size, config.data.image_size, shape[-1])
    return shape
  source = data.make_source(config.data, config.seed)
  pipeline = data.make_pipeline(source, config.data, 2, config.seed)
  return tuple(int(d) for d in pipeline.element_shape)


def num_classes_of(config) -> int:
  """The data's number of classes (0 when unlabelled), without a TFDS dataset's files."""
  if config.data.name == 'tfds':
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    features = tfds.builder(config.data.tfds_name).info.features
    label = features['label'] if 'label' in features else None
    return int(getattr(label, 'num_classes', 0) or 0)
  return int(data.make_source(config.data, config.seed).num_classes)


def synthetic_batch(game, rows: int, lead: tuple, num_classes: int,
                    rng: np.random.Generator) -> dict:
  """A batch of the structure `game` reads, random values of its shapes: {'x', 'y'}; with
  'src' for paired games (pix2pix, srgan), {'a', 'b', 'y_a', 'y_b'} for unpaired ones
  (cyclegan), and 'x_lab', 'y_lab' for the labelled stream of semi-supervised games."""
  def images(shape):
    return rng.uniform(-1, 1, (*lead, rows, *shape)).astype(np.float32)

  def labels():
    return rng.integers(0, max(num_classes, 1), (*lead, rows)).astype(np.int32)

  if game.reads_unpaired:
    return {'a': images(game.data_shape), 'b': images(game.b_shape), 'y_a': labels(),
            'y_b': labels()}
  batch = {'x': images(game.data_shape), 'y': labels()}
  if game.reads_pairs:
    batch['src'] = images(game.src_shape)
  if game.reads_labeled_stream:
    batch['x_lab'], batch['y_lab'] = images(game.data_shape), labels()
  return batch


def _flops_per_step(config, mesh, shape, state, batch, compiled, per_call: int,
                    num_classes: int) -> float:
  """XLA's cost analysis of ONE step (it counts a scan's body once, not per iteration).

  `compiled` is the timed program; with K > 1 steps per call a single step is compiled
  once more, only for its cost.
  """
  if per_call > 1:
    batch = None if batch is None else jax.tree.map(lambda x: x[0], batch)
    compiled = step_lib.make_train_step(config, mesh, shape, num_classes=num_classes).lower(
        state, batch).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost.get('flops', float('nan'))) if cost else float('nan')


def matmul_peak_gflops(dtype, seconds: float) -> float:
  """GFLOP/s of a large square matmul on the default device: its practical peak.

  Ten chained products run in one program, so dispatch does not count.
  """
  n = 2048 if jax.devices()[0].platform == 'cpu' else 8192
  chain = 10

  @jax.jit
  def products(a, b):
    # Rescaling keeps the values finite across the chain; it is O(n^2) beside O(n^3).
    return jax.lax.fori_loop(0, chain, lambda _, x: (x @ b) * (1.0 / n), a)

  key_a, key_b = jax.random.split(jax.random.key(0))
  a = jax.random.normal(key_a, (n, n), dtype)
  b = jax.random.normal(key_b, (n, n), dtype)
  jax.block_until_ready(products(a, b))
  calls, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    a = products(a, b)
    calls += 1
  jax.block_until_ready(a)
  return 2.0 * n ** 3 * chain * calls / (time.perf_counter() - start) / 1e9


def main(argv):
  del argv
  config = _CONFIG.value
  mesh = parallel.make_mesh()
  shape = data_shape_of(config)
  num_classes = num_classes_of(config)
  rng = np.random.default_rng(0)
  rows = config.batch_size * config.loss.n_critic
  per_call = int(config.steps_per_call)
  lead = (per_call,) if per_call > 1 else ()
  if on_device.make_device_sampler(config.data) is not None:
    batch = None  # The step draws its own data (fresh-sample 2-D mixtures).
  else:
    game = games.make_game(config, shape, num_classes)
    batch = parallel.global_batch(synthetic_batch(game, rows, lead, num_classes, rng), mesh,
                                  stacked=per_call > 1)
  state = state_lib.create_state(config, shape, mesh, num_classes)
  train_step = step_lib.make_train_step(config, mesh, shape, per_call, num_classes)

  start = time.perf_counter()
  compiled = train_step.lower(state, batch).compile()
  compile_s = time.perf_counter() - start
  flops_per_step = _flops_per_step(config, mesh, shape, state, batch, compiled, per_call,
                                   num_classes)

  counted_flops_per_step = matmul_floor.counted_flops(train_step, state, batch) / per_call

  for _ in range(_WARMUP.value):
    state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)

  steps, start = 0, time.perf_counter()
  while time.perf_counter() - start < _SECONDS.value:
    # A few steps per check, so reading the clock does not dominate tiny models.
    for _ in range(10):
      state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    steps += 10 * per_call
  elapsed = time.perf_counter() - start
  gflops_per_sec = flops_per_step * steps / elapsed / 1e9
  peak = (matmul_peak_gflops(jnp.dtype(config.model.compute_dtype), _PEAK_SECONDS.value)
          if _PEAK_SECONDS.value > 0 else float('nan'))
  loader = ({'loader_note': 'skipped (--loader_seconds=0)'} if _LOADER_SECONDS.value <= 0
            else throughput.loader_speed(config, mesh, _LOADER_SECONDS.value))

  print(json.dumps({
      'config': config.data.tfds_name or config.data.name, 'model': config.model.name,
      'game': config.game.name,
      'data_shape': list(shape), 'batch_size': config.batch_size,
      'n_critic': config.loss.n_critic, 'steps_per_call': per_call,
      'devices': jax.device_count(),
      'platform': jax.devices()[0].platform, 'compile_s': round(compile_s, 3),
      'steps': steps, 'steps_per_sec': round(steps / elapsed, 2),
      'examples_per_sec': round(steps * rows / elapsed, 1),
      'flops_per_step': flops_per_step,
      'gflops_per_sec': round(gflops_per_sec, 2),
      'compute_dtype': config.model.compute_dtype,
      'matmul_peak_gflops': round(peak, 1),
      'fraction_of_matmul_peak': round(gflops_per_sec / peak, 3),
      'counted_flops_per_step': counted_flops_per_step,
      'counted_gflops_per_sec': round(counted_flops_per_step * steps / elapsed / 1e9, 2),
      'counted_fraction_of_matmul_peak': round(
          counted_flops_per_step * steps / elapsed / 1e9 / peak, 3),
      **loader,
  }))


if __name__ == '__main__':
  app.run(main)
