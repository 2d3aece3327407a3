"""The torch-free .pth reader, on files written here in both of torch.save's layouts.

Without PyTorch, the files are written by this test the way torch/serialization.py
writes them: a pickle whose tensors reduce to `torch._utils._rebuild_tensor_v2` over
storages named by persistent ids, stored in a zip archive (PyTorch >= 1.6) or after
the pickle in one stream (legacy). Stand-in `torch` modules make pickle emit the same
global names. Where PyTorch is installed, files from `torch.save` itself are read too.
"""

import collections
import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

from gan_jax.metrics.features.torch_pickle import load_torch_state_dict


class _Storage:
  """One flat array, pickled as a persistent id."""

  def __init__(self, key, array):
    self.key, self.array = key, array


class _Tensor:
  """A strided view of a storage, pickled as torch pickles tensors."""

  def __init__(self, storage, offset, size, stride):
    self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

  def __reduce__(self):
    rebuild = sys.modules['torch._utils']._rebuild_tensor_v2
    return rebuild, (self.storage, self.offset, self.size, self.stride, False,
                     collections.OrderedDict())

  def value(self):
    itemsize = self.storage.array.itemsize
    return np.lib.stride_tricks.as_strided(
        self.storage.array[self.offset:], self.size, [s * itemsize for s in self.stride])


_STORAGE_NAMES = {np.dtype(np.float32): 'FloatStorage', np.dtype(np.float16): 'HalfStorage',
                  np.dtype(np.int64): 'LongStorage'}


@pytest.fixture
def fake_torch(monkeypatch):
  """`torch` and `torch._utils` stand-ins, so that pickle writes torch's global names."""
  torch = types.ModuleType('torch')
  utils = types.ModuleType('torch._utils')

  def _rebuild_tensor_v2(*args):
    raise AssertionError('only pickled, never called')

  _rebuild_tensor_v2.__module__ = 'torch._utils'
  _rebuild_tensor_v2.__qualname__ = '_rebuild_tensor_v2'
  utils._rebuild_tensor_v2 = _rebuild_tensor_v2
  for name in _STORAGE_NAMES.values():
    setattr(torch, name, type(name, (), {'__module__': 'torch'}))
  torch._utils = utils
  monkeypatch.setitem(sys.modules, 'torch', torch)
  monkeypatch.setitem(sys.modules, 'torch._utils', utils)
  return torch


class _Pickler(pickle.Pickler):

  def persistent_id(self, obj):
    if isinstance(obj, _Storage):
      storage_type = getattr(sys.modules['torch'], _STORAGE_NAMES[obj.array.dtype])
      return ('storage', storage_type, obj.key, 'cpu', obj.array.size)
    return None


def _dumps(obj) -> bytes:
  buffer = io.BytesIO()
  _Pickler(buffer, protocol=2).dump(obj)
  return buffer.getvalue()


def write_zip(path, state, storages, byteorder='little'):
  """The layout of torch.save since PyTorch 1.6."""
  with zipfile.ZipFile(path, 'w') as archive:
    archive.writestr('archive/data.pkl', _dumps(state))
    archive.writestr('archive/byteorder', byteorder)
    archive.writestr('archive/version', '3\n')
    order = '<' if byteorder == 'little' else '>'
    for storage in storages:
      archive.writestr(f'archive/data/{storage.key}',
                       storage.array.astype(storage.array.dtype.newbyteorder(order)).tobytes())


