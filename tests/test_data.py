"""Tests of gan_jax.data: every source, and the pipeline's order, sharding and resumption."""

import gzip
import json
import time

import numpy as np
from PIL import Image
import pytest
from sklearn import datasets as sk_datasets
import tensorflow_datasets as tfds

from gan_jax import data
from gan_jax.data import pipeline as pipeline_lib
from gan_jax.data import sources
from gan_jax.default_config import get_base_config


def data_config(**fields):
  """The base config's `data` section with `fields` changed."""
  config = get_base_config().data
  for name, value in fields.items():
    config[name] = value
  return config


def take(pipeline, count: int) -> list:
  return [next(pipeline) for _ in range(count)]


def assert_same_batches(first: list, second: list) -> None:
  assert len(first) == len(second)
  for a, b in zip(first, second):
    np.testing.assert_array_equal(a['x'], b['x'])
    np.testing.assert_array_equal(a['y'], b['y'])


def indexed_source(num: int) -> sources.ArraySource:
  """`num` distinct 2x2 images whose label is their index, to see what a batch holds."""
  x = np.arange(num * 4, dtype=np.uint8).reshape(num, 2, 2, 1)
  return sources.ArraySource(x, np.arange(num), num_classes=num)


# ---------------------------------------------------------------------------------------
# Sources.


def test_digits_source():
  source = data.make_source(data_config(name='digits'), seed=0)
  assert len(source) == 1797
  assert source.is_image and source.element_shape == (8, 8, 1) and source.num_classes == 10
  example = source[0]
  assert example['x'].dtype == np.uint8 and example['x'].shape == (8, 8, 1)
  assert example['y'].dtype == np.int32
  digits = sk_datasets.load_digits()
  np.testing.assert_array_equal(example['x'][..., 0],
                                np.round(digits.images[0] * 255 / 16).astype(np.uint8))
  batch = source.gather(np.arange(len(source)))
  assert batch['x'].min() == 0 and batch['x'].max() == 255
  assert sorted(set(batch['y'].tolist())) == list(range(10))


def test_ring_means_are_equally_spaced_on_the_circle():
  means = data.mixture_means(data_config(name='ring', num_modes=8, radius=2.0))
  angles = 2 * np.pi * np.arange(8) / 8
  np.testing.assert_allclose(means, 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1),
                             atol=1e-6)
  distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
  assert distances[~np.eye(8, dtype=bool)].min() > 1.0  # No mode is repeated.


def test_grid_means():
  means = data.mixture_means(data_config(name='grid'))
  assert means.shape == (25, 2)
  assert {tuple(m) for m in means.tolist()} == {(x, y) for x in range(-4, 5, 2)
                                                for y in range(-4, 5, 2)}


def test_mixture_means_rejects_other_sources():
  with pytest.raises(ValueError, match='digits'):
    data.mixture_means(data_config(name='digits'))


@pytest.mark.parametrize('name', ['ring', 'grid'])
def test_mixture_samples_have_the_configured_spread(name):
  config = data_config(name=name, std=0.05, num_examples=20_000)
  source = data.make_source(config, seed=3)
  assert len(source) == 20_000 and not source.is_image and source.element_shape == (2,)
  batch = source.gather(np.arange(len(source)))
  means = data.mixture_means(config)
  assert source.num_classes == len(means)
  assert batch['x'].dtype == np.float32 and batch['y'].dtype == np.int32
  residuals = batch['x'] - means[batch['y']]
  assert abs(residuals.std() - 0.05) < 0.002
  assert abs(residuals.mean()) < 0.002
  counts = np.bincount(batch['y'], minlength=len(means))
  expected = len(source) / len(means)
  assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # Uniform modes.
  np.testing.assert_array_equal(source[17]['x'], batch['x'][17])


def test_fresh_samples_are_a_deterministic_endless_stream():
  config = data_config(name='ring', fresh_samples=True)
  source = data.make_source(config, seed=0)
  assert len(source) == sources.STREAM_LENGTH and source.is_stream
  far = 2**39 + 12345
  again = data.make_source(config, seed=0)
  np.testing.assert_array_equal(source[far]['x'], again[far]['x'])
  np.testing.assert_array_equal(source.gather([5, far])['x'], again.gather([5, far])['x'])
  points = source.gather(np.arange(1000))['x']
  assert len(np.unique(points, axis=0)) == 1000  # Every index is a new sample.
  other_seed = data.make_source(config, seed=1).gather(np.arange(1000))['x']
  assert not np.allclose(points, other_seed)
  with pytest.raises(IndexError):
    source[sources.STREAM_LENGTH]


