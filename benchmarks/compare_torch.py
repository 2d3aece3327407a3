"""gan_jax's compiled train step against the same GAN in eager PyTorch, on CPU or GPU.

  python benchmarks/compare_torch.py --config=experiments/mnist_dcgan.py \\
      [--config.batch_size=64] [--rounds=5] [--seconds=5]
  python benchmarks/compare_torch.py --config=experiments/mixture_study.py:ring,gan
  python benchmarks/compare_torch.py --config=experiments/cifar10_sngan.py

Both steps are built from the config (the torch one by the port that `PORTS` names for
`config.model.name`: `benchmarks/torch_dcgan.py`, `benchmarks/torch_mlp.py` or
`benchmarks/torch_resnet.py`, whose parameter counts are asserted equal to gan_jax's),
compiled or warmed up, then timed in alternating windows of `--seconds` each (gan_jax,
torch, gan_jax, ...) for `--rounds` rounds, so that drift in the machine's load reaches
both alike. Prints one JSON line with the medians over windows and the ratio gan_jax /
torch, then a Markdown table (header and row). Both train on the same synthetic batch
of the config's data shape, resident in memory, as `benchmarks/step_speed.py` does: TFDS
datasets need not be prepared, and data loading is not timed. For the same reason
`config.data.draw_on_device` is turned off here: a 2-D mixture config that draws its
points inside the step (as `experiments/mixture_study.py` does) would otherwise time
gan_jax's sampling too and ignore the batch torch is timed on. Each gan_jax call is one
step, whatever `config.steps_per_call` says, as each torch call is. `--config`,
`--seconds` and `--warmup_steps` are step_speed's flags; any config field can be
overridden. Requires the `bench` extra (CPU torch).

After the windows, the gan_jax step's matrix products are timed alone
(`benchmarks/matmul_floor.py`), in XLA and in torch: `matmul_floor.ratio_ceiling`, torch's
step time over the time XLA needs for those products alone, is the largest ratio any
gan_jax step built on XLA's kernels could reach on this machine (exactly so when
`matmul_floor.convolutions` is 0, as for every gan_jax model).

On a GPU machine (JAX on the GPU, and a CUDA build of torch installed by hand) torch runs
on `cuda` too, unless `--torch_device` says otherwise, and each timed chunk ends with
`torch.cuda.synchronize()`. `--config.model.compute_dtype=bfloat16` compares gan_jax's
mixed precision with torch's bf16 autocast (see `torch_dcgan.TorchGANStep`).
"""

import importlib.util
import json
import os
import pathlib
import platform
import statistics
import time

import jax
import numpy as np
import torch
from absl import app
from absl import flags
from ml_collections import config_flags

from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib

_BENCHMARKS = pathlib.Path(__file__).resolve().parent