def write_legacy(path, state, storages):
  """The layout of torch.save before PyTorch 1.6 (`_use_new_zipfile_serialization=False`)."""
  with open(path, 'wb') as f:
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    pickle.dump({'protocol_version': 1001, 'little_endian': True,
                 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, f, protocol=2)
    f.write(_dumps(state))
    pickle.dump([s.key for s in storages], f, protocol=2)
    for storage in storages:
      f.write(struct.pack('<q', storage.array.size))
      f.write(storage.array.tobytes())


def _example():
  """A state dict with shared storages, offsets, a transposed view, scalars, float16."""
  rng = np.random.default_rng(0)
  shared = _Storage('0', rng.normal(size=30).astype(np.float32))
  half = _Storage('1', rng.normal(size=6).astype(np.float16))
  count = _Storage('2', np.array([7], np.int64))
  state = collections.OrderedDict([
      ('conv.weight', _Tensor(shared, 0, (2, 3, 2, 2), (12, 4, 2, 1))),
      ('bn.weight', _Tensor(shared, 24, (6,), (1,))),
      ('fc.weight', _Tensor(shared, 0, (4, 3), (1, 4))),  # a transposed (3, 4) matrix
      ('half', _Tensor(half, 0, (2, 3), (3, 1))),
      ('bn.num_batches_tracked', _Tensor(count, 0, (), ())),
  ])
  return state, [shared, half, count]


@pytest.mark.parametrize('layout', ['zip', 'legacy', 'zip-big-endian'])
def test_reads_both_layouts(tmp_path, fake_torch, layout):
  del fake_torch
  state, storages = _example()
  path = tmp_path / 'weights.pth'
  if layout == 'legacy':
    write_legacy(path, state, storages)
  else:
    write_zip(path, state, storages, 'big' if layout == 'zip-big-endian' else 'little')
  loaded = load_torch_state_dict(path)
  assert list(loaded) == list(state)
  for key, tensor in state.items():
    expected = tensor.value()
    assert loaded[key].dtype == expected.dtype
    assert loaded[key].shape == expected.shape
    np.testing.assert_array_equal(loaded[key], expected)
  assert loaded['bn.num_batches_tracked'] == 7


def test_refuses_any_other_global(tmp_path):
  # A pickle that would call os.system when loaded by an unrestricted unpickler.
  class Exploit:
    def __reduce__(self):
      import os  # pylint: disable=g-import-not-at-top
      return os.system, ('echo pwned',)

  path = tmp_path / 'evil.pth'
  with zipfile.ZipFile(path, 'w') as archive:
    archive.writestr('archive/data.pkl', pickle.dumps({'x': Exploit()}, protocol=2))
  with pytest.raises(pickle.UnpicklingError, match='not allowed'):
    load_torch_state_dict(path)


def test_rejects_tensors_outside_their_storage(tmp_path, fake_torch):
  del fake_torch
  storage = _Storage('0', np.zeros(4, np.float32))
  path = tmp_path / 'bad.pth'
  write_zip(path, {'w': _Tensor(storage, 2, (3,), (1,))}, [storage])
  with pytest.raises(ValueError, match='runs past its storage'):
    load_torch_state_dict(path)


def test_rejects_files_that_are_not_pytorch(tmp_path):
  path = tmp_path / 'plain.pth'
  path.write_bytes(pickle.dumps([1, 2, 3]))
  with pytest.raises(ValueError, match='not a PyTorch file'):
    load_torch_state_dict(path)


@pytest.mark.parametrize('zip_layout', [True, False])
def test_reads_files_written_by_torch(tmp_path, zip_layout):
  torch = pytest.importorskip('torch')
  shared = torch.randn(20)
  state = collections.OrderedDict(
      conv=torch.randn(4, 3, 3, 3), transposed=torch.randn(5, 6).t(), view=shared[5:].view(3, 5),
      half=torch.randn(2, 3).half(), count=torch.tensor(3), empty=torch.zeros(0, 3),
      mask=torch.tensor([True, False]))
  path = tmp_path / 'torch.pth'
  torch.save(state, path, _use_new_zipfile_serialization=zip_layout)
  loaded = load_torch_state_dict(path)
  for key, tensor in state.items():
    assert loaded[key].dtype == tensor.numpy().dtype
    np.testing.assert_array_equal(loaded[key], tensor.numpy())