def test_unknown_source_name_lists_the_known_ones():
  with pytest.raises(ValueError, match=r"data.name='mnst'.*digits.*folder.*grid.*idx.*npz"):
    data.make_source(data_config(name='mnst'), seed=0)
  assert set(data.SOURCES) == {'digits', 'ring', 'grid', 'tfds', 'npz', 'idx', 'folder', 'photos'}


# ---------------------------------------------------------------------------------------
# tfds.


def test_tfds_source_reads_mocked_mnist():
  config = data_config(name='tfds', tfds_name='mnist', split='train')
  with tfds.testing.mock_data(num_examples=40):
    source = data.make_source(config, seed=0)
    assert len(source) == 40 and source.element_shape == (28, 28, 1)
    assert source.num_classes == 10 and source.is_image
    batch = next(data.make_pipeline(source, config, batch_size=16, seed=0))
  assert batch['x'].shape == (16, 28, 28, 1) and batch['x'].dtype == np.float32
  assert -1 <= batch['x'].min() and batch['x'].max() <= 1
  assert batch['y'].dtype == np.int32 and np.all((0 <= batch['y']) & (batch['y'] < 10))


def test_tfds_source_resizes_mocked_cifar10():
  config = data_config(name='tfds', tfds_name='cifar10', image_size=16, random_flip=True)
  with tfds.testing.mock_data(num_examples=8):
    source = data.make_source(config, seed=0)
    pipeline = data.make_pipeline(source, config, batch_size=4, seed=0)
    assert pipeline.element_shape == (16, 16, 3)
    assert next(pipeline)['x'].shape == (4, 16, 16, 3)


def test_tfds_without_prepared_data_says_how_to_prepare_it(tmp_path):
  config = data_config(name='tfds', tfds_name='mnist', data_dir=str(tmp_path))
  start = time.perf_counter()
  with pytest.raises(sources.DatasetNotPreparedError) as error:
    data.make_source(config, seed=0)
  assert time.perf_counter() - start < 10  # Fails at once: never tries the network.
  message = str(error.value)
  assert "'mnist'" in message and str(tmp_path) in message
  assert 'tfds build mnist' in message and 'array_record' in message
  assert isinstance(error.value, FileNotFoundError)


def test_tfds_name_is_required():
  with pytest.raises(ValueError, match='data.tfds_name'):
    data.make_source(data_config(name='tfds', tfds_name=''), seed=0)


def test_tfds_unknown_dataset_names_the_field():
  with pytest.raises(ValueError, match="data.tfds_name='no_such_dataset_xyz'"):
    data.make_source(data_config(name='tfds', tfds_name='no_such_dataset_xyz'), seed=0)


# ---------------------------------------------------------------------------------------
# npz.


def test_npz_images_with_labels(tmp_path):
  path = tmp_path / 'images.npz'
  x = np.random.default_rng(0).integers(0, 256, (10, 6, 5), dtype=np.uint8)
  np.savez(path, x=x, y=np.arange(10) % 3)
  source = data.make_source(data_config(name='npz', path=str(path)), seed=0)
  assert len(source) == 10 and source.element_shape == (6, 5, 1) and source.num_classes == 3
  np.testing.assert_array_equal(source[4]['x'][..., 0], x[4])
  assert source[4]['y'] == 1


def test_npz_points_pass_through_the_pipeline_unchanged(tmp_path):
  path = tmp_path / 'points.npz'
  x = np.random.default_rng(0).normal(size=(12, 2))
  np.savez(path, x=x)
  config = data_config(name='npz', path=str(path))
  source = data.make_source(config, seed=0)
  assert not source.is_image and source.num_classes == 0 and source[0]['y'] == -1
  batches = take(data.make_pipeline(source, config, batch_size=4, seed=0), 3)
  seen = np.concatenate([b['x'] for b in batches])
  assert seen.dtype == np.float32 and seen.shape == (12, 2)
  np.testing.assert_allclose(np.sort(seen, axis=0), np.sort(x.astype(np.float32), axis=0))


