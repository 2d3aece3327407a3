"""Data sources: random-access datasets of raw examples, chosen by `config.data.name`.

A source is what `grain.MapDataset.source` accepts: `len(source)` and
`source[i] -> {'x': np.ndarray, 'y': np.int32}`. It also says what it holds:
`is_image`, `element_shape` (one raw element) and `num_classes` (0 when unlabeled, in
which case every `y` is -1). Images are raw uint8 HWC arrays (0..255, always 3 dims,
1 or 3 channels); points are float32 vectors. Preprocessing (scaling to [-1, 1],
resizing, flips) belongs to the pipeline, so a source stays a faithful view of the data.

`gather(indices)` reads a whole batch at once; in-memory and generated sources do it
with one vectorised operation, which is what keeps the pipeline far below a
millisecond per batch.
"""

import abc
import functools
import gzip
import math
import os
import pathlib

from absl import logging
import numpy as np

# Length of a fresh-samples source: effectively infinite, but a plain int, so that
# grain, slicing and checkpointed positions all work unchanged.
STREAM_LENGTH = 2**40

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp')

_IDX_IMAGES_MAGIC = 2051
_IDX_LABELS_MAGIC = 2049


class DataSource(abc.ABC):
  """Base class of every source: random access plus a vectorised batch read."""

  is_image: bool = True
  element_shape: tuple = ()
  num_classes: int = 0
  # True when every index is a new independent sample (fresh_samples): the pipeline
  # reads such a source in order instead of shuffling and repeating it.
  is_stream: bool = False

  @abc.abstractmethod
  def __len__(self) -> int:
    """Number of examples (STREAM_LENGTH for fresh-samples sources)."""

  @abc.abstractmethod
  def __getitem__(self, index: int) -> dict:
    """Example `index` as {'x': raw array, 'y': np.int32 label or -1}."""

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    """The examples at `indices`, stacked: {'x': (B, ...), 'y': int32 (B,)}.

    `image_fn`, when given, maps each raw image before stacking, so that sources of
    differently sized images can still be batched once the images are resized.
    """
    examples = [self[int(i)] for i in indices]
    xs = [e['x'] if image_fn is None else image_fn(e['x']) for e in examples]
    return {'x': np.stack(xs), 'y': np.array([e['y'] for e in examples], np.int32)}


class ArraySource(DataSource):
  """A dataset held in memory as one array of examples and one of labels."""

  def __init__(self, x: np.ndarray, y: np.ndarray | None = None, num_classes: int = 0):
    """`x` is (N, H, W, C) uint8 images or (N, D) float points; `y` (N,) or None."""
    self.x = x
    self.y = (np.full(len(x), -1, np.int32) if y is None else np.asarray(y, np.int32))
    self.is_image = x.ndim == 4
    self.element_shape = tuple(int(d) for d in x.shape[1:])
    self.num_classes = int(num_classes)

  def __len__(self) -> int:
    return len(self.x)

  def __getitem__(self, index: int) -> dict:
    return {'x': self.x[index], 'y': self.y[index]}

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    """The examples at `indices`, stacked, by fancy indexing (one copy, no loop)."""
    x = self.x[indices]
    if image_fn is not None:
      x = np.stack([image_fn(image) for image in x])
    return {'x': x, 'y': self.y[indices]}


def _as_images(x: np.ndarray, where: str) -> np.ndarray:
  """(N, H, W) or (N, H, W, C) uint8 as (N, H, W, C) with C in {1, 3}, else an error."""
  if x.ndim == 3:
    x = x[..., None]
  if x.ndim != 4 or x.shape[-1] not in (1, 3):
    raise ValueError(f'{where}: expected images of shape (N, H, W) or (N, H, W, C) with '
                     f'C = 1 or 3, got shape {x.shape}.')
  return x


# ---------------------------------------------------------------------------------------
# digits: the embedded default.


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
  # Cached: the 1,797 images are parsed from sklearn's CSV once per process.
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  images.setflags(write=False)
  return images, digits.target.astype(np.int32)


def digits_source(data_config, seed: int) -> ArraySource:
  """scikit-learn's 1,797 8x8 handwritten digits as uint8 (8, 8, 1), labels 0..9."""
  del data_config, seed  # The whole set, always: nothing to choose or draw.
  images, labels = _digits_arrays()
  return ArraySource(images, labels, num_classes=10)


