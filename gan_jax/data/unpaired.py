"""Unpaired images for CycleGAN: two independent streams, domain A and domain B.

Domain A is the configured source (`config.data.name`, ...); `config.data.domain_b`
says where domain B comes from:

  split    the same source read with `data.split_b` (e.g. TFDS `cycle_gan/horse2zebra`:
           split trainA for A, trainB for B; reference sets: `eval.reference_split` for A
           and `eval.reference_split_b` for B).
  mnistm   the other half of the source, blended over colour photo patches as MNIST-M
           (Ganin et al. 2016): B = |patch - image| per channel, with a random patch of
           the offline photographs (`photos.py`) fixed for each example. A keeps the
           even-numbered examples and B is made from the odd-numbered ones, so no image
           appears in both domains and no pair exists.
  patches  random patches, of A's size, of the image file or folder `data.path_b` (a
           painting, for style transfer); the same for every split.

`UnpairedPipeline` serves batches {'a', 'b', 'y_a', 'y_b'}; both streams are ordinary
`Pipeline`s, so both are resumable and shard like any batch.
"""

import pathlib

import numpy as np

from gan_jax.data import pipeline as pipeline_lib
from gan_jax.data.sources import IMAGE_EXTENSIONS, ArraySource, DataSource, read_image

DOMAINS_B = ('split', 'mnistm', 'patches')
# Mixed into the seeds of domain B's stream and of its photo patches.
_DOMAIN_B_STREAM = 104729
# Patches cut from `data.path_b` for the `patches` domain.
_NUM_STYLE_PATCHES = 4096


def check_domain_b(data_config) -> None:
  """Raises a ValueError naming `config.data.domain_b` when it is unknown."""
  if data_config.domain_b not in ('', *DOMAINS_B):
    raise ValueError(f'config.data.domain_b={data_config.domain_b!r} is unknown; known: '
                     f'{", ".join(DOMAINS_B)} (or \'\' for one domain).')


def domain_b_shape(data_config, a_shape: tuple) -> tuple:
  """The shape of one domain-B image for domain-A images of `a_shape` (H, W, C)."""
  check_domain_b(data_config)
  if data_config.domain_b in ('mnistm', 'patches'):
    return (*a_shape[:2], 3)
  return tuple(a_shape)


class IndexSubset(DataSource):
  """The examples of `base` at `indices`, in that order."""

  def __init__(self, base: DataSource, indices: np.ndarray):
    self.base, self.indices = base, np.asarray(indices)
    self.is_image, self.element_shape = base.is_image, base.element_shape
    self.num_classes = base.num_classes

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, index: int) -> dict:
    return self.base[int(self.indices[index])]

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    return self.base.gather(self.indices[np.asarray(indices)], image_fn=image_fn)


def blend_over_patches(images: np.ndarray, patches: np.ndarray) -> np.ndarray:
  """MNIST-M's blend: |patch - image| per channel, uint8 (N, H, W, 3)."""
  grey = images.astype(np.int16)
  if grey.shape[-1] == 1:
    grey = np.repeat(grey, 3, axis=-1)
  return np.abs(patches.astype(np.int16) - grey).astype(np.uint8)


class BlendedSource(DataSource):
  """`base`'s images blended over a photo patch fixed per example (MNIST-M style)."""

  def __init__(self, base: DataSource, patches: np.ndarray):
    self.base, self.patches = base, patches
    self.num_classes = base.num_classes
    self.element_shape = (*base.element_shape[:2], 3)

  def __len__(self) -> int:
    return len(self.base)

  def __getitem__(self, index: int) -> dict:
    example = self.base[index]
    blended = blend_over_patches(np.asarray(example['x'])[None], self.patches[index][None])
    return {'x': blended[0], 'y': example['y']}

  def gather(self, indices: np.ndarray, image_fn=None) -> dict:
    indices = np.asarray(indices)
    batch = self.base.gather(indices)
    x = blend_over_patches(np.asarray(batch['x']), self.patches[indices])
    if image_fn is not None:
      x = np.stack([image_fn(image) for image in x])
    return {'x': x, 'y': batch['y']}


def _style_images(path: str) -> list[np.ndarray]:
  root = pathlib.Path(path)
  if not path or not root.exists():
    raise FileNotFoundError(f'config.data.path_b={path!r}: no such image file or folder '
                            '(config.data.domain_b=patches cuts domain B from it).')
  files = ([root] if root.is_file() else
           sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS))
  if not files:
    raise ValueError(f'config.data.path_b={path!r} holds no images '
                     f'({", ".join(IMAGE_EXTENSIONS)}).')
  return [read_image(file) for file in files]


