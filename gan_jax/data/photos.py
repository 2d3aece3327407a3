"""Offline colour photographs, cut into random square patches (`config.data.name='photos'`).

No download: the training photographs ship with scikit-image (`skimage.data`), and the
held-out test photographs with scikit-learn (`sklearn.datasets.load_sample_image`). The
two sets share no image, so test patches never contain a training pixel.

  load_train_photos(photo_set='colour') -> [uint8 (H, W, 3)]   the PHOTO_SETS[photo_set]
  load_test_photos() -> {name: uint8 (H, W, 3)}     the TEST_PHOTOS
  random_patch_positions(shapes, count, size, seed) -> (photo_index, top, left)
  random_patches(photos, count, size, seed) -> uint8 (count, size, size, 3)
  folder_patches(folder, count, size, seed) -> uint8 patches of the images in a folder
  photo_patches_source(data_config, seed) -> ArraySource of patches, unlabelled

A patch is uniform over every (photo, top-left corner) pair at which it fits: the
photo is picked with probability proportional to its number of patch positions, so a
big photograph is sampled as densely as a small one.
"""

import functools
import os
import pathlib

import numpy as np

from gan_jax.data import sources
from gan_jax.data.sources import ArraySource

# The natural colour photographs of skimage.data. Left out: 'cat', which is the same
# array as 'chelsea' (it would count that photo twice), and 'colorwheel', a rendered
# hue/saturation chart with no photographic texture or noise. The grey photographs
# ('camera', 'coins', 'moon', ...) are not in this colour set (see GREY_PHOTOS). Also
# left out: 'retina' and 'hubble_deep_field', mostly black (the fundus border, the night
# sky) and so large that, with patches drawn in proportion to the positions a photo
# offers, they would give three quarters of the patches, most of them near-black.
TRAIN_PHOTOS = ('astronaut', 'coffee', 'chelsea', 'rocket', 'immunohistochemistry')

# More photographs of the same wheel, for super-resolution, whose metrics read the luma
# only: the left view of 'stereo_motorcycle' (a colour photograph; the right view is the
# same scene) and five grey photographs with fine texture, stacked to three equal
# channels ('camera', 'brick', 'grass', 'gravel', 'coins'; 'moon' is mostly smooth, 'page'
# and 'text' are scans of print). Not the default: a colour domain (CycleGAN's photos)
# must not hold grey pictures.
MORE_COLOUR_PHOTOS = ('stereo_motorcycle',)
GREY_PHOTOS = ('camera', 'brick', 'grass', 'gravel', 'coins')

# config.data.photo_set -> the skimage.data photographs it trains on.
PHOTO_SETS = {
    'colour': TRAIN_PHOTOS,
    'colour_and_grey': TRAIN_PHOTOS + MORE_COLOUR_PHOTOS + GREY_PHOTOS,
}

# scikit-learn's two sample photographs: held out, never trained on.
TEST_PHOTOS = ('china.jpg', 'flower.jpg')

# Used when config.data.num_examples / patch_size are 0 or absent.
DEFAULT_NUM_PATCHES = 20_000
DEFAULT_PATCH_SIZE = 64


def _checked_rgb(image, name: str) -> np.ndarray:
  """`image` as read-only uint8 (H, W, 3), else a ValueError naming the photo."""
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f'photo {name!r}: expected uint8 (H, W, 3), got {image.dtype} '
                     f'{image.shape}.')
  image = image.copy()
  image.setflags(write=False)  # Shared through the cache: nobody may alter it.
  return image


def _skimage_photo(name: str) -> np.ndarray:
  """skimage.data's photograph `name` as uint8 RGB: a stereo pair's left view, grey stacked."""
  from skimage import data  # pylint: disable=g-import-not-at-top
  image = getattr(data, name)()
  if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity).
    image = image[0]
  if name in GREY_PHOTOS:
    image = np.repeat(np.asarray(image)[..., None], 3, axis=-1)
  return _checked_rgb(image, name)


@functools.lru_cache(maxsize=None)
def _train_arrays(photo_set: str) -> tuple:
  # Cached: decoding the photos takes a noticeable fraction of a second.
  if photo_set not in PHOTO_SETS:
    raise ValueError(f'config.data.photo_set={photo_set!r}: expected one of '
                     f'{sorted(PHOTO_SETS)}.')
  return tuple(_skimage_photo(name) for name in PHOTO_SETS[photo_set])


@functools.lru_cache(maxsize=1)
def _test_arrays() -> tuple:
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  return tuple(_checked_rgb(datasets.load_sample_image(name), name) for name in TEST_PHOTOS)


def load_train_photos(photo_set: str = 'colour') -> list[np.ndarray]:
  """The photographs of PHOTO_SETS[photo_set], in that order, as read-only uint8 (H, W, 3)."""
  return list(_train_arrays(photo_set))


def load_test_photos() -> dict[str, np.ndarray]:
  """The held-out TEST_PHOTOS of scikit-learn, by name, as read-only uint8 (H, W, 3)."""
  return dict(zip(TEST_PHOTOS, _test_arrays()))


