"""Two CPU processes on localhost (JAX's distributed runtime, gloo collectives) train to
the same parameters as one process, through a checkpoint and a restart: for data drawn
in the step and for loaded data, of which each process reads its own rows."""

import os
import pathlib
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

import gan_jax
from xla_flags import FAST_COMPILE

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent

# Tiny GANs: the ring with data drawn in the step, and the digits read by the pipeline.
CONFIG = '''
import sys
sys.path.insert(0, {tests!r})
from tiny_configs import tiny_config


def get_config():
  config = tiny_config(**{fields!r})
  config.num_train_steps = 6
  config.log_every_steps = 3
  config.checkpoint_every_steps = 3
  config.sample_every_steps = 6
  return config
'''

DATASETS = {
    'ring_on_device': {'data.name': 'ring', 'data.fresh_samples': True,
                       'data.draw_on_device': True, 'model.name': 'mlp',
                       'optim.ema_decay': 0.99},
    'digits_loaded': {'data.name': 'digits', 'data.random_flip': True, 'model.name': 'mlp',
                      'optim.ema_decay': 0.99},
}


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _launch(config_path, workdir, num_processes: int, steps: int) -> None:
  """Runs `gan_jax.main` in `num_processes` processes with one CPU device each."""
  port = _free_port()
  procs = []
  for process_id in range(num_processes):
    env = dict(os.environ, XLA_FLAGS=FAST_COMPILE, JAX_PLATFORMS='cpu',
               PYTHONPATH=str(ROOT))
    args = [sys.executable, '-m', 'gan_jax.main', f'--config={config_path}',
            f'--workdir={workdir}', f'--config.num_train_steps={steps}']
    if num_processes > 1:
      env.update(JAX_COORDINATOR_ADDRESS=f'localhost:{port}',
                 JAX_NUM_PROCESSES=str(num_processes), JAX_PROCESS_ID=str(process_id))
      args.append('--config.distributed=True')
    procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True))
  for proc in procs:
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    if num_processes > 1:  # The processes really formed one cluster over gloo.
      assert 'connected to 1 peer ranks' in output, output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize('dataset', sorted(DATASETS))
def test_two_processes_match_one_process_through_a_restart(tmp_path, dataset):
  config_path = tmp_path / 'tiny.py'
  config_path.write_text(CONFIG.format(tests=str(TESTS), fields=DATASETS[dataset]))
  _launch(config_path, tmp_path / 'one', num_processes=1, steps=6)
  # Two processes: 3 steps, stop, then a restart from the checkpoint to 6.
  _launch(config_path, tmp_path / 'two', num_processes=2, steps=3)
  _launch(config_path, tmp_path / 'two', num_processes=2, steps=6)

  one = gan_jax.load_run(str(tmp_path / 'one'))
  two = gan_jax.load_run(str(tmp_path / 'two'))
  assert int(two.state.step) == 6
  for a, b in zip(jax.tree.leaves(jax.device_get(one.state)),
                  jax.tree.leaves(jax.device_get(two.state))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  # Only process 0 wrote the log: one line per logged step.
  steps = [line.split(',')[0] for line in (tmp_path / 'two' / 'metrics.jsonl').read_text().split('\n') if line]
  assert steps == ['{"step": 3', '{"step": 6']