def make_domains(source_a: DataSource, data_config, seed: int,
                 a_shape: tuple) -> tuple[DataSource, DataSource]:
  """(domain A, domain B) sources for `data.domain_b`, from the configured source A.

  `a_shape` is A's preprocessed image shape (B's images are made at its size).
  """
  from gan_jax.data import photos  # pylint: disable=g-import-not-at-top
  from gan_jax.data import sources  # pylint: disable=g-import-not-at-top
  check_domain_b(data_config)
  if not source_a.is_image:
    raise ValueError(f'config.data.domain_b={data_config.domain_b!r} translates images, but '
                     'the source holds points.')
  kind = data_config.domain_b
  if kind == 'split':
    b_config = data_config.copy_and_resolve_references()
    b_config.split = data_config.split_b
    return source_a, sources.make_source(b_config, seed)
  if kind == 'mnistm':
    count = len(source_a)
    a = IndexSubset(source_a, np.arange(0, count, 2))
    b_base = IndexSubset(source_a, np.arange(1, count, 2))
    # The photos of the split: the training photographs for training, the held-out ones
    # for any other split, as for `data.name=photos`.
    pictures = (photos.load_train_photos() if data_config.split == 'train'
                else list(photos.load_test_photos().values()))
    # Blended at the images' stored size; the pipeline resizes the result like A's.
    height, width = source_a.element_shape[:2]
    if height is None or height != width:
      raise ValueError('config.data.domain_b=mnistm needs square images of one size; got '
                       f'{height}x{width}.')
    patches = photos.random_patches(pictures, len(b_base), int(height),
                                    seed + _DOMAIN_B_STREAM)
    return a, BlendedSource(b_base, patches)
  height, width = a_shape[:2]
  if height != width:
    raise ValueError(f'config.data.domain_b=patches needs square images; got {height}x{width}.')
  patches = photos.random_patches(_style_images(data_config.path_b), _NUM_STYLE_PATCHES,
                                  int(height), seed + _DOMAIN_B_STREAM)
  return source_a, ArraySource(patches)


class UnpairedPipeline:
  """Batches {'a': domain A, 'b': domain B, 'y_a', 'y_b'}, from two independent streams."""

  def __init__(self, a: pipeline_lib.Pipeline, b: pipeline_lib.Pipeline):
    self.a, self.b = a, b
    self.element_shape = a.element_shape
    self.b_shape = b.element_shape

  def __iter__(self):
    return self

  def __next__(self) -> dict:
    a, b = next(self.a), next(self.b)
    return {'a': a['x'], 'b': b['x'], 'y_a': a['y'], 'y_b': b['y']}

  def get_state(self) -> dict:
    """Both streams' positions, JSON-serialisable."""
    return {'a': self.a.get_state(), 'b': self.b.get_state()}

  def set_state(self, state: dict) -> None:
    """Moves both streams to the positions saved by `get_state`."""
    self.a.set_state(state['a'])
    self.b.set_state(state['b'])

  def close(self) -> None:
    """Stops both streams' worker processes, if any."""
    self.a.close()
    self.b.close()


def preprocessed_shape(source: DataSource, data_config) -> tuple:
  """One image's shape after the pipeline's resize and crop."""
  shape = tuple(source.element_shape)
  if data_config.image_size:
    shape = (data_config.image_size, data_config.image_size, shape[-1])
  if data_config.crop_size:
    shape = (data_config.crop_size, data_config.crop_size, shape[-1])
  return shape


def make_unpaired_pipeline(source, data_config, batch_size: int, seed: int,
                           shard_index: int = 0, shard_count: int = 1) -> UnpairedPipeline:
  """Domain A's stream beside domain B's, each a `Pipeline` (arguments as `make_pipeline`)."""
  a, b = make_domains(source, data_config, seed, preprocessed_shape(source, data_config))
  return UnpairedPipeline(
      pipeline_lib.make_pipeline(a, data_config, batch_size, seed, shard_index, shard_count),
      pipeline_lib.make_pipeline(b, data_config, batch_size, seed + _DOMAIN_B_STREAM,
                                 shard_index, shard_count))


def read_domains(source, data_config, count: int, seed: int) -> tuple[dict, dict]:
  """`count` preprocessed examples of each domain (A, B), as `read_examples` reads them."""
  a, b = make_domains(source, data_config, seed, preprocessed_shape(source, data_config))
  return (pipeline_lib.read_examples(a, data_config, count, seed),
          pipeline_lib.read_examples(b, data_config, count, seed + _DOMAIN_B_STREAM))
