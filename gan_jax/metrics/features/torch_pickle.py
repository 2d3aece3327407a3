"""Reads PyTorch `.pth` state dicts into NumPy arrays, without PyTorch.

`torch.save` has written two layouts, and published weight files use both:

* zip (PyTorch >= 1.6): a zip archive holding `<prefix>/data.pkl`, a pickle whose
  tensors refer by key to raw storages stored as `<prefix>/data/<key>`, and, in newer
  files, `<prefix>/byteorder`.
* legacy (PyTorch < 1.6): one stream of pickles: a magic number, the protocol version,
  a dict of system information, the object itself, the list of storage keys, then each
  storage as an int64 element count followed by its raw bytes, in that key order.

In both, a tensor pickles as `torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, ...)`, and a storage as a persistent id `('storage', torch.FloatStorage, key,
location, numel[, view])`. The unpickler here maps those to NumPy views of the raw
bytes and refuses every other global, so, like `torch.load(weights_only=True)`, a
weights file cannot run code while it is read.
"""

import collections
import pathlib
import pickle
import struct
import zipfile

import ml_dtypes
import numpy as np

# torch/serialization.py: the first pickle of a legacy file, and its protocol version.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

_STORAGE_DTYPES = {
    'DoubleStorage': np.float64,
    'FloatStorage': np.float32,
    'HalfStorage': np.float16,
    'BFloat16Storage': ml_dtypes.bfloat16,
    'LongStorage': np.int64,
    'IntStorage': np.int32,
    'ShortStorage': np.int16,
    'CharStorage': np.int8,
    'ByteStorage': np.uint8,
    'BoolStorage': np.bool_,
}


class _StorageType:
  """Stands in for a class such as `torch.FloatStorage`: it only names a dtype."""

  def __init__(self, name: str):
    self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
  """A flat typed buffer; legacy files fill it only after the object is unpickled."""

  def __init__(self, dtype: np.dtype, numel: int):
    self.dtype = dtype
    self.numel = numel
    self.array = None