# ---------------------------------------------------------------------------------------
# ring and grid: 2-D mixtures of Gaussians.


def mixture_means(data_config) -> np.ndarray:
  """The (K, 2) float32 mode means of the `ring` or `grid` source of `data_config`.

  ring: `num_modes` means on a circle of `radius`, at angles 2*pi*i/num_modes.
  grid: the 25 points of {-4, -2, 0, 2, 4}^2, ordered by x, then y.
  """
  if data_config.name == 'ring':
    if data_config.num_modes < 1:
      raise ValueError(f'config.data.num_modes={data_config.num_modes} must be >= 1.')
    angles = 2.0 * np.pi * np.arange(data_config.num_modes) / data_config.num_modes
    means = data_config.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
  elif data_config.name == 'grid':
    values = np.arange(-4.0, 5.0, 2.0)
    means = np.stack(np.meshgrid(values, values, indexing='ij'), axis=-1).reshape(-1, 2)
  else:
    raise ValueError(f'mixture_means: config.data.name={data_config.name!r} is not a '
                     f'mixture; known mixtures: grid, ring.')
  return means.astype(np.float32)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
  """SplitMix64's finaliser: a bijective scramble of uint64 words."""
  z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
  z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
  return z ^ (z >> np.uint64(31))


def counter_uniforms(seed: int, indices: np.ndarray, count: int) -> np.ndarray:
  """(len(indices), count) float64 uniforms in [0, 1), a pure function of (seed, index).

  Output j of index i is output 4*i + j of a SplitMix64 stream keyed by the seed: a
  counter-based generator, so any element can be drawn alone, in any order, in one
  vectorised pass (a NumPy Generator per element would cost far more;
  docs/performance.md#input-pipeline-sampling).
  """
  if count > 4:
    raise ValueError('counter_uniforms draws at most 4 numbers per index.')
  with np.errstate(over='ignore'):  # uint64 arithmetic wraps by design.
    key = _mix64(np.array([seed % 2**64], np.uint64))
    counters = (np.asarray(indices, np.uint64)[:, None] * np.uint64(4)
                + np.arange(count, dtype=np.uint64)[None, :] + np.uint64(1))
    bits = _mix64(key + counters * _GOLDEN)
  return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


class MixtureSource(DataSource):
  """Points from an equal-weight mixture of isotropic 2-D Gaussians.

  Element i is drawn from (seed, i) alone: its mode uniformly, then the Gaussian noise
  (Box-Muller). A fixed set of N points is simply indices 0..N-1; fresh samples are the
  same generator over STREAM_LENGTH indices, so a run resumed at batch k sees exactly
  the samples an uninterrupted run would have seen, and no index repeats a sample.
  """

  is_image = False
  element_shape = (2,)

  def __init__(self, means: np.ndarray, std: float, length: int, seed: int,
               is_stream: bool = False):
    if std < 0:
      raise ValueError(f'config.data.std={std} must be >= 0.')
    self.means = np.asarray(means, np.float32)
    self.std = float(std)
    self.length = int(length)
    self.seed = int(seed)
    self.is_stream = is_stream
    self.num_classes = len(self.means)

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int) -> dict:
    batch = self.gather(np.array([index]))
    return {'x': batch['x'][0], 'y': batch['y'][0]}

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    """Draws the points at `indices` in one vectorised pass."""
    del image_fn  # Points are never images.
    indices = np.asarray(indices, np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= self.length):
      raise IndexError(f'index out of range for a source of {self.length} points.')
    u = counter_uniforms(self.seed, indices, 3)
    modes = np.minimum((u[:, 0] * len(self.means)).astype(np.int32), len(self.means) - 1)
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 1]))  # log(1 - u): finite, as 1 - u > 0.
    angle = 2.0 * np.pi * u[:, 2]
    noise = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x = (self.means[modes] + self.std * noise).astype(np.float32)
    return {'x': x, 'y': modes}


