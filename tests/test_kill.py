"""SIGKILL inside saves, evaluation, samples and metrics: every restart resumes, and the run
ends bit for bit where an uninterrupted one does (benchmarks/kill_resume.py kills at random times)."""

import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

import gan_jax
from xla_flags import FAST_COMPILE

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLAGS = ['--config=experiments/ring_gan.py', '--config.num_train_steps=12',
         '--config.batch_size=16', '--config.model.hidden_dims=(16,)',
         '--config.model.latent_dim=8', '--config.log_every_steps=1',
         '--config.checkpoint_every_steps=2', '--config.sample_every_steps=3',
         '--config.num_grid_samples=16', "--config.eval.metrics=('mode_coverage',)",
         '--config.eval.every_steps=4', '--config.eval.num_samples=64']
# In the order they are hit; each process counts from its own start.
KILLS = ['best_save:1', 'save_item:3', 'eval:1', 'save_record:2', 'sample:2', 'metrics:3']


def _launch(workdir, kill=None):
  # One CPU device, as a user's run; the same for the reference and the killed runs.
  # Every program goes to the compilation cache, so restarts skip compiling.
  env = dict(os.environ, JAX_PLATFORMS='cpu', XLA_FLAGS=FAST_COMPILE,
             JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0',
             PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / 'tests'), *sys.path]))
  command = ([sys.executable, str(ROOT / 'tests' / 'kill_points.py'), kill] if kill
             else [sys.executable, '-m', 'gan_jax.main'])
  return subprocess.Popen([*command, *FLAGS, f'--workdir={workdir}'], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=300):
  output, _ = process.communicate(timeout=timeout)
  return process.returncode, output


def _leaves(workdir):
  return jax.tree.leaves(jax.device_get(gan_jax.load_run(str(workdir)).state))


def _lines(workdir):
  """metrics.jsonl's lines, parsed (a torn line fails here), without the timings."""
  lines = (workdir / 'metrics.jsonl').read_text().splitlines()
  return [{k: v for k, v in json.loads(line).items()
           if k != 'steps_per_sec' and 'seconds' not in k} for line in lines]


@pytest.mark.slow
def test_killed_anywhere_a_run_resumes_bit_for_bit(tmp_path):
  reference = _launch(tmp_path / 'reference')  # Runs beside the killed ones.
  workdir = tmp_path / 'killed'
  for kill in KILLS:
    code, output = _finish(_launch(workdir, kill))
    assert code == -9, f'{kill} was never reached (exit {code}):\n{output[-3000:]}'
  code, output = _finish(_launch(workdir))
  assert code == 0, output[-3000:]
  code, output = _finish(reference)
  assert code == 0, output[-3000:]

  for a, b in zip(_leaves(tmp_path / 'reference'), _leaves(workdir)):
    np.testing.assert_array_equal(a, b)
  # The same lines (each step's, and each evaluation's), none torn, none twice.
  assert _lines(workdir) == _lines(tmp_path / 'reference')
  assert sorted(os.listdir(workdir / 'best')) == sorted(os.listdir(tmp_path / 'reference' / 'best'))
  # The temporary file of the grid killed mid-write was cleared by the restart.
  assert sorted(os.listdir(workdir / 'samples')) == sorted(
      os.listdir(tmp_path / 'reference' / 'samples'))
