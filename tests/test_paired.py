"""Paired images (data.pairs): the operators against references, and one crop/flip for both halves."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from gan_jax import data
from gan_jax.data import paired
from gan_jax.data.sources import ArraySource
from tiny_configs import tiny_config


def test_sobel_edges_equal_scipy_thresholded():
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (3, 12, 10, 1), dtype=np.uint8)
  grey = images[..., 0].astype(np.float64) / 255
  expected = np.stack([np.hypot(ndimage.sobel(g, axis=1, mode='nearest'),
                                ndimage.sobel(g, axis=0, mode='nearest')) for g in grey])
  edges = paired.sobel_edges(images)
  assert edges.shape == (3, 12, 10, 1) and edges.dtype == np.uint8
  np.testing.assert_array_equal(edges[..., 0] == 255, expected > paired.EDGE_THRESHOLD)
  assert set(np.unique(edges)) <= {0, 255}
  # A flat image has no edges; a black-to-white step has them along the step only.
  step = np.zeros((1, 8, 8, 1), np.uint8)
  step[:, :, 4:] = 255
  assert not paired.sobel_edges(np.zeros_like(step)).any()
  np.testing.assert_array_equal(paired.sobel_edges(step)[0, 0, :, 0] == 255,
                                [False, False, False, True, True, False, False, False])


def test_luma_is_bt601():
  rgb = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 30]]]], np.uint8)
  expected = np.rint(rgb @ np.array([0.299, 0.587, 0.114]))
  np.testing.assert_array_equal(paired.luma(rgb)[..., 0], expected)


def test_side_by_side_splits_and_reverses():
  images = np.arange(2 * 4 * 6 * 3, dtype=np.uint8).reshape(2, 4, 6, 3)
  source = paired.PairedSource(ArraySource(images), 'side_by_side')
  batch = source.gather(np.array([1, 0]))
  np.testing.assert_array_equal(batch['src'], images[[1, 0], :, :3])
  np.testing.assert_array_equal(batch['x'], images[[1, 0], :, 3:])
  assert source.element_shape == (4, 3, 3) and source.src_shape == (4, 3, 3)
  reverse = paired.PairedSource(ArraySource(images), 'side_by_side', reverse=True)
  np.testing.assert_array_equal(reverse[0]['src'], images[0, :, 3:])
  with pytest.raises(ValueError, match='odd'):
    paired.PairedSource(ArraySource(images[:, :, :5]), 'side_by_side')


def test_pairs_of_points_or_unknown_operators_are_errors():
  with pytest.raises(ValueError, match='holds points'):
    paired.PairedSource(ArraySource(np.zeros((4, 2), np.float32)), 'edges')
  with pytest.raises(ValueError, match="config.data.pairs='sketch' is unknown"):
    data.make_source(tiny_config(**{'data.pairs': 'sketch'}).data, 0)


def test_source_and_target_get_the_same_crop_and_flip():
  # Grey sources are a per-pixel function of their colour targets, so after any crop
  # and flip the pipeline's 'src' must still be the luma of its 'x'.
  rng = np.random.default_rng(1)
  images = rng.integers(0, 256, (40, 12, 12, 3), dtype=np.uint8)
  config = tiny_config(**{'data.pairs': 'grayscale', 'data.crop_size': 8,
                          'data.random_flip': True})
  source = paired.make_paired_source(ArraySource(images), config.data)
  pipeline = data.make_pipeline(source, config.data, 16, seed=3)
  assert pipeline.element_shape == (8, 8, 3)
  offsets = set()
  for _ in range(3):
    batch = next(pipeline)
    assert batch['src'].shape == (16, 8, 8, 1) and batch['x'].shape == (16, 8, 8, 3)
    target = np.rint((batch['x'] + 1) * 127.5).astype(np.uint8)
    expected = paired.luma(target).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(batch['src'], expected, atol=1e-6)
    # Each crop is a sub-window of one of the images, flipped or not.
    for crop in target[:4]:
      found = [(i, t, l, f) for i, image in enumerate(images) for f in (0, 1)
               for t in range(5) for l in range(5)
               if np.array_equal((image[:, ::-1] if f else image)[t:t + 8, l:l + 8], crop)]
      assert found
      offsets.add(found[0][1:])
  assert len(offsets) > 1  # Random offsets and flips, not one fixed crop.
  reference = data.read_examples(source, config.data, 5, seed=3)
  centre = images[:, 2:10, 2:10]
  for crop in np.rint((reference['x'] + 1) * 127.5).astype(np.uint8):
    assert any(np.array_equal(crop, c) for c in centre)


def test_folder_of_side_by_side_files(tmp_path):
  rng = np.random.default_rng(2)
  for i in range(3):
    Image.fromarray(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)).save(tmp_path / f'{i}.png')
  config = tiny_config(**{'data.name': 'folder', 'data.path': str(tmp_path),
                          'data.pairs': 'side_by_side'})
  source = data.make_source(config.data, 0)
  batch = source.gather(np.arange(3))
  assert batch['src'].shape == (3, 16, 16, 3) and batch['x'].shape == (3, 16, 16, 3)
  first = np.asarray(Image.open(tmp_path / '0.png'))
  np.testing.assert_array_equal(batch['src'][0], first[:, :16])
  np.testing.assert_array_equal(batch['x'][0], first[:, 16:])

  resized = tiny_config(**{'data.name': 'folder', 'data.path': str(tmp_path),
                           'data.pairs': 'side_by_side', 'data.image_size': 8})
  pipeline = data.make_pipeline(data.make_source(resized.data, 0), resized.data, 2, seed=0)
  batch = next(pipeline)
  assert batch['src'].shape == (2, 8, 8, 3) and batch['x'].shape == (2, 8, 8, 3)
