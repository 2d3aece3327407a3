"""The command line: a tiny run end to end, and clear errors for bad overrides."""

import os
import pathlib
import subprocess
import sys

import pytest

from gan_jax import models
from xla_flags import FAST_COMPILE

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = ['--config.num_train_steps=2', '--config.batch_size=16', '--config.log_every_steps=1',
        '--config.model.g_features=8', '--config.model.d_features=8',
        '--config.model.latent_dim=8', '--config.num_grid_samples=4']


def _main(*args, workdir):
  env = dict(os.environ, JAX_PLATFORMS='cpu', XLA_FLAGS=FAST_COMPILE)
  return subprocess.run(
      [sys.executable, '-m', 'gan_jax.main', '--config=experiments/digits_dcgan.py',
       f'--workdir={workdir}', *args],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_trains_with_overrides(tmp_path):
  result = _main(*TINY, '--config.optim.g_lr=1e-3', workdir=tmp_path)
  assert result.returncode == 0, result.stderr[-2000:]
  assert (tmp_path / 'checkpoints' / '2').is_dir()
  assert (tmp_path / 'samples' / 'step_0000002.png').is_file()


@pytest.mark.slow
def test_cli_dry_run_checks_and_writes_nothing(tmp_path):
  result = _main(*TINY, '--dry_run', workdir=tmp_path / 'run')
  assert result.returncode == 0, result.stderr[-2000:]
  assert "dry run passed: data of shape (8, 8, 1), 10 classes, one step's batch" in result.stdout
  assert not (tmp_path / 'run').exists()


@pytest.mark.slow
def test_cli_rejects_a_misspelt_override(tmp_path):
  result = _main(*TINY, '--config.optim.g_lrr=1e-3', workdir=tmp_path)
  assert result.returncode != 0
  assert 'g_lrr' in result.stderr
  assert not (tmp_path / 'checkpoints').exists()


@pytest.mark.slow
def test_cli_rejects_an_unknown_model(tmp_path):
  result = _main(*TINY, '--config.model.name=stylegan', workdir=tmp_path)
  assert result.returncode != 0
  known = ', '.join(sorted(models.KNOWN_MODELS))
  assert f"config.model.name='stylegan' is unknown; known: {known}." in result.stderr
