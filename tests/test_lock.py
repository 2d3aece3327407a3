"""One run per workdir: a second run is refused; a killed run does not leave the lock stuck."""

import os
import signal
import subprocess
import sys

import pytest

from gan_jax import train
from gan_jax.io import lock
from tiny_configs import tiny_config

# A process that takes the lock, says so, and holds it until it is killed.
_HOLDER = '''
import sys, time
from gan_jax.io import lock
with lock.workdir_lock(sys.argv[1]):
  print('locked', flush=True)
  time.sleep(600)
'''


def test_a_second_run_on_a_workdir_is_refused_naming_the_holder(tmp_path):
  with lock.workdir_lock(str(tmp_path)):
    with pytest.raises(lock.WorkdirBusyError, match=f'pid {os.getpid()} on host'):
      train.train_and_evaluate(tiny_config(), str(tmp_path))
  assert not (tmp_path / 'checkpoints').exists() and not (tmp_path / 'metrics.jsonl').exists()


@pytest.mark.slow
def test_the_lock_of_a_killed_run_is_released(tmp_path):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  holder = subprocess.Popen([sys.executable, '-c', _HOLDER, str(tmp_path)],
                            stdout=subprocess.PIPE, env=env, text=True)
  try:
    assert holder.stdout.readline().strip() == 'locked'
    with pytest.raises(lock.WorkdirBusyError, match=f'pid {holder.pid} '):
      with lock.workdir_lock(str(tmp_path)):
        pass
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  with lock.workdir_lock(str(tmp_path)):  # Free again, with no clean-up by anyone.
    assert f'pid {os.getpid()} ' in (tmp_path / lock.LOCK_FILE).read_text()


def test_disabled_lock_does_nothing(tmp_path):
  with lock.workdir_lock(str(tmp_path)):
    with lock.workdir_lock(str(tmp_path), enabled=False):
      pass