def random_patch_positions(shapes, count: int, size: int, seed: int
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(photo_index, top, left), int64 (count,) each: corners of random size x size patches.

  `shapes` are the photos' shapes, (H, W[, C]). Each patch is uniform over all
  (photo, corner) pairs where it fits, which is the same as picking photo i with
  probability proportional to its (H_i - size + 1) (W_i - size + 1) positions and then
  a uniform corner. One integer draw per patch from np.random.default_rng(seed), so the
  positions are a pure function of the arguments.
  """
  size, count = int(size), int(count)
  if size < 1:
    raise ValueError(f'size={size} must be >= 1.')
  if count < 0:
    raise ValueError(f'count={count} must be >= 0.')
  hw = np.array([tuple(s)[:2] for s in shapes], np.int64).reshape(-1, 2)
  spans = np.maximum(hw - size + 1, 0)  # Valid corners along H and W per photo.
  positions = spans[:, 0] * spans[:, 1]
  total = int(positions.sum())
  if total == 0:
    sizes = ', '.join(f'{h}x{w}' for h, w in hw) or 'none'
    raise ValueError(f'size={size}: a {size}x{size} patch fits in none of the photos '
                     f'(H x W: {sizes}).')
  flat = np.random.default_rng(seed).integers(0, total, size=count, dtype=np.int64)
  ends = np.cumsum(positions)
  # side='right' skips photos with no position (their end equals the previous one).
  photo = np.searchsorted(ends, flat, side='right')
  offset = flat - (ends[photo] - positions[photo])
  top, left = np.divmod(offset, spans[photo, 1])
  return photo.astype(np.int64), top, left


def random_patches(photos, count: int, size: int, seed: int) -> np.ndarray:
  """`count` random size x size patches of `photos` (HWC arrays of one channel count).

  Positions are `random_patch_positions(shapes, count, size, seed)`; the result has the
  photos' dtype, shape (count, size, size, C).
  """
  photos = [np.asarray(p) for p in photos]
  if not photos or any(p.ndim != 3 for p in photos):
    raise ValueError(f'photos: expected one or more (H, W, C) arrays, got shapes '
                     f'{[p.shape for p in photos]}.')
  channels = {p.shape[-1] for p in photos}
  if len(channels) != 1:
    raise ValueError(f'photos: all must have one number of channels, got shapes '
                     f'{[p.shape for p in photos]}.')
  photo, top, left = random_patch_positions([p.shape for p in photos], count, size, seed)
  patches = np.empty((int(count), int(size), int(size), channels.pop()), photos[0].dtype)
  for i, image in enumerate(photos):
    chosen = np.flatnonzero(photo == i)
    if chosen.size:
      # A view of every window, (H', W', C, size, size): one fancy index cuts them all.
      windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
      patches[chosen] = windows[top[chosen], left[chosen]].transpose(0, 2, 3, 1)
  return patches


def folder_patches(folder, count: int, size: int, seed: int) -> np.ndarray:
  """`count` random size x size RGB patches of the images in `folder` (any sizes, e.g. DIV2K).

  Positions are drawn as `random_patch_positions` from the images' sizes, read from
  their headers; then each image is decoded once, at native resolution, and its patches
  cut, so a folder larger than memory (DIV2K: 6.6 GB decoded) never sits there whole.
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top
  folder = pathlib.Path(os.path.expanduser(str(folder)))
  if not folder.is_dir():
    raise NotADirectoryError(f'{folder} (config.data.path) is not a folder of photos.')
  files = sources._image_files(folder)  # pylint: disable=protected-access
  if not files:
    raise ValueError(f'{folder} (config.data.path) holds no images '
                     f'({", ".join(sources.IMAGE_EXTENSIONS)}).')
  shapes = []
  for path in files:
    try:
      with Image.open(path) as image:  # The header only: the size.
        shapes.append((image.height, image.width))
    except (OSError, SyntaxError, ValueError) as e:
      raise sources.BadImageError(f'{path}: not a readable image ({type(e).__name__}: '
                                  f'{e}).') from e
  photo, top, left = random_patch_positions(shapes, count, size, seed)
  patches = np.empty((int(count), int(size), int(size), 3), np.uint8)
  for i in np.unique(photo):
    array = sources.read_image(files[i])
    for j in np.flatnonzero(photo == i):
      patches[j] = array[top[j]:top[j] + size, left[j]:left[j] + size]
  return patches


def photo_patches_source(data_config, seed: int) -> ArraySource:
  """`data.num_examples` random `data.patch_size` RGB patches of the photos, unlabelled.

  Split 'train' cuts them from the photographs of PHOTO_SETS[`data.photo_set`]
  ('colour', the TRAIN_PHOTOS, when absent), or from the images in the folder
  `data.path` when it is set (`folder_patches`: DIV2K); any other split (e.g. 'test')
  from the held-out TEST_PHOTOS only. `seed` draws the positions. A missing or zero
  num_examples or patch_size means DEFAULT_NUM_PATCHES or DEFAULT_PATCH_SIZE.
  """
  count = data_config.get('num_examples', 0) or DEFAULT_NUM_PATCHES
  size = data_config.get('patch_size', 0) or DEFAULT_PATCH_SIZE
  if count < 1:
    raise ValueError(f'config.data.num_examples={count} must be >= 1 (0 means '
                     f'{DEFAULT_NUM_PATCHES}).')
  if size < 1:
    raise ValueError(f'config.data.patch_size={size} must be >= 1 (0 means '
                     f'{DEFAULT_PATCH_SIZE}).')
  split = data_config.get('split', 'train')
  folder = data_config.get('path', '')
  if split == 'train' and folder:
    return ArraySource(folder_patches(folder, count, size, seed))
  photo_set = data_config.get('photo_set', 'colour')
  photos = load_train_photos(photo_set) if split == 'train' else list(_test_arrays())
  return ArraySource(random_patches(photos, count, size, seed))
