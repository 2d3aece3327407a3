"""Kill a run with SIGKILL at random times, restart it each time, and check it ends bit for bit.

  python benchmarks/kill_resume.py --kills=20 [--seed=0] [--steps=6000]

Trains a small ring GAN (`experiments/ring_gan.py`, made small; checkpoints, samples,
evaluations and metrics lines all frequent, so kills land in every kind of write) with
`python -m gan_jax.main`: once without interruption, then in a second workdir that is
killed `--kills` times, each after a delay drawn uniformly from [--min_delay,
--max_delay] seconds after its start, and restarted until it finishes. Prints JSON: for
each kill the delay, the newest checkpoint and metrics step when it struck and whether a
checkpoint was being written (an orbax temporary folder on disk); then whether the final
state's digest (every leaf), metrics.jsonl (timings aside) and best
checkpoint equal the uninterrupted run's.
"""

import hashlib
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

import jax
import numpy as np

import gan_jax

_KILLS = flags.DEFINE_integer('kills', 20, 'How many times to kill the run.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the kill delays.')
_STEPS = flags.DEFINE_integer('steps', 6000, 'Training steps.')
_MIN_DELAY = flags.DEFINE_float('min_delay', 2.0, 'Shortest delay before a kill (s).')
_MAX_DELAY = flags.DEFINE_float('max_delay', 12.0, 'Longest delay before a kill (s).')

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _flags(steps: int) -> list[str]:
  return ['--config=experiments/ring_gan.py', f'--config.num_train_steps={steps}',
          '--config.batch_size=64', '--config.model.hidden_dims=(32,)',
          '--config.model.latent_dim=8', '--config.log_every_steps=5',
          '--config.checkpoint_every_steps=25', '--config.sample_every_steps=40',
          '--config.num_grid_samples=64', "--config.eval.metrics=('mode_coverage',)",
          '--config.eval.every_steps=100', '--config.eval.num_samples=500']


def _launch(workdir: str, steps: int) -> subprocess.Popen:
  env = dict(os.environ, JAX_PLATFORMS='cpu', JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0')
  return subprocess.Popen([sys.executable, '-m', 'gan_jax.main', *_flags(steps),
                           f'--workdir={workdir}'], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait(process: subprocess.Popen) -> None:
  _, errors = process.communicate()
  if process.returncode != 0:
    raise RuntimeError(f'the run failed (exit {process.returncode}):\n{errors[-3000:]}')


def _where(workdir: pathlib.Path) -> dict:
  """The newest checkpoint and metrics step on disk, and whether a save was under way."""
  folder = workdir / 'checkpoints'
  names = os.listdir(folder) if folder.is_dir() else []
  steps = [int(n) for n in names if n.isdigit()]
  metrics = workdir / 'metrics.jsonl'
  lines = metrics.read_text().splitlines() if metrics.exists() else []
  complete = [line for line in lines if line.endswith('}')]
  return {'checkpoint': max(steps, default=None),
          'metrics_step': json.loads(complete[-1])['step'] if complete else None,
          'mid_save': any('tmp' in n for n in names + (os.listdir(workdir / 'best')
                                                       if (workdir / 'best').is_dir() else []))}


def _lines(workdir: pathlib.Path) -> list[dict]:
  return [{k: v for k, v in json.loads(line).items()
           if k != 'steps_per_sec' and 'seconds' not in k}
          for line in (workdir / 'metrics.jsonl').read_text().splitlines()]


def _digest(workdir: pathlib.Path) -> str:
  """SHA-256 of every leaf of the run's final GameState: players, optimizers, EMA, step, key.

  (benchmarks/state_digest.py hashes the players only, and defines flags of its own.)
  """
  digest = hashlib.sha256()
  state = jax.device_get(gan_jax.load_run(str(workdir)).state)
  for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
    array = np.asarray(jax.random.key_data(leaf) if jax.dtypes.issubdtype(
        getattr(leaf, 'dtype', None), jax.dtypes.prng_key) else leaf)
    digest.update(f'{jax.tree_util.keystr(path)}{array.dtype}{array.shape}'.encode())
    digest.update(np.ascontiguousarray(array).tobytes())
  return digest.hexdigest()[:16]


def main(argv):
  del argv
  rng = random.Random(_SEED.value)
  with tempfile.TemporaryDirectory() as root:
    reference, killed = pathlib.Path(root) / 'reference', pathlib.Path(root) / 'killed'
    start = time.perf_counter()
    _wait(_launch(str(reference), _STEPS.value))
    uninterrupted_s = time.perf_counter() - start
    kills = []
    while len(kills) < _KILLS.value:
      delay = rng.uniform(_MIN_DELAY.value, _MAX_DELAY.value)
      process = _launch(str(killed), _STEPS.value)
      try:
        process.wait(timeout=delay)
      except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        kills.append({'delay_s': round(delay, 2), **_where(killed)})
        continue
      if process.returncode != 0:
        raise RuntimeError(f'a restart failed (exit {process.returncode}):\n'
                           f'{process.stderr.read()[-3000:]}')
      # It finished before the kill: start the killed workdir afresh to place the rest.
      raise RuntimeError(f'the run finished after {len(kills)} kills; raise --steps.')
    _wait(_launch(str(killed), _STEPS.value))
    report = {
        'steps': _STEPS.value, 'kills': kills, 'uninterrupted_s': round(uninterrupted_s, 1),
        'kills_mid_save': sum(k['mid_save'] for k in kills),
        'state_equal': _digest(killed) == _digest(reference),
        'metrics_equal': _lines(killed) == _lines(reference),
        'best_equal': sorted(os.listdir(killed / 'best')) == sorted(os.listdir(reference / 'best')),
        'digest': _digest(reference),
    }
  print(json.dumps(report, indent=1))


if __name__ == '__main__':
  app.run(main)