def _mixture_source(data_config, seed: int) -> MixtureSource:
  means = mixture_means(data_config)
  if data_config.fresh_samples:
    return MixtureSource(means, data_config.std, STREAM_LENGTH, seed, is_stream=True)
  if data_config.num_examples < 1:
    raise ValueError(f'config.data.num_examples={data_config.num_examples} must be >= 1.')
  return MixtureSource(means, data_config.std, data_config.num_examples, seed)


def ring_source(data_config, seed: int) -> MixtureSource:
  """`num_modes` Gaussians on a circle of `radius`, each of standard deviation `std`."""
  return _mixture_source(data_config, seed)


def grid_source(data_config, seed: int) -> MixtureSource:
  """25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, each of standard deviation `std`."""
  return _mixture_source(data_config, seed)


# ---------------------------------------------------------------------------------------
# tfds: any TFDS image dataset, read through ArrayRecord random access (no TensorFlow).


class DatasetNotPreparedError(FileNotFoundError):
  """A TFDS dataset is not on disk in a random-access format, and is not downloaded here."""


class TfdsSource(DataSource):
  """An image dataset from `tfds.data_source`, with its label when it has one."""

  def __init__(self, tfds_source, image_key: str, label_key: str | None, num_classes: int,
               element_shape: tuple):
    self.source = tfds_source
    self.image_key = image_key
    self.label_key = label_key
    self.num_classes = num_classes
    self.element_shape = element_shape

  def __len__(self) -> int:
    return len(self.source)

  # gather() is the base class's, record by record, not TFDS's batched __getitems__:
  # decoding dominates either way, and the __getitems__ of tfds.testing.mock_data is
  # broken in TFDS 4.9, so a batched path could not be tested.
  def __getitem__(self, index: int) -> dict:
    record = self.source[index]
    label = record[self.label_key] if self.label_key else -1
    return {'x': np.asarray(record[self.image_key], np.uint8), 'y': np.int32(label)}


def _tfds_is_prepared(tfds, name: str, data_dir: str | None) -> bool:
  try:
    return tfds.builder(name, data_dir=data_dir).is_prepared()
  except Exception:  # pylint: disable=broad-except
    return False


def tfds_source(data_config, seed: int) -> TfdsSource:
  """Split `data.split` of the TFDS image dataset `data.tfds_name`, from `data.data_dir`.

  Never downloads: a training run should not start a multi-gigabyte download on every
  host at once (nor hang on a machine without network). A dataset that is not prepared
  as ArrayRecord raises DatasetNotPreparedError, which says how to prepare it.
  """
  del seed  # The pipeline owns the order.
  name = data_config.tfds_name
  if not name:
    raise ValueError("config.data.tfds_name is empty; set it to a TFDS dataset name, "
                     "e.g. --config.data.tfds_name=mnist.")
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  data_dir = data_config.data_dir or None
  try:
    source = tfds.data_source(name, split=data_config.split, data_dir=data_dir,
                              download=False)
  except tfds.core.DatasetNotFoundError as e:
    raise ValueError(f'config.data.tfds_name={name!r} is not a TFDS dataset '
                     f'(see `tfds.list_builders()`).') from e
  except Exception as e:  # pylint: disable=broad-except
    # TFDS reports missing data as a misleading file-format error; ask whether the
    # dataset is there at all, and keep TFDS's own error (bad split, TFRecord files...)
    # when it is.
    if _tfds_is_prepared(tfds, name, data_dir):
      raise
    where = data_dir or tfds.core.constants.DATA_DIR
    raise DatasetNotPreparedError(
        f'TFDS dataset {name!r} is not prepared in data_dir {where!r} (config.data.data_dir), '
        f'and gan_jax never downloads during a run. On a machine with internet, prepare it '
        f'in the random-access ArrayRecord format with\n'
        f'  tfds build {name} --data_dir={where} --file_format=array_record\n'
        f'or in Python: tfds.builder({name!r}, data_dir={where!r}, '
        f"file_format='array_record').download_and_prepare()\n"
        f'(copying the folder here if you prepared it elsewhere).') from e

  features = source.dataset_info.features
  image_keys = [key for key, feature in features.items()
                if isinstance(feature, tfds.features.Image)]
  if not image_keys:
    raise ValueError(f'TFDS dataset {name!r} has no image feature (features: '
                     f'{", ".join(features.keys())}); the tfds source reads images.')
  image_key = 'image' if 'image' in image_keys else image_keys[0]
  label = features['label'] if 'label' in features.keys() else None
  labeled = isinstance(label, tfds.features.ClassLabel)
  shape = tuple(None if d is None else int(d) for d in features[image_key].shape)
  return TfdsSource(source, image_key, 'label' if labeled else None,
                    label.num_classes if labeled else 0, shape)


