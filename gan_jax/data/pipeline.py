"""The input pipeline: an endless, resumable stream of preprocessed batches from a source.

Global batch k (all processes together) is a pure function of (seed, k): which examples
it holds (a fresh permutation of the whole source every epoch; fresh-sample sources in
order), how they are flipped, and how they are scaled. Process p of P reads only its
rows p*b .. (p+1)*b - 1 of it (b = the per-process batch), so the global batch, and
therefore training, is the same whatever the number of processes. grain serves batch k through a
`MapDataset`, so its iterator's position (`{'next_index': k}` in one process) is the
whole state a checkpoint needs, and `mp_prefetch` can move the work into worker
processes (`data.num_workers`) without changing a single batch.

Why the sampling is not grain's `shuffle`/`batch`: grain shuffles one index at a time
and batches element by element, which for small images took longer than the whole
training step on a CPU; a NumPy permutation per epoch and one vectorised read per batch
cost a small fraction of it (docs/performance.md#input-pipeline-sampling).
"""

import sys

from absl import flags
import grain
import numpy as np

# Mixed into the flip and crop generators' seeds, so they never coincide with the permutation's.
_FLIP_STREAM = 1
_CROP_STREAM = 2
_ROTATE_STREAM = 3
# The image arrays of a batch: the images, and the source images of paired data
# (`data.pairs`), which get the same resize, crop and flip.
IMAGE_KEYS = ('x', 'src')


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
  """A uint8 (H, W, C) image resized to (size, size, C), bilinear with antialiasing."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  if image.shape[:2] == (size, size):
    return image
  gray = image.shape[-1] == 1
  picture = Image.fromarray(image[..., 0] if gray else image)
  resized = np.asarray(picture.resize((size, size), Image.BILINEAR), np.uint8)
  return resized[..., None] if gray else resized


def _seed_word(seed: int) -> int:
  # SeedSequence wants non-negative entropy; any int, negative included, is accepted.
  return seed % 2**64


class BatchReader:
  """Batch k of one process's shard, preprocessed; random access, so grain can serve it.

  Picklable (no closures), which `mp_prefetch` worker processes require.
  """

  def __init__(self, source, batch_size: int, seed: int, shard_index: int,
               shard_count: int, image_size: int, random_flip: bool, crop_size: int = 0,
               random_crop: bool = True, random_rot90: bool = False):
    self.source = source
    self.batch_size = batch_size
    self.seed = _seed_word(seed)
    self.shard_index = shard_index
    self.shard_count = shard_count
    self.image_size = image_size
    self.random_flip = random_flip and source.is_image
    # Crops of crop_size: at random offsets in training, centred for reference sets.
    self.crop_size = int(crop_size) if source.is_image else 0
    self.random_crop = random_crop
    self.random_rot90 = random_rot90 and source.is_image
    # Paired sources whose 'src' is made from the augmented target (super-resolution's
    # bicubic LR): the resize, crop, flip and rotation act on 'x' alone, then 'src' is made.
    self.derives_source = getattr(source, 'derives_source', False)
    self.is_stream = getattr(source, 'is_stream', False)
    self.global_batch_size = batch_size * shard_count
    self._permutations = {}

  def __len__(self) -> int:
    return sys.maxsize  # Endless: epochs follow one another inside the stream.

  def _permutation(self, epoch: int) -> np.ndarray:
    if epoch not in self._permutations:
      # Every process draws the same permutation, so their rows never overlap and the
      # order depends on nothing but (seed, epoch).
      rng = np.random.default_rng([self.seed, epoch])
      if len(self._permutations) >= 2:  # A batch mostly spans one or two epochs.
        self._permutations.clear()
      self._permutations[epoch] = rng.permutation(len(self.source))
    return self._permutations[epoch]

  def _rows(self) -> slice:
    """This process's rows of a global batch."""
    start = self.shard_index * self.batch_size
    return slice(start, start + self.batch_size)

  def indices(self, batch_index: int) -> np.ndarray:
    """Source indices of this process's rows of global batch `batch_index`."""
    positions = (batch_index * self.global_batch_size + self.shard_index * self.batch_size
                 + np.arange(self.batch_size, dtype=np.int64))
    if self.is_stream:
      return positions % len(self.source)
    epochs, offsets = np.divmod(positions, len(self.source))
    indices = np.empty_like(positions)
    for epoch in np.unique(epochs):
      chosen = epochs == epoch
      indices[chosen] = self._permutation(int(epoch))[offsets[chosen]]
    return indices

  def __getitem__(self, batch_index: int) -> dict:
    indices = self.indices(batch_index)
    image_fn = None
    if self.image_size and self.source.is_image:
      image_fn = lambda image: resize_image(image, self.image_size)  # noqa: E731
    if self.derives_source:
      batch = self.source.gather(indices, image_fn=image_fn, with_source=False)
    else:
      batch = self.source.gather(indices, image_fn=image_fn)
    if not self.source.is_image:
      return {'x': np.asarray(batch['x'], np.float32), 'y': batch['y']}
    keys = [key for key in IMAGE_KEYS if key in batch]
    if self.crop_size:
      batch.update(self._crop({key: batch[key] for key in keys}, batch_index))
    if self.random_flip:
      # Drawn for the whole global batch, then sliced: the same flips for any process count.
      rng = np.random.default_rng([self.seed, 0, batch_index, _FLIP_STREAM])
      flip = rng.random(self.global_batch_size)[self._rows()] < 0.5
      for key in keys:
        batch[key] = np.where(flip[:, None, None, None], batch[key][:, :, ::-1], batch[key])
    if self.random_rot90:
      batch.update(self._rotate({key: batch[key] for key in keys}, batch_index))
    if self.derives_source:
      batch['src'] = self.source.make_source_images(batch['x'])
      keys.append('src')
    # uint8 0..255 -> float32 -1..1, the range of the generator's tanh output.
    for key in keys:
      batch[key] = batch[key].astype(np.float32) * np.float32(1 / 127.5) - np.float32(1.0)
    return batch

  def _rotate(self, images: dict, batch_index: int) -> dict:
    """Each example rotated by a random multiple of 90 degrees, the same for all `images`
    arrays (with flips: the 8 symmetries of the square). Square images only."""
    height, width = next(iter(images.values())).shape[1:3]
    if height != width:
      raise ValueError(f'config.data.random_rot90 rotates images by 90 degrees, which needs '
                       f'square images; got {height}x{width}.')
    rng = np.random.default_rng([self.seed, 0, batch_index, _ROTATE_STREAM])
    turns = rng.integers(0, 4, self.global_batch_size)[self._rows()]
    return {key: np.stack([np.rot90(image, int(k)) for image, k in zip(array, turns)])
            for key, array in images.items()}

  def _crop(self, images: dict, batch_index: int) -> dict:
    """Crops of crop_size squared, at one offset per example shared by all `images` arrays."""
    size = self.crop_size
    height, width = next(iter(images.values())).shape[1:3]
    if size > min(height, width):
      raise ValueError(f'config.data.crop_size={size} is larger than the {height}x{width} '
                       'images (after data.image_size).')
    count = len(next(iter(images.values())))
    if self.random_crop:
      rng = np.random.default_rng([self.seed, 0, batch_index, _CROP_STREAM])
      tops = rng.integers(0, height - size + 1, self.global_batch_size)[self._rows()]
      lefts = rng.integers(0, width - size + 1, self.global_batch_size)[self._rows()]
    else:
      tops = np.full(count, (height - size) // 2)
      lefts = np.full(count, (width - size) // 2)
    return {key: np.stack([image[t:t + size, l:l + size]
                           for image, t, l in zip(array, tops, lefts)])
            for key, array in images.items()}


class Pipeline:
  """Iterator of batches {'x': float32 (batch_size, ...), 'y': int32 (batch_size,)}.

  `get_state()` is a small JSON-serialisable dict; a new pipeline built with the same
  arguments and given that dict by `set_state` continues with exactly the batches the
  first one would have produced next.
  """

  def __init__(self, reader: BatchReader, element_shape: tuple, num_workers: int):
    self.reader = reader
    self.element_shape = element_shape
    # No threads and no read-ahead: a batch is computed when asked for, which in one
    # process costs little next to a step; with workers, each keeps one batch ready, where
    # grain's default read-ahead (500 elements) would hold 500 batches per worker.
    dataset = grain.MapDataset.source(reader).to_iter_dataset(
        grain.ReadOptions(num_threads=0, prefetch_buffer_size=0))
    if num_workers > 0:
      # grain's worker processes read an absl flag directly, which fails when no absl
      # app parsed the command line (tests, notebooks); its default is what we want.
      if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
      dataset = dataset.mp_prefetch(grain.MultiprocessingOptions(num_workers=num_workers))
    self._iterator = iter(dataset)
    self._in_shared_memory = num_workers > 0

  def __iter__(self):
    return self

  def __next__(self) -> dict:
    batch = next(self._iterator)
    if self._in_shared_memory:
      # Worker processes hand batches over in shared memory blocks; copying them out
      # frees each block at once instead of whenever (or, at exit, if) the array dies.
      batch = {key: np.array(value) for key, value in batch.items()}
    return batch

  def get_state(self) -> dict:
    """The position in the stream, as a JSON-serialisable dict."""
    return self._iterator.get_state()

  def set_state(self, state: dict) -> None:
    """Moves to the position `state` saved by `get_state` of an identical pipeline."""
    self._iterator.set_state(state)

  def close(self) -> None:
    """Stops worker processes, if any (they are also stopped at garbage collection)."""
    close = getattr(self._iterator, 'close', None)
    if close is not None:
      close()


def make_pipeline(source, data_config, batch_size: int, seed: int, shard_index: int = 0,
                  shard_count: int = 1) -> Pipeline:
  """An endless stream of batches of `batch_size` examples from this process's shard.

  `batch_size` is per process. Process `shard_index` of `shard_count` reads its rows
  (shard_index * batch_size onwards) of every global batch of `batch_size * shard_count`
  examples; all processes must pass the same `seed`. Images become float32 in [-1, 1],
  resized to `data.image_size` squared when set, cropped to `data.crop_size` squared at
  a random offset when set (pix2pix's jitter), flipped left-right with probability 1/2
  when `data.random_flip`, rotated by a random multiple of 90 degrees when
  `data.random_rot90`; points pass through as float32. Paired data's source images
  ('src') get the same resize, crop, flip and rotation as their targets ('x'), or, for
  operators that shrink them (bicubic_x4), are made from the augmented targets. The result's
  `element_shape` is one preprocessed example's shape (the target's, for pairs).
  """
  if batch_size < 1:
    raise ValueError(f'The per-process batch size must be >= 1, got {batch_size}.')
  if not 0 <= shard_index < shard_count:
    raise ValueError(f'shard_index={shard_index} must be in [0, shard_count={shard_count}).')
  if len(source) < shard_count:
    raise ValueError(f'The source holds {len(source)} examples, fewer than the '
                     f'{shard_count} processes that must each read a shard of it.')
  if data_config.image_size < 0:
    raise ValueError(f'config.data.image_size={data_config.image_size} must be >= 0.')
  if data_config.num_workers < 0:
    raise ValueError(f'config.data.num_workers={data_config.num_workers} must be >= 0.')

  element_shape = tuple(source.element_shape)
  if source.is_image and data_config.image_size:
    element_shape = (data_config.image_size, data_config.image_size, element_shape[-1])
  if None in element_shape:
    raise ValueError(f'The images of this dataset vary in size {element_shape}; set '
                     f'config.data.image_size to resize them to one size.')
  crop_size = int(data_config.crop_size)
  if crop_size < 0:
    raise ValueError(f'config.data.crop_size={crop_size} must be >= 0 (0 = no crop).')
  if source.is_image and crop_size:
    element_shape = (crop_size, crop_size, element_shape[-1])
  if getattr(source, 'derives_source', False) and crop_size % 4:
    raise ValueError(f'config.data.crop_size={crop_size} must be a multiple of 4 with '
                     f'config.data.pairs={data_config.pairs!r}, which shrinks the crops 4x.')
  reader = BatchReader(source, batch_size, seed, shard_index, shard_count,
                       data_config.image_size, data_config.random_flip, crop_size,
                       random_rot90=bool(data_config.get('random_rot90', False)))
  return Pipeline(reader, element_shape, data_config.num_workers)


def read_examples(source, data_config, count: int, seed: int) -> dict:
  """`count` distinct examples (all of them if fewer), preprocessed as in training,
  unflipped and centre-cropped.

  The reference set of evaluation metrics: a seeded random subset, so that it does not
  follow the source's (often class-sorted) order, and the same for every checkpoint.
  """
  count = min(int(count), len(source))
  reader = BatchReader(source, count, seed, 0, 1, data_config.image_size, random_flip=False,
                       crop_size=int(data_config.crop_size), random_crop=False)
  return reader[0]