class _PendingTensor:
  """A tensor whose storage may not be read yet; `materialize` makes the array."""

  def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple):
    self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

  def materialize(self) -> np.ndarray:
    """The tensor as a C-contiguous array, after checking it lies inside its storage."""
    flat = self.storage.array
    if flat is None:
      raise ValueError('a tensor refers to a storage that the file does not contain.')
    if any(n < 0 for n in self.size) or any(s < 0 for s in self.stride) or self.offset < 0:
      raise ValueError(f'tensor with invalid size {self.size}, stride {self.stride} or '
                       f'offset {self.offset}.')
    if 0 in self.size:
      return np.zeros(self.size, flat.dtype)
    last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
    if last >= flat.size:
      raise ValueError(f'tensor of size {self.size} and stride {self.stride} at offset '
                       f'{self.offset} runs past its storage of {flat.size} elements.')
    view = np.lib.stride_tricks.as_strided(
        flat[self.offset:], shape=self.size,
        strides=[s * flat.itemsize for s in self.stride], writeable=False)
    return np.array(view, order='C')  # A copy: the file buffer can be freed.


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
  del requires_grad, backward_hooks, metadata  # Training state, not values.
  return _PendingTensor(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
  del requires_grad, backward_hooks, state
  return data


# Every global a state dict needs; anything else in the pickle is refused.
_ALLOWED = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor_v2,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('torch._utils', '_rebuild_parameter_with_state'): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
  """Resolves tensors and storages to placeholders; `storage_for` supplies storages."""

  def __init__(self, file, storage_for):
    super().__init__(file)
    self._storage_for = storage_for

  def find_class(self, module, name):
    if module == 'torch' and name in _STORAGE_DTYPES:
      return _StorageType(name)
    if (module, name) in _ALLOWED:
      return _ALLOWED[(module, name)]
    raise pickle.UnpicklingError(
        f'{module}.{name} is not allowed in a weights file (only tensors, storages and '
        f'dicts are read).')

  def persistent_load(self, pid):
    if not (isinstance(pid, tuple) and pid and pid[0] == 'storage'):
      raise pickle.UnpicklingError(f'unsupported persistent id {pid!r}.')
    storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
    if not isinstance(storage_type, _StorageType):
      raise pickle.UnpicklingError(f'storage of unsupported type {storage_type!r}.')
    view = pid[5] if len(pid) > 5 else None  # Legacy files: a slice of another storage.
    return self._storage_for(key, storage_type.dtype, numel, view)


def _no_storages(key, dtype, numel, view):
  del dtype, numel, view
  raise pickle.UnpicklingError(f'unexpected storage {key} in a file header.')


def _materialize(obj):
  """`obj` with every placeholder tensor replaced by its array (dicts, lists, tuples)."""
  if isinstance(obj, _PendingTensor):
    return obj.materialize()
  if isinstance(obj, dict):
    return collections.OrderedDict((k, _materialize(v)) for k, v in obj.items())
  if isinstance(obj, (list, tuple)):
    return type(obj)(_materialize(v) for v in obj)
  return obj


def _load_zip(archive: zipfile.ZipFile) -> object:
  pickles = [n for n in archive.namelist() if n == 'data.pkl' or n.endswith('/data.pkl')]
  if len(pickles) != 1:
    raise ValueError(f'expected one data.pkl in the zip archive, found {len(pickles)}.')
  prefix = pickles[0][:-len('data.pkl')]
  byteorder = 'little'
  if prefix + 'byteorder' in archive.namelist():
    byteorder = archive.read(prefix + 'byteorder').decode().strip()
  order = '<' if byteorder == 'little' else '>'
  storages = {}

  def storage_for(key, dtype, numel, view):
    if view is not None:
      raise pickle.UnpicklingError('storage views are not supported in zip files.')
    if key not in storages:
      storage = _Storage(dtype, numel)
      raw = archive.read(f'{prefix}data/{key}')
      if len(raw) < numel * dtype.itemsize:
        raise ValueError(f'storage {key} holds {len(raw)} bytes, fewer than its '
                         f'{numel} elements of {dtype} need.')
      array = np.frombuffer(raw, dtype.newbyteorder(order), count=numel)
      storage.array = array.astype(dtype, copy=False)
      storages[key] = storage
    return storages[key]

  with archive.open(pickles[0]) as f:
    return _Unpickler(f, storage_for).load()


def _load_legacy(f) -> object:
  def header():
    # The header pickles hold only ints and dicts; the restricted unpickler reads them.
    return _Unpickler(f, _no_storages).load()

  if header() != _LEGACY_MAGIC:
    raise ValueError('not a PyTorch file: neither a zip archive nor the legacy magic number.')
  protocol = header()
  if protocol != _LEGACY_PROTOCOL:
    raise ValueError(f'legacy PyTorch protocol {protocol} is unsupported (expected '
                     f'{_LEGACY_PROTOCOL}).')
  order = '<' if header().get('little_endian', True) else '>'
  storages = {}

  def storage_for(key, dtype, numel, view):
    if view is not None:
      raise pickle.UnpicklingError('storage views (PyTorch < 0.4 files) are not supported.')
    return storages.setdefault(key, _Storage(dtype, numel))

  obj = _Unpickler(f, storage_for).load()
  # The storages follow the object, in the order of this list of keys.
  for key in header():
    storage = storages.get(str(key))
    if storage is None:
      raise ValueError(f'the file stores storage {key}, which no tensor uses.')
    (numel,) = struct.unpack(order + 'q', f.read(8))
    raw = f.read(numel * storage.dtype.itemsize)
    if numel != storage.numel or len(raw) != numel * storage.dtype.itemsize:
      raise ValueError(f'storage {key}: expected {storage.numel} elements of '
                       f'{storage.dtype}, the file holds {len(raw)} bytes.')
    storage.array = np.frombuffer(raw, storage.dtype.newbyteorder(order)).astype(
        storage.dtype, copy=False)
  return obj


def load_torch_state_dict(path) -> dict[str, np.ndarray]:
  """The state dict in the `.pth` file at `path`, as an ordered {key: np.ndarray}.

  Reads both the zip layout of PyTorch >= 1.6 and the legacy one, with no PyTorch
  installed. Only tensors, storages and (ordered) dicts may appear in the file; any
  other pickled object raises `pickle.UnpicklingError`. Raises ValueError for a file
  that is not a PyTorch state dict.
  """
  path = pathlib.Path(path)
  with open(path, 'rb') as f:
    if zipfile.is_zipfile(f):
      f.seek(0)
      with zipfile.ZipFile(f) as archive:
        obj = _load_zip(archive)
    else:
      f.seek(0)
      obj = _load_legacy(f)
  obj = _materialize(obj)
  if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
    raise ValueError(f'{path} does not hold a state dict (a dict of tensors).')
  return obj