# ---------------------------------------------------------------------------------------
# npz, idx, folder: files on disk, loaded into memory.


def _require_path(data_config, field: str = 'path') -> pathlib.Path:
  value = data_config[field]
  if not value:
    raise ValueError(f'config.data.{field} is empty; the {data_config.name!r} source '
                     f'reads its data from that path.')
  path = pathlib.Path(os.path.expanduser(value))
  if not path.exists():
    raise FileNotFoundError(f'{path} (config.data.{field}) does not exist.')
  return path


def npz_source(data_config, seed: int) -> ArraySource:
  """Arrays from the .npz file `data.path`: `x` and optionally integer labels `y`.

  `x` is either uint8 images, (N, H, W) or (N, H, W, C) with C = 1 or 3 and values
  0..255, or float points (N, D), e.g. (N, 2) for 2-D experiments. Images stored as
  floats are rejected rather than guessed at: scale them to uint8 0..255 first.
  """
  del seed
  path = _require_path(data_config)
  try:
    with np.load(path, allow_pickle=False) as arrays:
      contents = {key: arrays[key] for key in arrays.files}
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f'{path} is not a readable .npz file: {e}') from e
  if 'x' not in contents:
    raise ValueError(f'{path} has no array named "x" (it has: {", ".join(contents) or "none"}); '
                     f'expected x of uint8 images (N, H, W[, C]) or float points (N, D).')
  x = contents['x']
  if x.dtype == np.uint8:
    x = _as_images(x, str(path))
  elif np.issubdtype(x.dtype, np.floating) and x.ndim == 2:
    x = x.astype(np.float32)
  else:
    raise ValueError(f'{path}: x has dtype {x.dtype} and shape {x.shape}; expected uint8 '
                     f'images (N, H, W[, C]) or float points (N, D).')
  if len(x) == 0:
    raise ValueError(f'{path}: x holds no examples.')
  y, num_classes = None, 0
  if 'y' in contents:
    y = contents['y']
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
      raise ValueError(f'{path}: y must be {len(x)} non-negative integer labels, one per '
                       f'x; got dtype {y.dtype} and shape {y.shape}.')
    num_classes = int(y.max()) + 1
  return ArraySource(x, y, num_classes)


def _read_idx(path: pathlib.Path, magic: int) -> np.ndarray:
  """The uint8 array of an IDX file (gzip-compressed or not), checked against `magic`."""
  raw = path.read_bytes()
  if raw[:2] == b'\x1f\x8b':
    try:
      raw = gzip.decompress(raw)
    except (OSError, EOFError) as e:
      raise ValueError(f'{path}: gzip data is corrupt: {e}') from e
  found = int.from_bytes(raw[:4], 'big') if len(raw) >= 4 else None
  if found != magic:
    raise ValueError(f'{path}: IDX magic number is {found}, expected {magic} '
                     f'({"images" if magic == _IDX_IMAGES_MAGIC else "labels"}, uint8).')
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise ValueError(f'{path}: truncated IDX header.')
  shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], 'big') for k in range(ndim))
  if len(raw) - header != math.prod(shape):
    raise ValueError(f'{path}: IDX header gives shape {shape} ({math.prod(shape)} bytes), '
                     f'but the file holds {len(raw) - header} bytes of data.')
  return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


# Where Debian and Ubuntu's `dataset-fashion-mnist` package installs Fashion-MNIST's
# four IDX files: the idx source's folder when config.data.path is empty.
DEFAULT_IDX_FOLDER = pathlib.Path('/usr/share/datasets/fashion-mnist')

# config.data.split -> the prefix of the MNIST/Fashion-MNIST file names of that split.
IDX_SPLITS = {'train': 'train', 'test': 't10k'}


def _idx_file(folder: pathlib.Path, stem: str) -> pathlib.Path | None:
  """`folder/stem`, plain or with `.gz`, whichever exists (plain first), else None."""
  for name in (stem, stem + '.gz'):
    if (folder / name).is_file():
      return folder / name
  return None