def test_npz_errors_name_the_file(tmp_path):
  with pytest.raises(FileNotFoundError, match='absent.npz'):
    data.make_source(data_config(name='npz', path=str(tmp_path / 'absent.npz')), seed=0)
  no_x = tmp_path / 'no_x.npz'
  np.savez(no_x, images=np.zeros((2, 4, 4), np.uint8))
  with pytest.raises(ValueError, match=r'no_x.npz has no array named "x".*images'):
    data.make_source(data_config(name='npz', path=str(no_x)), seed=0)
  float_images = tmp_path / 'float_images.npz'
  np.savez(float_images, x=np.zeros((2, 4, 4), np.float32))
  with pytest.raises(ValueError, match='float_images.npz.*uint8'):
    data.make_source(data_config(name='npz', path=str(float_images)), seed=0)
  bad_y = tmp_path / 'bad_y.npz'
  np.savez(bad_y, x=np.zeros((2, 4, 4), np.uint8), y=np.zeros(3, np.int64))
  with pytest.raises(ValueError, match='bad_y.npz: y must be 2'):
    data.make_source(data_config(name='npz', path=str(bad_y)), seed=0)
  with pytest.raises(ValueError, match='data.path'):
    data.make_source(data_config(name='npz', path=''), seed=0)


# ---------------------------------------------------------------------------------------
# idx.


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
  header = magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in array.shape)
  return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize('compress', [False, True], ids=['plain', 'gzip'])
def test_idx_images_and_labels(tmp_path, compress):
  images = np.random.default_rng(0).integers(0, 256, (7, 5, 4), dtype=np.uint8)
  labels = np.array([3, 1, 4, 1, 5, 9, 2], np.uint8)
  wrap = gzip.compress if compress else bytes
  (tmp_path / 'images').write_bytes(wrap(idx_bytes(2051, images)))
  (tmp_path / 'labels').write_bytes(wrap(idx_bytes(2049, labels)))
  config = data_config(name='idx', path=str(tmp_path / 'images'),
                       labels_path=str(tmp_path / 'labels'))
  source = data.make_source(config, seed=0)
  assert len(source) == 7 and source.element_shape == (5, 4, 1) and source.num_classes == 10
  np.testing.assert_array_equal(source[2]['x'][..., 0], images[2])
  assert source[5]['y'] == 9
  unlabeled = data.make_source(data_config(name='idx', path=str(tmp_path / 'images')), 0)
  assert unlabeled.num_classes == 0 and unlabeled[0]['y'] == -1


def test_idx_errors_name_the_file(tmp_path):
  images = np.zeros((3, 2, 2), np.uint8)
  labels_file = tmp_path / 'labels.idx'
  labels_file.write_bytes(idx_bytes(2049, np.zeros(4, np.uint8)))
  with pytest.raises(ValueError, match='labels.idx: IDX magic number is 2049, expected 2051'):
    data.make_source(data_config(name='idx', path=str(labels_file)), seed=0)
  truncated = tmp_path / 'truncated.idx'
  truncated.write_bytes(idx_bytes(2051, images)[:-1])
  with pytest.raises(ValueError, match='truncated.idx: IDX header gives shape'):
    data.make_source(data_config(name='idx', path=str(truncated)), seed=0)
  images_file = tmp_path / 'images.idx'
  images_file.write_bytes(idx_bytes(2051, images))
  with pytest.raises(ValueError, match='labels.idx holds 4 labels, but .*images.idx holds 3'):
    data.make_source(data_config(name='idx', path=str(images_file),
                                 labels_path=str(labels_file)), seed=0)
  with pytest.raises(FileNotFoundError, match='absent.idx'):
    data.make_source(data_config(name='idx', path=str(tmp_path / 'absent.idx')), seed=0)


def test_idx_reads_real_mnist_test_split(shared_data_dir):
  mnist = shared_data_dir / 'mnist'
  if not mnist.is_dir():
    pytest.skip(f'{mnist} not present')
  config = data_config(name='idx', path=str(mnist / 't10k-images-idx3-ubyte.gz'),
                       labels_path=str(mnist / 't10k-labels-idx1-ubyte.gz'))
  source = data.make_source(config, seed=0)
  assert len(source) == 10_000 and source.element_shape == (28, 28, 1)
  assert source.num_classes == 10
  assert np.bincount(source.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                            974, 1009]
  assert round(float(source.x.mean()), 2) == 33.79


