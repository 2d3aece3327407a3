"""Damaged checkpoints: detected by their integrity record, reported by file, never restored."""

import json
import logging
import os
import shutil

import jax
import ml_collections
import numpy as np
import pytest

import gan_jax
from gan_jax import train
from gan_jax.core.state import STATE_FORMAT
from gan_jax.io import checkpoint as checkpoint_lib
from gan_jax.io import integrity
from tiny_configs import tiny_config


def _save_steps(directory, steps=(1, 2)):
  """A Checkpointer holding checkpoints of a small tree at `steps`, each all `step`s."""
  checkpointer = checkpoint_lib.Checkpointer(str(directory), keep=5)
  for step in steps:
    state = {'w': np.full((4096,), step, np.float32), 'b': np.arange(3) + step}
    checkpointer.save(step, state, {'next_index': step}, ml_collections.ConfigDict({'seed': 0}),
                      {'data_shape': [2], 'state_format': STATE_FORMAT})
  checkpointer.wait()
  return checkpointer


def _abstract():
  return {'w': jax.ShapeDtypeStruct((4096,), np.float32),
          'b': jax.ShapeDtypeStruct((3,), np.arange(3).dtype)}


def _largest_state_file(step_dir):
  files = [os.path.join(root, name) for root, _, names in os.walk(step_dir / 'state')
           for name in names]
  return max(files, key=os.path.getsize)


def truncate(step_dir):
  path = _largest_state_file(step_dir)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)
  return path


def delete(step_dir):
  path = _largest_state_file(step_dir)
  os.remove(path)
  return path


def garble(step_dir):
  # Same size, other bytes: only the hash can tell.
  path = _largest_state_file(step_dir)
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.seek(size // 2)
    f.write(b'\xff' * min(8, size - size // 2))
  return path


def half_present(step_dir):
  # The newest step directory with an item and its record gone, as a partial copy leaves it.
  shutil.rmtree(step_dir / 'state')
  os.remove(step_dir / integrity.MANIFEST)
  return os.path.join(step_dir, integrity.MANIFEST)


def garble_record(step_dir):
  (step_dir / integrity.MANIFEST).write_text('{"format": 1, "files": {"state/x": {')
  return os.path.join(step_dir, integrity.MANIFEST)


DAMAGES = [truncate, delete, garble, half_present, garble_record]


def test_every_checkpoint_carries_a_record_of_its_item_files(tmp_path):
  checkpointer = _save_steps(tmp_path)
  record = json.loads((tmp_path / '2' / integrity.MANIFEST).read_text())
  names = set(record['files'])
  assert any(n.startswith('state/') for n in names) and 'meta/metadata' in names
  assert integrity.check_manifest(str(tmp_path / '2')) is None
  assert checkpointer.newest_good_step() == 2
  checkpointer.close()


def test_checkpoints_leave_orbaxs_global_handlers_alone(tmp_path):
  # gan_jax configures its own jax.Array handler (whole small arrays); a user's own orbax
  # checkpoints in the same process keep orbax's default.
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  before = ocp.type_handlers.get_type_handler(jax.Array)
  _save_steps(tmp_path).close()
  after = ocp.type_handlers.get_type_handler(jax.Array)
  assert after is before
  assert after._min_slice_bytes_for_replica_parallel != (  # pylint: disable=protected-access
      checkpoint_lib._MIN_SLICE_BYTES_FOR_REPLICA_PARALLEL)  # pylint: disable=protected-access


@pytest.mark.parametrize('damage', DAMAGES, ids=lambda f: f.__name__)
def test_a_damaged_newest_checkpoint_is_named_moved_aside_and_the_older_one_restored(
    tmp_path, caplog, damage):
  _save_steps(tmp_path / 'checkpoints').close()
  damaged_file = damage(tmp_path / 'checkpoints' / '2')
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path / 'checkpoints'))
  with caplog.at_level(logging.WARNING):
    assert checkpointer.newest_good_step() == 1
  assert damaged_file in caplog.text and 'is damaged' in caplog.text
  # Moved, not deleted: the evidence stays, and the run can write step 2 again.
  assert checkpointer.all_steps() == [1]
  moved = os.listdir(tmp_path / checkpoint_lib.DAMAGED_DIR)
  assert len(moved) == 1 and moved[0].startswith('checkpoints-2-')
  state, data_state, _, _ = checkpointer.restore(1, _abstract())
  np.testing.assert_array_equal(state['w'], np.full((4096,), 1, np.float32))
  assert data_state == {'next_index': 1}
  checkpointer.close()


def test_when_every_checkpoint_is_damaged_the_error_names_the_files(tmp_path):
  _save_steps(tmp_path).close()
  first, second = truncate(tmp_path / '1'), garble(tmp_path / '2')
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  with pytest.raises(checkpoint_lib.DamagedCheckpointError) as error:
    checkpointer.newest_good_step()
  assert first in str(error.value) and second in str(error.value)
  assert checkpointer.all_steps() == [1, 2]  # Nothing moved: nothing to start afresh over.
  with pytest.raises(checkpoint_lib.DamagedCheckpointError, match='Checkpoint .*2 is damaged'):
    checkpointer.restore(2, _abstract())
  checkpointer.close()


def test_a_damaged_best_checkpoint_is_moved_aside_and_the_search_starts_again(tmp_path):
  # The best checkpoint (keep=1) is not needed to resume: it never stops the run.
  _save_steps(tmp_path / 'best', steps=(3,)).close()
  garble(tmp_path / 'best' / '3')
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path / 'best'), keep=1)
  assert checkpointer.newest_good_step(required=False) is None
  assert checkpointer.all_steps() == []
  assert os.listdir(tmp_path / checkpoint_lib.DAMAGED_DIR)[0].startswith('best-3-')
  checkpointer.close()


def test_a_checkpoint_from_before_records_is_still_restored(tmp_path):
  _save_steps(tmp_path, steps=(1,)).close()
  os.remove(tmp_path / '1' / integrity.MANIFEST)
  meta_file = tmp_path / '1' / 'meta' / 'metadata'
  meta = json.loads(meta_file.read_text())
  del meta['integrity_record']
  meta_file.write_text(json.dumps(meta))
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  assert checkpointer.newest_good_step() == 1
  checkpointer.close()


def _leaves(state):
  return jax.tree.leaves(jax.device_get(state))


@pytest.mark.slow
def test_a_run_resumes_from_the_last_good_checkpoint_bit_for_bit(tmp_path):
  config = tiny_config(**{'model.name': 'mlp', 'num_train_steps': 4,
                          'checkpoint_every_steps': 2})
  straight = train.train_and_evaluate(config, str(tmp_path))
  garble(tmp_path / 'checkpoints' / '4')
  with pytest.raises(checkpoint_lib.DamagedCheckpointError, match='checkpoints/4/state'):
    gan_jax.load_run(str(tmp_path), step=4)
  assert gan_jax.load_run(str(tmp_path)).step == 2  # Read-only: skipped, not moved.
  resumed = train.train_and_evaluate(config, str(tmp_path))
  for a, b in zip(_leaves(straight), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  assert gan_jax.load_run(str(tmp_path)).step == 4
  steps = [json.loads(l)['step'] for l in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert steps == [1, 2, 3, 4]