def _idx_split_files(folder: pathlib.Path, split: str, default_folder: bool
                     ) -> tuple[pathlib.Path, pathlib.Path | None]:
  """(images, labels or None) of split `split` in an MNIST-format folder."""
  if split not in IDX_SPLITS:
    raise ValueError(f'config.data.split={split!r} is not a split of the IDX folder '
                     f'{folder}; known: {", ".join(IDX_SPLITS)} (test reads the t10k files).')
  prefix = IDX_SPLITS[split]
  images_stem, labels_stem = f'{prefix}-images-idx3-ubyte', f'{prefix}-labels-idx1-ubyte'
  images = _idx_file(folder, images_stem)
  if images is None:
    where = (f'config.data.path is empty, so the idx source looked in {folder}, where '
             f"Debian/Ubuntu's dataset-fashion-mnist package installs Fashion-MNIST"
             if default_folder else f'{folder} (config.data.path) is a folder')
    raise FileNotFoundError(
        f'{where}, but it holds no {images_stem}[.gz] (split {split!r}, '
        f'config.data.split). Set config.data.path to an IDX image file or to a folder of '
        f'the standard MNIST/Fashion-MNIST files ({", ".join(IDX_SPLITS.values())}'
        f'-images-idx3-ubyte[.gz] and -labels-idx1-ubyte[.gz]).')
  return images, _idx_file(folder, labels_stem)


def idx_source(data_config, seed: int) -> ArraySource:
  """MNIST-format IDX images and labels: from one file, or one split of a folder.

  `data.path` is either an IDX image file, with labels from the IDX file
  `data.labels_path` when that is set, or a folder of the standard MNIST/Fashion-MNIST
  file names (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-...), of which
  `data.split` picks 'train' or 'test' (t10k); a folder's labels are found by name
  (`data.labels_path`, when set, takes their place) and the split is unlabelled when
  its labels file is missing. An empty `data.path` reads the folder DEFAULT_IDX_FOLDER,
  where Debian/Ubuntu's dataset-fashion-mnist package puts Fashion-MNIST. Any file may
  be gzip-compressed (detected from its first bytes, not its name).
  """
  del seed
  labels_path = None
  if not data_config.path:
    path, labels_path = _idx_split_files(DEFAULT_IDX_FOLDER, data_config.split, True)
  else:
    path = _require_path(data_config)
    if path.is_dir():
      path, labels_path = _idx_split_files(path, data_config.split, False)
  images = _as_images(_read_idx(path, _IDX_IMAGES_MAGIC), str(path))
  if len(images) == 0:
    raise ValueError(f'{path}: the IDX file holds no images.')
  if data_config.labels_path:
    labels_path = _require_path(data_config, 'labels_path')
  if labels_path is None:
    return ArraySource(images)
  labels = _read_idx(labels_path, _IDX_LABELS_MAGIC)
  if len(labels) != len(images):
    raise ValueError(f'{labels_path} holds {len(labels)} labels, but {path} holds '
                     f'{len(images)} images.')
  return ArraySource(images, labels, num_classes=int(labels.max()) + 1)


class BadImageError(ValueError):
  """An image file that cannot be decoded (not an image, truncated, corrupt)."""


