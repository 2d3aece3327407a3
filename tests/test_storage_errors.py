"""Storage that fails under a run: a clear error, the last checkpoint intact, no torn metrics line."""

import errno
import json
import os
import subprocess
import sys
import time

from etils import epath
from PIL import Image
import pytest

import gan_jax
from gan_jax import train
from gan_jax.io import checkpoint as checkpoint_lib
from gan_jax.io import writers
from tiny_configs import tiny_config


def _config(**fields):
  return tiny_config(**{'model.name': 'mlp', 'num_train_steps': 4, 'checkpoint_every_steps': 2,
                        'sample_every_steps': 2, **fields})


def _disk_full(*_, **__):
  raise OSError(errno.ENOSPC, 'No space left on device')


def _fail_writes_into(step: int, write):
  """`write` (a method of epath.Path) failing with ENOSPC inside checkpoint `step`'s folder."""
  def failing(self, *args, **kwargs):
    if f'{os.sep}{step}.orbax-checkpoint-tmp' in str(self):
      _disk_full()
    return write(self, *args, **kwargs)
  return failing


@pytest.mark.slow
def test_a_failed_checkpoint_write_stops_the_run_and_keeps_the_previous_one(tmp_path,
                                                                            monkeypatch):
  # Orbax writes the checkpoint's JSON items and metadata through epath.
  monkeypatch.setattr(epath.Path, 'write_text', _fail_writes_into(4, epath.Path.write_text))
  with pytest.raises(checkpoint_lib.CheckpointWriteError,
                     match=r'checkpoints/4 failed \(OSError: .*No space left.*checkpoints/2, '
                           r'is intact'):
    train.train_and_evaluate(_config(), str(tmp_path))
  monkeypatch.undo()
  assert gan_jax.load_run(str(tmp_path)).step == 2
  train.train_and_evaluate(_config(), str(tmp_path))  # Space again: it resumes and finishes.
  assert gan_jax.load_run(str(tmp_path)).step == 4


@pytest.mark.slow
def test_a_failed_sample_write_stops_the_run_naming_the_file(tmp_path, monkeypatch):
  train.train_and_evaluate(_config(num_train_steps=2), str(tmp_path))
  monkeypatch.setattr(Image.Image, 'save', _disk_full)
  with pytest.raises(OSError, match=r'Cannot write the picture .*samples/step_0000004.png '
                                    r'\(No space left'):
    train.train_and_evaluate(_config(), str(tmp_path))
  assert sorted(os.listdir(tmp_path / 'samples')) == ['step_0000002.png']  # No partial file.
  assert gan_jax.load_run(str(tmp_path)).step == 2


# Appends metrics lines in a process whose files may not grow past `limit` bytes, as a
# full disk would stop them: the write that crosses it fails part way.
_WRITER = '''
import resource, signal, sys
from gan_jax.io import writers
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # Fail the write with EFBIG; do not die.
writer = writers.MetricWriter(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
try:
  for step in range(1, 100):
    writer.write_scalars(step, {'d_loss': 0.5 * step, 'g_loss': 1.0 / step})
except OSError as error:
  print(error)
'''


@pytest.mark.slow
def test_a_failed_metrics_write_leaves_no_partial_line(tmp_path):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  result = subprocess.run([sys.executable, '-c', _WRITER, str(tmp_path), '300'], env=env,
                          capture_output=True, text=True, check=True, timeout=120)
  assert 'Cannot append to the metrics file' in result.stdout
  assert 'metrics.jsonl' in result.stdout and 'cut back to its last complete line' in result.stdout
  raw = (tmp_path / 'metrics.jsonl').read_bytes()
  assert 200 < len(raw) <= 300 and raw.endswith(b'\n')
  # Any reader, not only read_metrics: every line is complete JSON.
  steps = [json.loads(line)['step'] for line in raw.decode().splitlines()]
  assert steps == list(range(1, len(steps) + 1))


# Appends many long lines as fast as it can, so a reader polling the file catches lines
# in the middle of being written.
_FAST_WRITER = '''
import sys
from gan_jax.io import writers
with writers.MetricWriter(sys.argv[1]) as writer:
  for step in range(1, 1001):  # Lines of ~400 bytes: many straddle a page boundary.
    writer.write_scalars(step, {f'a_long_metric_name_{"x" * 50}_{i}': step + i / 7
                                for i in range(5)})
'''


@pytest.mark.slow
def test_a_reader_polling_a_live_metrics_file_sees_only_whole_records(tmp_path):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
  (tmp_path / 'metrics.jsonl').touch()
  writer = subprocess.Popen([sys.executable, '-c', _FAST_WRITER, str(tmp_path)], env=env)
  reads = []
  try:
    while writer.poll() is None:
      if not (tmp_path / 'metrics.jsonl').stat().st_size:
        time.sleep(0.05)  # Still importing: leave it the CPU.
        continue
      # Linux does not make a read atomic against a concurrent write to a regular file, so
      # a reader may catch the last line half copied (CI did). What the one-write lines
      # promise: every newline-terminated line is whole JSON, in step order, and
      # read_metrics, which drops an unterminated tail, never fails on a live file.
      raw = (tmp_path / 'metrics.jsonl').read_text()
      complete = raw[:raw.rfind('\n') + 1]
      steps = [json.loads(line)['step'] for line in complete.splitlines()]
      assert steps == list(range(1, len(steps) + 1))
      records = writers.read_metrics(tmp_path)
      assert [record['step'] for record in records] == list(range(1, len(records) + 1))
      assert len(records) >= len(steps)
      reads.append(len(steps))
  finally:
    writer.wait(timeout=120)
  assert writer.returncode == 0
  assert len(writers.read_metrics(tmp_path)) == 1000
  assert len(set(reads)) > 5  # It really read while the file grew.