def write_idx_folder(folder, gz: bool = True) -> dict:
  """Tiny train and t10k IDX files under the standard names; returns the arrays."""
  rng = np.random.default_rng(1)
  wrap, suffix = (gzip.compress, '.gz') if gz else (bytes, '')
  arrays = {'train': (rng.integers(0, 256, (6, 3, 3), dtype=np.uint8), np.arange(6) % 4),
            't10k': (rng.integers(0, 256, (4, 3, 3), dtype=np.uint8), np.array([3, 2, 1, 0]))}
  folder.mkdir(parents=True, exist_ok=True)
  for prefix, (images, labels) in arrays.items():
    (folder / f'{prefix}-images-idx3-ubyte{suffix}').write_bytes(
        wrap(idx_bytes(2051, images)))
    (folder / f'{prefix}-labels-idx1-ubyte{suffix}').write_bytes(
        wrap(idx_bytes(2049, labels)))
  return arrays


@pytest.mark.parametrize('gz', [False, True], ids=['plain', 'gzip'])
def test_idx_folder_splits_find_their_labels(tmp_path, gz):
  arrays = write_idx_folder(tmp_path, gz)
  for split, prefix in (('train', 'train'), ('test', 't10k')):
    source = data.make_source(data_config(name='idx', path=str(tmp_path), split=split), 0)
    images, labels = arrays[prefix]
    assert len(source) == len(images) and source.num_classes == 4
    np.testing.assert_array_equal(source.x[..., 0], images)
    np.testing.assert_array_equal(source.y, labels)


def test_idx_folder_without_labels_is_unlabelled_unless_labels_path_is_set(tmp_path):
  arrays = write_idx_folder(tmp_path)
  (tmp_path / 't10k-labels-idx1-ubyte.gz').unlink()
  source = data.make_source(data_config(name='idx', path=str(tmp_path), split='test'), 0)
  assert source.num_classes == 0 and len(source) == 4
  # An explicit labels_path stands in for the folder's own labels file.
  labels = tmp_path / 'other-labels'
  labels.write_bytes(idx_bytes(2049, np.array([1, 1, 0, 0])))
  source = data.make_source(data_config(name='idx', path=str(tmp_path), split='test',
                                        labels_path=str(labels)), 0)
  np.testing.assert_array_equal(source.y, [1, 1, 0, 0])
  np.testing.assert_array_equal(source.x[..., 0], arrays['t10k'][0])


def test_idx_folder_errors_name_the_fields(tmp_path):
  write_idx_folder(tmp_path)
  with pytest.raises(ValueError, match=r"config.data.split='validation'.*train, test"):
    data.make_source(data_config(name='idx', path=str(tmp_path), split='validation'), 0)
  empty = tmp_path / 'empty'
  empty.mkdir()
  with pytest.raises(FileNotFoundError,
                     match=r'empty \(config.data.path\) is a folder.*train-images-idx3-ubyte'):
    data.make_source(data_config(name='idx', path=str(empty), split='train'), 0)


def test_idx_with_empty_path_reads_the_debian_folder(tmp_path, monkeypatch):
  folder = tmp_path / 'fashion-mnist'
  monkeypatch.setattr(sources, 'DEFAULT_IDX_FOLDER', folder)
  # Nothing installed: the error names the folder it looked in and the field to set.
  with pytest.raises(FileNotFoundError,
                     match=r'config.data.path is empty.*fashion-mnist.*dataset-fashion-mnist'):
    data.make_source(data_config(name='idx', path='', split='train'), 0)
  arrays = write_idx_folder(folder)
  source = data.make_source(data_config(name='idx', path='', split='test'), 0)
  np.testing.assert_array_equal(source.y, arrays['t10k'][1])


def test_idx_default_folder_is_where_debian_installs_fashion_mnist():
  assert str(sources.DEFAULT_IDX_FOLDER) == '/usr/share/datasets/fashion-mnist'


