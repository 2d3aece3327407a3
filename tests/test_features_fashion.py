"""The fashion28 classifier: shipped weights, extractor outputs, accuracy on Fashion-MNIST t10k.

Also the training command's train-on-one-split, test-on-another mode, on tiny IDX
folders written here, so that it is tested without the real data.
"""

import gzip

import numpy as np
import pytest

from gan_jax import data
from gan_jax.default_config import get_base_config
from gan_jax.metrics import features
from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features import train_digit_classifier as training


def fashion_test_split(shared_data_dir) -> tuple[np.ndarray, np.ndarray]:
  """Fashion-MNIST's t10k images (uint8) and labels, or a skip when absent."""
  folder = shared_data_dir / 'fashion-mnist'
  if not folder.is_dir():
    pytest.skip(f'{folder} not present')
  config = get_base_config().data
  config.name, config.path, config.split = 'idx', str(folder), 'test'
  source = data.make_source(config, seed=0)
  return source.x, source.y


def test_shipped_fashion28_weights_load_with_their_recipe():
  model, variables, meta = digit_classifier.load_digit_classifier('fashion28')
  assert meta['input_shape'] == [28, 28, 1] and meta['widths'] == [32, 64, 128]
  # Trained on the whole train split, tested on the whole t10k split.
  assert meta['split'] == 'train' and meta['test_split'] == 'test'
  assert meta['num_train'] == 60_000 and meta['num_test'] == 10_000
  assert meta['test_accuracy'] > 0.91
  assert digit_classifier.params_digest(variables['params']) == meta['params_digest']
  assert model.num_classes == 10


def test_fashion28_extractor_gives_features_and_logits():
  extractor = features.get_extractor('fashion28')
  assert 'fashion28' in features.EXTRACTORS
  assert extractor.input_shape == (28, 28, 1) and extractor.cache_key.startswith('fashion28-')
  images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
  out = extractor.extract(images)
  assert out['features'].shape == (5, 128) and out['logits'].shape == (5, 10)
  assert out['features'].dtype == np.float32 and np.all(out['features'] >= 0)  # ReLU.


def test_fashion28_accuracy_on_the_first_1000_test_images(shared_data_dir):
  images, labels = fashion_test_split(shared_data_dir)
  logits = features.get_extractor('fashion28').extract(images[:1000])['logits']
  assert np.mean(np.argmax(logits, -1) == labels[:1000]) > 0.88


def test_fashion28_recorded_accuracy_is_its_t10k_accuracy(shared_data_dir):
  images, labels = fashion_test_split(shared_data_dir)
  model, variables, meta = digit_classifier.load_digit_classifier('fashion28')
  accuracy = training.accuracy(model, variables['params'], training.to_model_range(images),
                               labels)
  assert accuracy == pytest.approx(meta['test_accuracy'])


def write_idx_folder(folder, num_train: int, num_test: int) -> None:
  """Two classes of 28x28 images, dark (0) and bright (1), as train and t10k IDX files."""
  rng = np.random.default_rng(0)
  folder.mkdir()
  for prefix, size in (('train', num_train), ('t10k', num_test)):
    labels = np.arange(size, dtype=np.uint8) % 2
    images = (rng.integers(0, 60, (size, 28, 28)) + 180 * labels[:, None, None])
    for kind, magic, array in (('images-idx3', 2051, images), ('labels-idx1', 2049, labels)):
      header = magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in array.shape)
      (folder / f'{prefix}-{kind}-ubyte.gz').write_bytes(
          gzip.compress(header + array.astype(np.uint8).tobytes()))


@pytest.mark.slow
def test_training_command_trains_on_one_split_and_tests_on_another(tmp_path):
  folder = tmp_path / 'idx'
  write_idx_folder(folder, num_train=128, num_test=40)
  output = tmp_path / 'fashion28.npz'
  meta = training.main(training.parse_args([
      '--model=fashion28', f'--path={folder}', '--epochs=2', f'--output={output}']))
  # fashion28's defaults: train split in, the whole t10k split as the test set.
  assert meta['split'] == 'train' and meta['test_split'] == 'test' and meta['flip']
  assert meta['num_train'] == 128 and meta['num_test'] == 40
  assert meta['test_accuracy'] == 1.0  # Dark or bright: trivially separable.
  _, _, loaded = digit_classifier.load_digit_classifier('fashion28', output)
  assert loaded == meta


def test_training_command_refuses_a_test_split_that_is_the_training_data(tmp_path):
  folder = tmp_path / 'idx'
  write_idx_folder(folder, num_train=64, num_test=64)
  # An IDX *file* ignores config.data.split: both splits would be the same images.
  args = training.parse_args(['--model=fashion28', '--epochs=1',
                              f'--path={folder / "train-images-idx3-ubyte.gz"}',
                              f'--labels_path={folder / "train-labels-idx1-ubyte.gz"}'])
  with pytest.raises(ValueError, match='--split=train and --test_split=test give the same'):
    training.main(args)
  with pytest.raises(ValueError, match='--num_test=100 holds test examples out of --split'):
    training.parse_args(['--model=fashion28', '--num_test=100'])
  # --test_split= (empty) falls back to holding examples out, which needs --num_test.
  with pytest.raises(ValueError, match='--num_test must be >= 1 without --test_split'):
    training.parse_args(['--model=fashion28', '--test_split='])


def test_a_test_split_replaces_the_held_out_examples_of_any_model():
  # mnist28 holds 2,000 examples out by default; given a test split, it holds none.
  assert training.parse_args(['--model=mnist28']).num_test == 2000
  args = training.parse_args(['--model=mnist28', '--split=train', '--test_split=test'])
  assert args.num_test == 0 and args.test_split == 'test'
  args = training.parse_args(['--model=fashion28', '--test_split=', '--num_test=5000'])
  assert args.num_test == 5000 and not args.test_split and args.flip
