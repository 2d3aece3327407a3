"""Tests of gan_jax.data.photos: the photographs, the patch positions and the source."""

import ml_collections
import numpy as np
import pytest

from gan_jax.data import photos
from gan_jax.data import sources


def _config(**fields):
  """A minimal data config: photo_patches_source reads only what it is given or defaults."""
  return ml_collections.ConfigDict(fields)


def _find(patch, images):
  """(photo index, top, left) of the first exact occurrence of `patch` in `images`, or None."""
  size = patch.shape[0]
  for i, image in enumerate(images):
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
    # Candidates by the top-left pixel first: a full comparison of every window is slow.
    tops, lefts = np.nonzero(np.all(image[:1 - size or None, :1 - size or None]
                                    == patch[0, 0], axis=-1))
    for top, left in zip(tops, lefts):
      if np.array_equal(windows[top, left].transpose(1, 2, 0), patch):
        return i, int(top), int(left)
  return None


def test_photos_load_as_uint8_rgb():
  train = photos.load_train_photos()
  assert len(train) == len(photos.TRAIN_PHOTOS)
  test = photos.load_test_photos()
  assert tuple(test) == photos.TEST_PHOTOS
  for image in train + list(test.values()):
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3
  # The held-out photos are not among the training ones.
  for held_out in test.values():
    assert not any(held_out.shape == image.shape and np.array_equal(held_out, image)
                   for image in train)


def test_the_colour_and_grey_set_adds_photos_and_is_chosen_by_config():
  wider = photos.load_train_photos('colour_and_grey')
  assert len(wider) == len(photos.PHOTO_SETS['colour_and_grey'])
  colour = photos.load_train_photos()
  for image, again in zip(colour, wider):  # The colour set comes first, unchanged.
    np.testing.assert_array_equal(image, again)
  from skimage import data  # pylint: disable=g-import-not-at-top
  motorcycle = wider[len(colour)]
  np.testing.assert_array_equal(motorcycle, data.stereo_motorcycle()[0])
  camera = wider[photos.PHOTO_SETS['colour_and_grey'].index('camera')]
  assert camera.shape == data.camera().shape + (3,)
  for channel in range(3):
    np.testing.assert_array_equal(camera[..., channel], data.camera())
  held_out = list(photos.load_test_photos().values())
  for image in wider:
    assert not any(image.shape == h.shape and np.array_equal(image, h) for h in held_out)
  source = photos.photo_patches_source(_config(split='train', num_examples=30, patch_size=16,
                                               photo_set='colour_and_grey'), seed=2)
  np.testing.assert_array_equal(source.x, photos.random_patches(wider, 30, 16, seed=2))
  with pytest.raises(ValueError, match="photo_set='grey'"):
    photos.photo_patches_source(_config(split='train', photo_set='grey'), seed=0)


def test_positions_are_deterministic_and_in_range():
  shapes = [(30, 40, 3), (50, 20, 3), (10, 10, 3)]
  first = photos.random_patch_positions(shapes, 500, 12, seed=3)
  again = photos.random_patch_positions(shapes, 500, 12, seed=3)
  other = photos.random_patch_positions(shapes, 500, 12, seed=4)
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a, b)
  assert not np.array_equal(first[1], other[1])
  index, top, left = first
  assert set(index.tolist()) == {0, 1}  # The 10x10 photo cannot hold a 12x12 patch.
  heights, widths = np.array(shapes)[index, 0], np.array(shapes)[index, 1]
  assert np.all((top >= 0) & (top + 12 <= heights) & (left >= 0) & (left + 12 <= widths))


def test_photo_choice_is_proportional_to_positions():
  shapes = [(20, 20), (40, 30), (11, 60), (5, 5)]
  size = 10
  counts = np.array([11 * 11, 31 * 21, 2 * 51, 0])
  expected = counts / counts.sum()
  n = 200_000
  index, top, left = photos.random_patch_positions(shapes, n, size, seed=0)
  frequency = np.bincount(index, minlength=4) / n
  # 5 binomial standard deviations.
  np.testing.assert_allclose(frequency, expected, atol=5 * np.sqrt(0.25 / n))
  # Every corner of a photo is reachable and roughly uniform.
  chosen = index == 2
  assert set(top[chosen].tolist()) == {0, 1} and set(left[chosen].tolist()) == set(range(51))


def test_patches_are_sub_arrays_of_the_photos():
  train = photos.load_train_photos()
  patches = photos.random_patches(train, 40, 16, seed=7)
  index, top, left = photos.random_patch_positions([p.shape for p in train], 40, 16, seed=7)
  assert patches.shape == (40, 16, 16, 3) and patches.dtype == np.uint8
  for k in range(40):
    np.testing.assert_array_equal(
        patches[k], train[index[k]][top[k]:top[k] + 16, left[k]:left[k] + 16])
  np.testing.assert_array_equal(patches, photos.random_patches(train, 40, 16, seed=7))


def test_patch_larger_than_every_photo_is_an_error():
  images = [np.zeros((8, 9, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)]
  assert photos.random_patches(images, 3, 8, seed=0).shape == (3, 8, 8, 3)
  with pytest.raises(ValueError, match='size=10'):
    photos.random_patches(images, 3, 10, seed=0)
  with pytest.raises(ValueError, match='size=0'):
    photos.random_patch_positions([(8, 8)], 3, 0, seed=0)


def test_source_train_split():
  source = photos.photo_patches_source(_config(split='train', num_examples=50,
                                               patch_size=24), seed=1)
  assert isinstance(source, sources.ArraySource)
  assert len(source) == 50 and source.element_shape == (24, 24, 3)
  assert source.is_image and source.num_classes == 0 and source.x.dtype == np.uint8
  np.testing.assert_array_equal(source.gather(np.arange(3))['y'], [-1, -1, -1])
  np.testing.assert_array_equal(
      source.x, photos.random_patches(photos.load_train_photos(), 50, 24, seed=1))


@pytest.mark.slow
def test_source_defaults():
  source = photos.photo_patches_source(_config(), seed=0)
  assert source.x.shape == (photos.DEFAULT_NUM_PATCHES, photos.DEFAULT_PATCH_SIZE,
                            photos.DEFAULT_PATCH_SIZE, 3)


def test_source_test_split_comes_only_from_the_held_out_photos():
  train = photos.load_train_photos()
  held_out = list(photos.load_test_photos().values())
  source = photos.photo_patches_source(_config(split='test', num_examples=12,
                                               patch_size=32), seed=5)
  assert source.x.shape == (12, 32, 32, 3)
  for patch in source.x:
    assert _find(patch, held_out) is not None
  # The search does tell the sets apart: a training patch is not in the held-out photos.
  train_patch = photos.random_patches(train, 1, 32, seed=0)[0]
  assert _find(train_patch, train) is not None
  assert _find(train_patch, held_out) is None