def test_idx_reads_real_fashion_mnist_splits(shared_data_dir):
  fashion = shared_data_dir / 'fashion-mnist'
  if not fashion.is_dir():
    pytest.skip(f'{fashion} not present')
  for split, size, mean in (('train', 60_000, 72.94), ('test', 10_000, 73.15)):
    source = data.make_source(data_config(name='idx', path=str(fashion), split=split), 0)
    assert len(source) == size and source.element_shape == (28, 28, 1)
    assert np.bincount(source.y).tolist() == [size // 10] * 10
    assert round(float(source.x.mean()), 2) == mean


# ---------------------------------------------------------------------------------------
# folder.


def write_png(path, size=(6, 4), color=(200, 10, 10)):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.new('RGB', size, color).save(path)


def test_folder_with_class_subfolders(tmp_path):
  write_png(tmp_path / 'cat' / 'a.png')
  write_png(tmp_path / 'cat' / 'b.PNG')
  write_png(tmp_path / 'dog' / 'c.png', color=(0, 0, 255))
  (tmp_path / 'dog' / 'notes.txt').write_text('not an image')
  config = data_config(name='folder', path=str(tmp_path))
  source = data.make_source(config, seed=0)
  assert len(source) == 3 and source.num_classes == 2
  assert source.element_shape == (4, 6, 3)  # PIL sizes are (width, height).
  assert source.y.tolist() == [0, 0, 1]
  np.testing.assert_array_equal(source[2]['x'][0, 0], [0, 0, 255])
  gray = data.make_source(data_config(name='folder', path=str(tmp_path), grayscale=True,
                                      image_size=3), seed=0)
  assert gray.element_shape == (3, 3, 1)


def test_folder_of_loose_images_is_unlabeled(tmp_path):
  write_png(tmp_path / 'a.jpg')
  write_png(tmp_path / 'b.bmp')
  source = data.make_source(data_config(name='folder', path=str(tmp_path)), seed=0)
  assert len(source) == 2 and source.num_classes == 0 and source[1]['y'] == -1


def test_folder_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='missing'):
    data.make_source(data_config(name='folder', path=str(tmp_path / 'missing')), seed=0)
  (tmp_path / 'empty').mkdir()
  with pytest.raises(ValueError, match='empty holds no images'):
    data.make_source(data_config(name='folder', path=str(tmp_path / 'empty')), seed=0)
  write_png(tmp_path / 'mixed' / 'a.png', size=(4, 4))
  write_png(tmp_path / 'mixed' / 'b.png', size=(5, 4))
  with pytest.raises(ValueError, match='b.png is 5x4 but .*a.png is 4x4.*image_size'):
    data.make_source(data_config(name='folder', path=str(tmp_path / 'mixed')), seed=0)
  resized = data.make_source(data_config(name='folder', path=str(tmp_path / 'mixed'),
                                         image_size=4), seed=0)
  assert resized.element_shape == (4, 4, 3)


# ---------------------------------------------------------------------------------------
# Pipeline.


def test_pipeline_batches_of_digits():
  config = data_config(name='digits')
  pipeline = data.make_pipeline(data.make_source(config, 0), config, batch_size=64, seed=0)
  assert pipeline.element_shape == (8, 8, 1)
  batch = next(pipeline)
  assert batch['x'].shape == (64, 8, 8, 1) and batch['x'].dtype == np.float32
  assert batch['y'].shape == (64,) and batch['y'].dtype == np.int32
  assert batch['x'].min() == -1.0 and batch['x'].max() == 1.0


def test_pipeline_of_ring_points():
  config = data_config(name='ring', fresh_samples=True)
  source = data.make_source(config, 0)
  pipeline = data.make_pipeline(source, config, batch_size=256, seed=0)
  batch = next(pipeline)
  assert pipeline.element_shape == (2,)
  assert batch['x'].shape == (256, 2) and batch['x'].dtype == np.float32
  # Fresh samples are read in order: batch k is stream indices k*256 .. k*256+255.
  np.testing.assert_array_equal(batch['x'], source.gather(np.arange(256))['x'])
  np.testing.assert_array_equal(next(pipeline)['x'], source.gather(np.arange(256, 512))['x'])


def test_same_seed_same_order_and_epochs_are_reshuffled():
  config = data_config(name='digits')
  source = data.make_source(config, 0)
  first = take(data.make_pipeline(source, config, 64, seed=5), 3)
  assert_same_batches(first, take(data.make_pipeline(source, config, 64, seed=5), 3))
  other = next(data.make_pipeline(source, config, 64, seed=6))
  assert not np.array_equal(first[0]['x'], other['x'])

  source = indexed_source(12)
  epochs = np.concatenate([b['y'] for b in take(data.make_pipeline(source, config, 4, 0), 6)])
  first_epoch, second_epoch = epochs[:12], epochs[12:]
  assert sorted(first_epoch) == list(range(12)) and sorted(second_epoch) == list(range(12))
  assert not np.array_equal(first_epoch, second_epoch)
  assert not np.array_equal(first_epoch, np.arange(12))