def _load(name: str):
  """Imports benchmarks/<name>.py (the folder is not a package)."""
  spec = importlib.util.spec_from_file_location(name, _BENCHMARKS / f'{name}.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


# step_speed defines --config, --seconds and --warmup_steps; reusing them (and its
# data_shape_of) keeps the two benchmarks' gan_jax measurement the same.
step_speed = _load('step_speed')
matmul_floor = _load('matmul_floor')
torch_dcgan = _load('torch_dcgan')
# config.model.name -> the module that ports that family to torch (see torch_dcgan.py).
PORTS = {'dcgan': torch_dcgan, 'mlp': _load('torch_mlp'), 'resnet': _load('torch_resnet')}

FLAGS = flags.FLAGS
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Timed windows per framework, alternating.')
_TORCH_THREADS = flags.DEFINE_integer(
    'torch_threads', 0, "torch's intra-op threads; 0 = os.cpu_count(), as JAX's CPU backend uses.")
_TORCH_DEVICE = flags.DEFINE_string(
    'torch_device', '', "torch's device, e.g. cpu or cuda; '' = cuda where JAX runs on a "
    'GPU, else cpu.')
_FLOOR_SECONDS = flags.DEFINE_float(
    'floor_seconds', 2.0, "Time spent timing the step's matrix products alone, per framework "
    '(5 windows; at least one call each).')
# Windows of step_speed's 20 s default would make 5 alternating rounds take 200 s.
FLAGS.set_default('seconds', 5.0)

# Each timed chunk aims at about this long, so the clock is read rarely for fast steps
# (and JAX can queue several steps) while slow steps do not overshoot the window much.
_CHUNK_SECONDS = 0.25
_MAX_CHUNK = 10  # step_speed's steps per clock check.


def _gan_jax_runner(config, shape: tuple, x: np.ndarray):
  """gan_jax's compiled step on `x`: `run(k)` does k steps and waits for them.

  Returns (run, compile seconds, the step's matrix products, its convolution count).
  """
  mesh = parallel.make_mesh()
  batch = parallel.global_batch({'x': x, 'y': np.zeros((x.shape[0],), np.int32)}, mesh)
  state = state_lib.create_state(config, shape, mesh)
  # steps_per_call is left at its default of 1: one step per call, as torch's.
  train_step = step_lib.make_train_step(config, mesh, shape)
  products = matmul_floor.step_products(train_step, state, batch)
  convolutions = matmul_floor.count_convolutions(train_step, state, batch)
  start = time.perf_counter()
  compiled = train_step.lower(state, batch).compile()
  compile_s = time.perf_counter() - start
  holder = {'state': state}  # The step donates the state, so each call replaces it.

  def run(steps: int) -> None:
    for _ in range(steps):
      holder['state'], metrics = compiled(holder['state'], batch)
    jax.block_until_ready(metrics)

  return run, compile_s, products, convolutions


def _torch_device() -> torch.device:
  """`--torch_device`, or cuda where JAX runs on a GPU and cpu elsewhere."""
  name = _TORCH_DEVICE.value or ('cuda' if jax.devices()[0].platform == 'gpu' else 'cpu')
  if name.startswith('cuda') and not torch.cuda.is_available():
    raise ValueError(f'--torch_device={name!r} (JAX runs on {jax.devices()[0].platform}), '
                     'but this torch has no CUDA: install a CUDA build of torch to compare '
                     'on the GPU, or pass --torch_device=cpu.')
  return torch.device(name)


def _torch_runner(config, port, shape: tuple, x: np.ndarray, device: torch.device):
  """The eager torch step of `port` on `x` (in the port's layout): `run(k)` does k steps.

  Returns (run, step).
  """
  torch.manual_seed(int(config.seed))
  generator, discriminator = port.make_models(config, shape)
  step = torch_dcgan.TorchGANStep(config, generator.to(device), discriminator.to(device))
  data = port.to_torch(x).to(device)

  def run(steps: int) -> None:
    for _ in range(steps):
      step(data)
    # Eager CPU ops finish before they return; CUDA kernels are queued, so wait for them.
    if device.type == 'cuda':
      torch.cuda.synchronize(device)

  return run, step


def _chunk_size(run) -> int:
  """Steps per clock check: about _CHUNK_SECONDS of work, from one timed step."""
  start = time.perf_counter()
  run(1)
  seconds = time.perf_counter() - start
  return int(np.clip(round(_CHUNK_SECONDS / max(seconds, 1e-9)), 1, _MAX_CHUNK))


def _window(run, chunk: int, seconds: float) -> float:
  """Steps per second over one window of at least `seconds`."""
  steps, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    run(chunk)
    steps += chunk
  return steps / (time.perf_counter() - start)


def _matmul_floor(products, convolutions: int, torch_steps_per_sec: float,
                  device: torch.device) -> dict:
  """The gan_jax step's matrix products timed alone (see matmul_floor.py), in XLA and torch.

  `ratio_ceiling` is torch's step time over the products' time in XLA: the most any
  gan_jax step built on XLA's kernels could beat torch by. It is an upper bound only
  where the step has no convolutions (they are not in the floor), hence the count. It is
  None, with the `error`, where the device ran out of memory timing the products.
  """
  seconds = _FLOOR_SECONDS.value
  try:
    xla_ms = matmul_floor.xla_products_milliseconds(products, seconds)
    torch_ms = matmul_floor.torch_products_milliseconds(products, seconds, str(device))
  except RuntimeError as error:  # Out of device memory: XLA's and torch's errors are both.
    # The comparison above is measured and stays; only the bound is missing.
    return {'products': len(products), 'convolutions': convolutions, 'ratio_ceiling': None,
            'error': f'{type(error).__name__}: {str(error)[:300]}'}
  return {'products': len(products),
          'gflop': round(sum(p.flops for p in products) / 1e9, 4),
          'convolutions': convolutions,
          'xla_products_ms': round(xla_ms, 3), 'torch_products_ms': round(torch_ms, 3),
          'ratio_ceiling': round(1e3 / torch_steps_per_sec / xla_ms, 3)}


def _times(ratio: float | None) -> str:
  """'5.68x', or '-' where the floor could not be measured."""
  return '-' if ratio is None else f'{ratio:.2f}x'


def _cpu_model() -> str:
  """The CPU's model name from /proc/cpuinfo ('' where there is none, e.g. macOS)."""
  try:
    with open('/proc/cpuinfo', encoding='utf-8') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return ''


def _port_of(config):
  """The torch port of `config.model.name`; a ValueError listing the known ones."""
  if config.model.name not in PORTS:
    raise ValueError(f'config.model.name={config.model.name!r} has no torch port; known: '
                     f'{", ".join(sorted(PORTS))}.')
  return PORTS[config.model.name]


def _config_name(filename: str) -> str:
  """'experiments/mixture_study.py:ring,gan' -> 'mixture_study:ring,gan' (the file's stem)."""
  path, colon, argument = filename.partition(':')
  return pathlib.Path(path).stem + colon + argument


def main(argv):
  del argv
  config = FLAGS.config
  port = _port_of(config)
  port.check_supported(config)
  # Both frameworks train on the one resident batch below (see the module docstring).
  config.data.draw_on_device = False
  # By default all cores for torch too, as JAX's CPU backend uses them all. With other
  # work on the machine fewer can be faster: torch's OpenMP threads wait for each other.
  torch.set_num_threads(_TORCH_THREADS.value or os.cpu_count())
  shape = tuple(int(d) for d in step_speed.data_shape_of(config))
  # An AssertionError, before anything is timed, unless the two models match in size.
  jax_counts, _ = torch_dcgan.param_counts_match(config, shape, port.make_models)

  rows = int(config.batch_size) * int(config.loss.n_critic)
  # One synthetic batch in [-1, 1], the same for both (step_speed's recipe).
  x = np.random.default_rng(0).uniform(-1, 1, (rows, *shape)).astype(np.float32)
  run_jax, compile_s, products, convolutions = _gan_jax_runner(config, shape, x)
  device = _torch_device()
  run_torch, _ = _torch_runner(config, port, shape, x, device)

  warmup = FLAGS.warmup_steps
  run_jax(warmup)
  run_torch(warmup)
  chunks = {'gan_jax': _chunk_size(run_jax), 'torch': _chunk_size(run_torch)}
  runs = {'gan_jax': run_jax, 'torch': run_torch}
  windows = {'gan_jax': [], 'torch': []}
  for _ in range(_ROUNDS.value):
    for name in ('gan_jax', 'torch'):
      windows[name].append(_window(runs[name], chunks[name], FLAGS.seconds))

  medians = {name: statistics.median(rates) for name, rates in windows.items()}
  ratio = medians['gan_jax'] / medians['torch']
  # The windows first, on their own line: the floor below can take minutes for a big step
  # (SNGAN's 1,123 products), and a run cut short there would otherwise lose them.
  print(json.dumps({'windows_steps_per_sec': windows, 'median_steps_per_sec': medians,
                    'ratio': round(ratio, 3)}), flush=True)
  floor = _matmul_floor(products, convolutions, medians['torch'], device)
  config_name = _config_name(config_flags.get_config_filename(FLAGS['config']))
  machine = {'processor': platform.processor(), 'cpu_model': _cpu_model(),
             'cpu_count': os.cpu_count(), 'jax_device': jax.devices()[0].device_kind,
             'torch_device': (torch.cuda.get_device_name(device) if device.type == 'cuda'
                              else device.type)}
  row = (f"| `{config_name}` | {'x'.join(map(str, shape))} | {config.batch_size} "
         f"| {medians['gan_jax']:.2f} | {medians['torch']:.2f} "
         f"| {medians['gan_jax'] * rows:,.0f} | {medians['torch'] * rows:,.0f} "
         f"| {ratio:.2f}x | {_times(floor['ratio_ceiling'])} |")
  print(json.dumps({
      'config': config_name, 'model': config.model.name,
      'latent_dim': config.model.latent_dim, 'pack': config.stabilize.pack,
      'data_shape': list(shape), 'batch_size': config.batch_size,
      'n_critic': config.loss.n_critic, 'compute_dtype': config.model.compute_dtype,
      'ema': config.optim.ema_decay > 0,
      # Asserted equal for the two frameworks.
      'params': {'generator': jax_counts['generator'],
                 'discriminator': jax_counts['discriminator']},
      'rounds': _ROUNDS.value, 'seconds': FLAGS.seconds,
      'gan_jax_steps_per_sec': round(medians['gan_jax'], 3),
      'torch_steps_per_sec': round(medians['torch'], 3),
      'gan_jax_examples_per_sec': round(medians['gan_jax'] * rows, 1),
      'torch_examples_per_sec': round(medians['torch'] * rows, 1),
      'ratio_gan_jax_over_torch': round(ratio, 3),
      'gan_jax_windows': [round(r, 3) for r in windows['gan_jax']],
      'torch_windows': [round(r, 3) for r in windows['torch']],
      'gan_jax_compile_s': round(compile_s, 2),
      'matmul_floor': floor,
      'torch_threads': torch.get_num_threads(), 'torch_version': torch.__version__,
      'jax_version': jax.__version__, 'jax_platform': jax.devices()[0].platform,
      'machine': machine, 'markdown_row': row,
  }))
  print('| config | data | batch | gan_jax steps/s | torch steps/s | gan_jax examples/s '
        '| torch examples/s | gan_jax / torch | ceiling with XLA\'s products |')
  print('|---|---|---|---|---|---|---|---|---|')
  print(row)


if __name__ == '__main__':
  app.run(main)
