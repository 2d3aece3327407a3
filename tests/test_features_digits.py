"""Digit classifiers and the extractor interface: shipped weights, training, batching."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.data import sources
from gan_jax.metrics import features
from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features import train_digit_classifier as training


@pytest.fixture(scope='module')
def digits():
  """scikit-learn's digits as the `digits` source gives them: uint8 (1797, 8, 8, 1)."""
  source = sources.digits_source(None, 0)
  return source.x, source.y


def test_shipped_digits8_weights_reach_their_recorded_test_accuracy(digits):
  images, labels = digits
  model, variables, meta = digit_classifier.load_digit_classifier('digits8')
  assert meta['num_train'] == 1497 and meta['num_test'] == 300
  _, test = training.split(labels, meta['num_test'], meta['seed'])
  logits, feats = model.apply(variables, training.to_model_range(images[test]))
  assert logits.shape == (300, 10) and feats.shape == (300, 128)
  accuracy = float(np.mean(np.argmax(logits, -1) == labels[test]))
  assert accuracy == pytest.approx(meta['test_accuracy'])
  assert accuracy >= 0.97


def test_shipped_mnist28_weights(shared_data_dir):
  model, variables, meta = digit_classifier.load_digit_classifier('mnist28')
  assert meta['input_shape'] == [28, 28, 1] and meta['num_test'] == 2000
  mnist = shared_data_dir / 'mnist'
  images, labels = training.load_labelled_images(
      'idx', path=str(mnist / 't10k-images-idx3-ubyte.gz'),
      labels_path=str(mnist / 't10k-labels-idx1-ubyte.gz'))
  _, test = training.split(labels, meta['num_test'], meta['seed'])
  logits, _ = jax.jit(model.apply)(variables, training.to_model_range(images[test]))
  accuracy = float(np.mean(np.argmax(logits, -1) == labels[test]))
  assert accuracy == pytest.approx(meta['test_accuracy'])
  assert accuracy >= 0.97


def test_split_is_seeded_stratified_and_disjoint(digits):
  _, labels = digits
  train, test = training.split(labels, 300, seed=0)
  assert len(train) == 1497 and len(test) == 300 and not set(train) & set(test)
  np.testing.assert_array_equal(test, training.split(labels, 300, seed=0)[1])
  assert not np.array_equal(test, training.split(labels, 300, seed=1)[1])
  assert np.bincount(labels[test]).min() >= 29  # About 30 of each class.


@pytest.mark.slow
def test_training_is_deterministic_and_learns(digits):
  images, labels = digits
  x = training.to_model_range(images)
  train, test = training.split(labels, 300, seed=0)
  model = digit_classifier.DigitClassifier(widths=(8,), hidden=32)  # Small, for speed.
  kwargs = dict(epochs=3, batch_size=32, learning_rate=1e-2, seed=0)
  first = training.train(model, x[train], labels[train], **kwargs)
  second = training.train(model, x[train], labels[train], **kwargs)
  assert digit_classifier.params_digest(first) == digit_classifier.params_digest(second)
  assert training.accuracy(model, first, x[test], labels[test]) > 0.85


@pytest.mark.slow
def test_training_command_writes_loadable_weights(tmp_path, digits):
  path = tmp_path / 'digits8.npz'
  meta = training.main(training.parse_args(['--model=digits8', '--epochs=1',
                                            f'--output={path}']))
  assert meta['num_train'] == 1497 and meta['epochs'] == 1
  assert meta['command'].endswith(f'--model=digits8 --epochs=1 --output={path}')
  model, variables, loaded = digit_classifier.load_digit_classifier('digits8', path)
  assert loaded == meta
  assert digit_classifier.params_digest(variables['params']) == meta['params_digest']
  extractor = features.get_extractor('digits8', weights_path=str(path))
  # Other weights, another cache key: reference statistics never mix.
  assert extractor.cache_key == f'digits8-{meta["params_digest"][:16]}'
  assert extractor.cache_key != features.get_extractor('digits8').cache_key
  assert extractor.extract(digits[0][:5])['logits'].shape == (5, 10)
  del model


def test_extractor_interface(digits):
  images, labels = digits
  extractor = features.get_extractor('digits8')
  assert extractor is features.get_extractor('digits8')  # Loaded once per process.
  assert extractor.name == 'digits8' and extractor.input_shape == (8, 8, 1)
  assert extractor.cache_key.startswith('digits8-') and len(extractor.cache_key) == 24
  out = extractor.extract(images)
  assert out['features'].shape == (1797, 128) and out['logits'].shape == (1797, 10)
  assert out['features'].dtype == np.float32
  assert np.mean(np.argmax(out['logits'], -1) == labels) > 0.97

  # 200 images in batches of 64 (sharded over the 8 test devices, last batch padded)
  # and in batches of 50 (not a multiple of 8: one device) agree with the full run.
  for batch_size in (64, 50):
    part = extractor.extract(images[:200], batch_size=batch_size)
    np.testing.assert_allclose(part['features'], out['features'][:200], rtol=1e-5, atol=1e-5)
  # uint8 images are scaled as the data pipeline scales them; JAX arrays work too.
  floats = jnp.asarray(training.to_model_range(images[:100]))
  np.testing.assert_array_equal(extractor.extract(floats)['logits'], out['logits'][:100])


def test_mnist28_extractor_takes_28x28():
  extractor = features.get_extractor('mnist28')
  assert extractor.input_shape == (28, 28, 1)
  out = extractor.extract(np.zeros((3, 28, 28, 1), np.float32) - 1)
  assert out['features'].shape == (3, 128) and out['logits'].shape == (3, 10)


def test_errors_name_what_is_known_and_expected():
  with pytest.raises(ValueError, match='known: digits8, mnist28, inception_v3'):
    features.get_extractor('lenet')
  with pytest.raises(ValueError, match=r'shape \(N, 8, 8, 1\)'):
    features.get_extractor('digits8').extract(np.zeros((2, 28, 28, 1), np.float32))
  with pytest.raises(FileNotFoundError, match='train_digit_classifier'):
    digit_classifier.load_digit_classifier('mnist28', '/nonexistent/mnist28.npz')