@pytest.mark.parametrize('fields', [dict(name='digits', random_flip=True),
                                    dict(name='ring', fresh_samples=True)],
                         ids=['digits', 'ring'])
def test_set_state_resumes_exactly(fields):
  config = data_config(**fields)
  source = data.make_source(config, 0)
  pipeline = data.make_pipeline(source, config, batch_size=64, seed=1)
  take(pipeline, 40)  # Past the first epoch of the digits (28 batches).
  state = json.loads(json.dumps(pipeline.get_state()))  # As a checkpoint stores it.
  expected = take(pipeline, 5)
  resumed = data.make_pipeline(source, config, batch_size=64, seed=1)
  resumed.set_state(state)
  assert_same_batches(expected, take(resumed, 5))


def test_processes_split_each_global_batch_as_one_process_reads_it():
  config = data_config(name='digits')
  source = indexed_source(12)
  whole = take(data.make_pipeline(source, config, batch_size=6, seed=0), 4)
  parts = [take(data.make_pipeline(source, config, batch_size=3, seed=0, shard_index=p,
                                   shard_count=2), 4) for p in range(2)]
  for k in range(4):
    # Process p holds rows 3p .. 3p + 2 of global batch k: together, one process's batch.
    joined = np.concatenate([parts[0][k]['y'], parts[1][k]['y']])
    np.testing.assert_array_equal(joined, whole[k]['y'])
  # Within an epoch (two global batches of 6) the processes' rows are disjoint and cover
  # the data.
  first_epoch = [set(np.concatenate([b['y'] for b in part[:2]]).tolist()) for part in parts]
  assert first_epoch[0].isdisjoint(first_epoch[1])
  assert first_epoch[0] | first_epoch[1] == set(range(12))
  with pytest.raises(ValueError, match='shard_index=2'):
    data.make_pipeline(source, config, batch_size=3, seed=0, shard_index=2, shard_count=2)


def test_random_flips_do_not_depend_on_the_process_count():
  config = data_config(name='digits', random_flip=True)
  source = data.make_source(config, 0)
  whole = take(data.make_pipeline(source, config, batch_size=8, seed=3), 2)
  parts = [take(data.make_pipeline(source, config, batch_size=4, seed=3, shard_index=p,
                                   shard_count=2), 2) for p in range(2)]
  for k in range(2):
    np.testing.assert_array_equal(np.concatenate([parts[0][k]['x'], parts[1][k]['x']]),
                                  whole[k]['x'])


def test_random_flip_flips_about_half_and_is_seeded():
  config = data_config(name='digits')
  source = data.make_source(config, 0)
  plain = take(data.make_pipeline(source, config, 64, seed=2), 2)
  config.random_flip = True
  flipped = take(data.make_pipeline(source, config, 64, seed=2), 2)
  assert_same_batches(flipped, take(data.make_pipeline(source, config, 64, seed=2), 2))
  x, reference = np.concatenate([b['x'] for b in flipped]), np.concatenate([b['x'] for b in plain])
  same = np.all(x == reference, axis=(1, 2, 3))
  mirrored = np.all(x == reference[:, :, ::-1], axis=(1, 2, 3))
  assert np.all(same | mirrored)  # Only whole images are flipped, left-right.
  changed = mirrored & ~same
  assert 30 < changed.sum() < 98  # About half of 128 (a symmetric digit counts as unchanged).


def test_resize():
  config = data_config(name='digits', image_size=16)
  pipeline = data.make_pipeline(data.make_source(config, 0), config, 8, seed=0)
  assert pipeline.element_shape == (16, 16, 1)
  batch = next(pipeline)
  assert batch['x'].shape == (8, 16, 16, 1)
  assert -1 <= batch['x'].min() and batch['x'].max() <= 1
  rgb = np.full((5, 7, 3), 90, np.uint8)
  resized = pipeline_lib.resize_image(rgb, 4)
  assert resized.shape == (4, 4, 3) and np.all(resized == 90)


@pytest.mark.slow
def test_worker_processes_give_the_same_batches():
  config = data_config(name='digits', num_workers=1)
  source = data.make_source(config, 0)
  pipeline = data.make_pipeline(source, config, 16, seed=0)
  try:
    batches = take(pipeline, 3)
    json.dumps(pipeline.get_state())
  finally:
    pipeline.close()
  config.num_workers = 0
  assert_same_batches(batches, take(data.make_pipeline(source, config, 16, seed=0), 3))