def read_image(path, mode: str = 'RGB', size: tuple[int, int] | None = None) -> np.ndarray:
  """The pixels of the image file `path` as uint8, converted to the PIL `mode` ('RGB',
  'L') and resized to `size` (width, height) when given.

  A file that PIL cannot decode is a BadImageError naming it: the whole file is decoded
  here, so a truncated or garbled one fails now, not in the middle of a run.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    with Image.open(path) as image:
      image = image.convert(mode)
      if size:
        image = image.resize(size, Image.BILINEAR)
      return np.asarray(image, np.uint8)
  except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
    raise BadImageError(f'{path}: not a readable image ({type(e).__name__}: {e}).') from e


def _image_files(folder: pathlib.Path) -> list[pathlib.Path]:
  return sorted(p for p in folder.iterdir()
                if p.is_file() and not p.name.startswith('.')
                and p.suffix.lower() in IMAGE_EXTENSIONS)


def folder_source(data_config, seed: int) -> ArraySource:
  """Every image in the folder `data.path`, loaded into memory with PIL.

  Images may sit in the folder itself (unlabeled) or in one level of class subfolders
  (labels 0.. in sorted order of the subfolder names), not both. They are converted to
  RGB, or to one channel when `data.grayscale` is set, and resized to
  `data.image_size` squared when that is set (A|B pairs, `data.pairs=side_by_side`, to
  two such squares side by side); otherwise all must share one size. A file that cannot
  be decoded is a BadImageError naming it, or, with `data.skip_bad_images`, skipped and
  counted in a warning (and in the source's `skipped_files`).
  """
  del seed
  root = _require_path(data_config)
  if not root.is_dir():
    raise NotADirectoryError(f'{root} (config.data.path) is not a folder of images.')
  loose = _image_files(root)
  classes = sorted(p for p in root.iterdir()
                   if p.is_dir() and not p.name.startswith('.') and _image_files(p))
  if loose and classes:
    raise ValueError(f'{root} holds both images and class subfolders ({classes[0].name}, ...); '
                     f'put every image in a class subfolder, or none.')
  files = [(p, label) for label, folder in enumerate(classes) for p in _image_files(folder)]
  files = files or [(p, -1) for p in loose]
  if not files:
    raise ValueError(f'{root} holds no images ({", ".join(IMAGE_EXTENSIONS)}), neither '
                     f'directly nor in class subfolders.')

  size, mode = data_config.image_size, 'L' if data_config.grayscale else 'RGB'
  # A|B pairs (data.pairs=side_by_side) are two squares side by side.
  wide = data_config.get('pairs', '') == 'side_by_side'
  images, labels, skipped = [], [], []
  first_path = None  # The first readable image, whose size every other must share.
  for path, label in files:
    try:
      array = read_image(path, mode, (2 * size if wide else size, size) if size else None)
    except BadImageError as e:
      if not data_config.get('skip_bad_images', False):
        raise BadImageError(f'{e} Remove it, or set config.data.skip_bad_images=True to '
                            f'skip unreadable files.') from e
      skipped.append(path)
      continue
    if first_path is None:
      first_path = path
    elif array.shape != images[0].shape:
      raise ValueError(f'{path} is {array.shape[1]}x{array.shape[0]} but {first_path} is '
                       f'{images[0].shape[1]}x{images[0].shape[0]}; set config.data.image_size '
                       f'to resize every image to one size.')
    images.append(array)
    labels.append(label)
  if skipped:
    logging.warning('Skipped %d unreadable image files of %d in %s '
                    '(config.data.skip_bad_images): %s%s', len(skipped), len(files), root,
                    ', '.join(str(p) for p in skipped[:5]), ', ...' if len(skipped) > 5 else '')
  if not images:
    raise ValueError(f'{root}: none of its {len(files)} image files is readable.')
  source = ArraySource(_as_images(np.stack(images), str(root)), np.array(labels, np.int32),
                       num_classes=len(classes))
  source.skipped_files = skipped
  return source


# ---------------------------------------------------------------------------------------
# The registry.

SOURCES = {
    'digits': digits_source,
    'ring': ring_source,
    'grid': grid_source,
    'tfds': tfds_source,
    'npz': npz_source,
    'idx': idx_source,
    'folder': folder_source,
    'photos': lambda data_config, seed: _photos().photo_patches_source(data_config, seed),
}


def _photos():
  # Imported on use: it imports this module (ArraySource) and scikit-image.
  from gan_jax.data import photos  # pylint: disable=g-import-not-at-top
  return photos


def make_source(data_config, seed: int) -> DataSource:
  """The source named by `data_config.name`; `seed` draws generated data (ring, grid).

  With `data.pairs` set, its images become (source, target) pairs (`paired.py`).
  """
  from gan_jax.data import paired  # pylint: disable=g-import-not-at-top
  builder = SOURCES.get(data_config.name)
  if builder is None:
    raise ValueError(f'config.data.name={data_config.name!r} is unknown; known: '
                     f'{", ".join(sorted(SOURCES))}.')
  paired.check_pairs(data_config)
  return paired.make_paired_source(builder(data_config, seed), data_config)
