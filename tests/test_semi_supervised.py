"""Semi-supervised GAN: its losses by hand, the labelled split, the pipeline, classify's errors."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import data
from gan_jax import games
from gan_jax import run as run_lib
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax.core import validation
from gan_jax.data import labeled
from gan_jax.games import semi_supervised
from gan_jax.models import improved_gan
from tiny_configs import tiny_config

SHAPE = (8, 8, 1)
K = 10
SSGAN = {'game.name': 'semi_supervised', 'model.name': 'improved_gan',
         'data.num_labeled': 20}


def _log_softmax(logits):
  logits = logits - logits.max(axis=1, keepdims=True)
  return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def _logsumexp(logits):
  top = logits.max(axis=1)
  return top + np.log(np.exp(logits - top[:, None]).sum(axis=1))


def test_real_fake_decision_is_the_k_plus_1_softmax_with_the_fake_logit_at_zero():
  logits = np.random.default_rng(0).normal(size=(6, K)).astype(np.float32) * 3
  s = np.asarray(semi_supervised.real_fake_logits(jnp.asarray(logits)))
  np.testing.assert_allclose(s, np.log(np.exp(logits.astype(np.float64)).sum(axis=1)),
                             rtol=1e-5)
  # D(x) = 1 - p(fake) of the (K+1)-way softmax whose last logit is 0.
  padded = np.concatenate([logits, np.zeros((6, 1), np.float32)], axis=1).astype(np.float64)
  p_fake = np.exp(_log_softmax(padded))[:, -1]
  np.testing.assert_allclose(1 / (1 + np.exp(-s)), 1 - p_fake, rtol=1e-5)


def test_weight_norm_dense_equals_its_formula():
  layer = improved_gan.WeightNormDense(3)
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 5))
  params = layer.init(jax.random.PRNGKey(1), x)['params']
  params = dict(params, scale=jnp.array([0.5, 2.0, -1.0]), bias=jnp.array([0.1, 0.0, -0.3]))
  v = np.asarray(params['kernel'], np.float64)
  expected = (np.asarray(x) @ (v / np.linalg.norm(v, axis=0)) * np.array([0.5, 2.0, -1.0])
              + np.array([0.1, 0.0, -0.3]))
  np.testing.assert_allclose(layer.apply({'params': params}, x), expected, rtol=1e-5,
                             atol=1e-6)


def test_weight_norm_data_init_gives_zero_mean_unit_variance_and_the_papers_formula():
  """The paper's code (nn.DenseLayer, init=True): g <- g / s, b <- -m / s, with m, s the
  per-unit mean and root-mean-square deviation of x v g / ||v|| over the batch."""
  layer = improved_gan.WeightNormDense(3)
  x = jax.random.normal(jax.random.PRNGKey(0), (50, 5)) * 3 + 1
  params = dict(layer.init(jax.random.PRNGKey(1), x)['params'], scale=jnp.array([0.5, 2., 1.]))
  out, variables = layer.apply({'params': params}, x, data_init=True, mutable=['params'])
  v = np.asarray(params['kernel'], np.float64)
  pre = np.asarray(x, np.float64) @ (v / np.linalg.norm(v, axis=0)) * np.array([0.5, 2., 1.])
  m, s = pre.mean(0), pre.std(0)  # numpy's std is the root mean square deviation (ddof=0).
  new = variables['params']
  np.testing.assert_allclose(new['scale'], np.array([0.5, 2., 1.]) / s, rtol=1e-5)
  np.testing.assert_allclose(new['bias'], -m / s, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(new['kernel'], v, rtol=0)  # The direction is left alone.
  # The initialising pass returns what the new params give, and that is standardised.
  np.testing.assert_allclose(out, layer.apply({'params': new}, x), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(np.asarray(out).mean(0), 0, atol=1e-5)
  np.testing.assert_allclose(np.asarray(out).std(0), 1, rtol=1e-4)


def test_data_init_standardises_every_layer_in_turn_and_fixed_scales_get_no_gradient():
  d = improved_gan.ClassifierDiscriminator(K, hidden_dims=(16, 8), input_noise=0.0,
                                           hidden_noise=0.0, train_hidden_scale=False)
  x = jax.random.uniform(jax.random.PRNGKey(0), (64, *SHAPE), minval=-1, maxval=1)
  params = d.init(jax.random.PRNGKey(1), x, train=False)['params']
  _, variables = d.apply({'params': params}, x, train=True, data_init=True, mutable=['params'])
  new = variables['params']
  # Each layer is standardised on the outputs of the layers before it, already initialised.
  h = np.asarray(x, np.float64).reshape(64, -1)
  for name in ('WeightNormDense_0', 'WeightNormDense_1', 'WeightNormDense_2'):
    p = {k: np.asarray(v, np.float64) for k, v in new[name].items()}
    pre = h @ (p['kernel'] / np.linalg.norm(p['kernel'], axis=0)) * p['scale'] + p['bias']
    np.testing.assert_allclose(pre.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(pre.std(0), 1, rtol=1e-3)
    h = np.maximum(pre, 0)
  # The paper's train_scale=False: no gradient reaches the hidden scales; the output's does.
  grads = jax.grad(lambda p: jnp.sum(d.apply({'params': p}, x, train=False)[0] ** 2))(new)
  assert not np.any(grads['WeightNormDense_0']['scale'])
  assert not np.any(grads['WeightNormDense_1']['scale'])
  assert np.any(grads['WeightNormDense_2']['scale'])
  assert np.any(grads['WeightNormDense_0']['kernel'])


def test_features_are_the_last_hidden_layer_before_its_noise():
  # The paper's code matches layers[-3], the last Dense(250)'s ReLU output ahead of its
  # GaussianNoiseLayer. With one hidden layer and no input noise, the train-mode features
  # are then the eval-mode ones, while the logits (after the noise) are not.
  d = improved_gan.ClassifierDiscriminator(K, hidden_dims=(16,), input_noise=0.0,
                                           hidden_noise=0.5)
  x = jax.random.uniform(jax.random.PRNGKey(0), (6, *SHAPE), minval=-1, maxval=1)
  params = d.init(jax.random.PRNGKey(1), x, train=False)['params']
  eval_logits, eval_features = d.apply({'params': params}, x, train=False)
  logits, features = d.apply({'params': params}, x, train=True, noise_key=jax.random.PRNGKey(2))
  p = {k: np.asarray(v, np.float64) for k, v in params['WeightNormDense_0'].items()}
  relu = np.maximum(np.asarray(x, np.float64).reshape(6, -1) @ (
      p['kernel'] / np.linalg.norm(p['kernel'], axis=0)) * p['scale'] + p['bias'], 0)
  np.testing.assert_allclose(features, relu, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(features, eval_features, rtol=1e-6)
  assert not np.allclose(logits, eval_logits, atol=1e-3)


def test_minibatch_discrimination_in_the_classifier_and_where_it_is_refused():
  d = improved_gan.ClassifierDiscriminator(K, hidden_dims=(16,), input_noise=0.0,
                                           hidden_noise=0.0, minibatch_kernels=4)
  x = jax.random.uniform(jax.random.PRNGKey(0), (6, *SHAPE), minval=-1, maxval=1)
  params = d.init(jax.random.PRNGKey(1), x, train=False)['params']
  assert params['WeightNormDense_1']['kernel'].shape == (16 + 4, K)
  logits, features = d.apply({'params': params}, x, train=False)
  assert features.shape == (6, 16)  # Feature matching reads the layer before it.
  moved = d.apply({'params': params}, x.at[0].multiply(-3.0), train=False)[0]
  assert not np.any(np.isclose(np.asarray(logits), np.asarray(moved), rtol=1e-6, atol=1e-7)
                    .all(axis=1))  # Every example's logits see example 0.
  # Data-dependent init covers the minibatch layer too (the paper's code does).
  _, variables = d.apply({'params': params}, x, train=True, data_init=True, mutable=['params'])
  assert not np.allclose(variables['params']['MinibatchDiscrimination_0']['bias'], -1.0)
  validation.check_game(tiny_config(**SSGAN, **{'model.minibatch_kernels': 4}), K)
  with pytest.raises(ValueError, match=r"config.model.minibatch_kernels=4 is not supported by "
                                       r"config.game.name='pix2pix'"):
    validation.check_game(tiny_config(**{'game.name': 'pix2pix', 'model.name': 'unet',
                                         'data.pairs': 'edges',
                                         'model.minibatch_kernels': 4}), K)


@pytest.mark.slow
def test_a_fresh_run_initialises_d_from_its_first_batch(tmp_path):
  """train.init_from_data: D (and its EMA) standardised on the pipeline's first batch,
  which the first step then reads again; without d_data_init the state is the seed's."""
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  from gan_jax import parallel  # pylint: disable=g-import-not-at-top
  config = tiny_config(**SSGAN, **{'model.d_hidden_dims': (16,), 'model.d_data_init': True,
                                   'model.d_train_hidden_scale': False})
  source = data.make_source(config.data, 0)
  pipeline = data.make_semi_supervised_pipeline(source, config.data, config.batch_size, 0)
  first = next(pipeline)
  pipeline = data.make_semi_supervised_pipeline(source, config.data, config.batch_size, 0)
  mesh = parallel.make_mesh()
  fresh = state_lib.create_state(config, SHAPE, mesh, K)
  state = train.init_from_data(config, fresh, pipeline, SHAPE, mesh, K)
  again = next(pipeline)  # Rewound: the first step reads the batch the init read.
  for key in first:
    np.testing.assert_array_equal(first[key], again[key])
  assert len(mesh.devices.flat) == 8
  # On 8 devices (the batch split over them) as on one: the statistics are the global batch's.
  game = games.make_game(config, SHAPE, K)
  one_device = game.init_from_data(jax.device_get(fresh), first, jax.random.fold_in(
      fresh.key, train.DATA_INIT_STREAM))
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6),
               jax.device_get(state.params), jax.device_get(one_device.params))
  layer = {k: np.asarray(v, np.float64) for k, v in state.params['d']['WeightNormDense_0'].items()}
  x = np.asarray(first['x'], np.float64).reshape(len(first['x']), -1)
  # In train mode with noise the init saw noisy inputs; the fresh scale was 1, now 1 / std.
  assert not np.allclose(layer['scale'], 1)
  pre = x @ (layer['kernel'] / np.linalg.norm(layer['kernel'], axis=0)) * layer['scale']
  assert 0.7 < float(np.median((pre + layer['bias']).std(0))) < 1.3
  jax.tree.map(np.testing.assert_array_equal, state.ema['d'], state.params['d'])
  jax.tree.map(np.testing.assert_array_equal, state.params['g'], fresh.params['g'])
  off = config.copy_and_resolve_references()
  off.model.d_data_init = False
  assert train.init_from_data(off, fresh, pipeline, SHAPE, mesh, K) is fresh


def _game_and_state(**fields):
  # No noise layers, so the hand computation sees the logits the loss saw.
  config = tiny_config(**SSGAN, **{'model.d_input_noise': 0.0, 'model.d_hidden_noise': 0.0},
                       **fields)
  game = games.make_game(config, SHAPE, K)
  state = state_lib.init_state(config, SHAPE, jax.random.PRNGKey(0), K)
  rng = np.random.default_rng(1)
  batch = {'x': rng.uniform(-1, 1, (12, *SHAPE)).astype(np.float32),
           'x_lab': rng.uniform(-1, 1, (12, *SHAPE)).astype(np.float32),
           'y_lab': rng.integers(0, K, 12).astype(np.int32),
           'z': rng.normal(size=(12, config.model.latent_dim)).astype(np.float32)}
  return config, game, state, batch


def _d(game, state, x):
  logits, features = game.modules['d'].apply({'params': state.params['d']}, x, train=True)
  return np.asarray(logits, np.float64), np.asarray(features, np.float64)


def _fake(game, state, z):
  return game.modules['g'].apply({'params': state.params['g'],
                                  'batch_stats': state.batch_stats['g']}, z, train=True,
                                 mutable=['batch_stats'])[0]


@pytest.mark.slow
def test_discriminator_loss_equals_the_hand_written_formula():
  config, game, state, batch = _game_and_state(**{'game.semi_supervised.unlabeled_weight': 0.7})
  loss, (_, metrics) = game.loss('d', {'d': state.params['d']}, state, batch,
                                 jax.random.PRNGKey(2), step_lib.make_context(config))
  lab, _ = _d(game, state, batch['x_lab'])
  unl, _ = _d(game, state, batch['x'])
  fake, _ = _d(game, state, _fake(game, state, batch['z']))
  ce = -np.mean(_log_softmax(lab)[np.arange(12), batch['y_lab']])
  d_real = 1 / (1 + np.exp(-_logsumexp(unl)))
  d_fake = 1 / (1 + np.exp(-_logsumexp(fake)))
  unsupervised = -np.mean(np.log(d_real)) - np.mean(np.log(1 - d_fake))
  np.testing.assert_allclose(metrics['d_supervised'], ce, rtol=1e-5)
  np.testing.assert_allclose(metrics['d_unsupervised'], unsupervised, rtol=1e-5)
  np.testing.assert_allclose(loss, ce + 0.7 * unsupervised, rtol=1e-5)
  np.testing.assert_allclose(metrics['d_train_error'],
                             np.mean(lab.argmax(1) != batch['y_lab']), rtol=1e-6)


def test_class_entropy_equals_the_hand_written_formula():
  logits = np.array([[0.0, 0.0, 0.0], [10.0, -3.0, 1.0], [1.0, 2.0, -1.0]], np.float32)
  p = np.exp(_log_softmax(logits))
  expected = np.mean(-np.sum(p * np.log(p), axis=1))
  np.testing.assert_allclose(semi_supervised.class_entropy(jnp.asarray(logits)), expected,
                             rtol=1e-6)
  # Uniform over K classes: log K; the row of 0s alone.
  np.testing.assert_allclose(semi_supervised.class_entropy(jnp.zeros((1, 3))), np.log(3),
                             rtol=1e-6)


@pytest.mark.slow
def test_entropy_weight_adds_the_unlabelled_class_entropy_to_d_loss():
  weight = 0.3
  config, game, state, batch = _game_and_state(
      **{'game.semi_supervised.entropy_weight': weight})
  context = step_lib.make_context(config)
  loss, (_, metrics) = game.loss('d', {'d': state.params['d']}, state, batch,
                                 jax.random.PRNGKey(2), context)
  unl, _ = _d(game, state, batch['x'])
  p = np.exp(_log_softmax(unl))
  entropy = np.mean(-np.sum(p * np.log(p), axis=1))
  np.testing.assert_allclose(metrics['d_unlabeled_entropy'], entropy, rtol=1e-5)
  np.testing.assert_allclose(
      loss, metrics['d_supervised'] + 0.5 * metrics['d_unsupervised'] + weight * entropy,
      rtol=1e-5)
  # Its gradient lowers the entropy: one plain gradient step on the term alone.
  def unlabelled_entropy(d_params):
    logits, _ = game.modules['d'].apply({'params': d_params}, batch['x'], train=True)
    return semi_supervised.class_entropy(logits)
  grad = jax.grad(unlabelled_entropy)(state.params['d'])
  stepped = jax.tree_util.tree_map(lambda p, g: p - 1e-3 * g, state.params['d'], grad)
  assert unlabelled_entropy(stepped) < entropy


@pytest.mark.slow
def test_generator_feature_matching_equals_the_hand_written_formula():
  config, game, state, batch = _game_and_state()
  loss, _ = game.loss('g', {'g': state.params['g']}, state, batch, jax.random.PRNGKey(3),
                      step_lib.make_context(config))
  _, real_features = _d(game, state, batch['x'])
  _, fake_features = _d(game, state, _fake(game, state, batch['z']))
  expected = np.mean((real_features.mean(axis=0) - fake_features.mean(axis=0)) ** 2)
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  config, game, state, batch = _game_and_state(**{'game.semi_supervised.g_loss':
                                                  'non_saturating'})
  loss, _ = game.loss('g', {'g': state.params['g']}, state, batch, jax.random.PRNGKey(3),
                      step_lib.make_context(config))
  fake, _ = _d(game, state, _fake(game, state, batch['z']))
  np.testing.assert_allclose(loss, np.mean(np.log1p(np.exp(-_logsumexp(fake)))), rtol=1e-5)


@pytest.mark.slow
def test_noise_layers_act_in_training_only():
  config = tiny_config(**SSGAN)
  game = games.make_game(config, SHAPE, K)
  state = state_lib.init_state(config, SHAPE, jax.random.PRNGKey(0), K)
  x = jnp.zeros((3, *SHAPE))
  apply = lambda train, key: game.modules['d'].apply(  # noqa: E731
      {'params': state.params['d']}, x, train=train, noise_key=key)[0]
  np.testing.assert_array_equal(apply(False, jax.random.PRNGKey(1)), apply(False, None))
  assert not np.allclose(apply(True, jax.random.PRNGKey(1)), apply(True, jax.random.PRNGKey(2)))


def test_labelled_split_is_balanced_and_seeded():
  labels = np.repeat(np.arange(K), 50)[np.random.default_rng(0).permutation(500)]
  chosen = labeled.labeled_indices(labels, 30, K, seed=4)
  assert len(set(chosen.tolist())) == 30
  assert np.bincount(labels[chosen], minlength=K).tolist() == [3] * K
  np.testing.assert_array_equal(chosen, labeled.labeled_indices(labels, 30, K, seed=4))
  assert not np.array_equal(chosen, labeled.labeled_indices(labels, 30, K, seed=5))
  with pytest.raises(ValueError, match='config.data.num_labeled=25 must be a positive multiple'):
    labeled.labeled_indices(labels, 25, K, seed=0)
  with pytest.raises(ValueError, match='config.data.num_labeled=600 asks for 60'):
    labeled.labeled_indices(labels, 600, K, seed=0)


def _write_idx(folder, split_prefix, images, labels):
  for kind, magic, array in (('images-idx3', 2051, images), ('labels-idx1', 2049, labels)):
    header = magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in array.shape)
    (folder / f'{split_prefix}-{kind}-ubyte').write_bytes(header + array.astype(np.uint8).tobytes())


def test_labelled_stream_comes_from_the_training_split_only(tmp_path):
  """Train images are even-valued, test images odd: the labelled stream holds only train ones."""
  rng = np.random.default_rng(0)
  train_y = np.arange(200) % 4
  train_x = (rng.integers(0, 128, (200, 4, 4)) * 2).astype(np.uint8)
  test_x = (rng.integers(0, 127, (40, 4, 4)) * 2 + 1).astype(np.uint8)
  _write_idx(tmp_path, 'train', train_x, train_y)
  _write_idx(tmp_path, 't10k', test_x, np.arange(40) % 4)
  config = tiny_config(**dict(SSGAN, **{'data.name': 'idx', 'data.path': str(tmp_path),
                                         'data.num_labeled': 8}))
  source = data.make_source(config.data, 0)
  pipeline = data.make_semi_supervised_pipeline(source, config.data, 16, seed=3)
  chosen = set(pipeline.indices.tolist())
  assert np.bincount(train_y[pipeline.indices]).tolist() == [2, 2, 2, 2]
  seen = set()
  for _ in range(6):
    batch = next(pipeline)
    assert set(batch) == {'x', 'x_lab', 'y_lab'}  # No label travels with the unlabelled x.
    pixels = np.rint((batch['x_lab'] + 1) * 127.5).astype(np.int64)
    assert np.all(pixels % 2 == 0)  # Never a test image.
    for image, label in zip(pixels[..., 0], batch['y_lab']):
      index = int(np.flatnonzero((train_x == image).all(axis=(1, 2)))[0])
      assert index in chosen and train_y[index] == label
      seen.add(index)
  assert seen == chosen
  # Resumable: a copy moved to the saved position continues identically.
  state = pipeline.get_state()
  expected = next(pipeline)
  again = data.make_semi_supervised_pipeline(source, config.data, 16, seed=3)
  again.set_state(state)
  got = next(again)
  for key in expected:
    np.testing.assert_array_equal(got[key], expected[key])


def test_fashion_labelled_split_is_balanced_and_from_train(shared_data_dir):
  config = tiny_config(**dict(SSGAN, **{'data.name': 'idx', 'data.num_labeled': 100,
                                         'data.path': str(shared_data_dir / 'fashion-mnist')}))
  source = data.make_source(config.data, 0)
  assert len(source) == 60_000
  chosen = labeled.labeled_indices(labeled.source_labels(source), 100, 10, seed=0)
  assert np.bincount(source.y[chosen], minlength=10).tolist() == [10] * 10


def test_config_errors_name_the_field():
  with pytest.raises(ValueError, match='config.data.num_labeled=20 serves a labelled stream'):
    validation.validate_config(tiny_config(**{'data.num_labeled': 20}))
  with pytest.raises(ValueError, match=r'config.data.num_labeled > 0'):
    games.make_game(tiny_config(**dict(SSGAN, **{'data.num_labeled': 0})), SHAPE, K)
  with pytest.raises(ValueError, match="config.model.name='dcgan' has no classifier"):
    games.make_game(tiny_config(**dict(SSGAN, **{'model.name': 'dcgan'})), SHAPE, K)
  with pytest.raises(ValueError, match="config.model.name='improved_gan' is a classifier pair"):
    games.make_game(tiny_config(**{'model.name': 'improved_gan'}), SHAPE, K)
  with pytest.raises(ValueError, match='at least 2 classes'):
    games.make_game(tiny_config(**SSGAN), SHAPE, 0)
  with pytest.raises(ValueError, match='config.game.semi_supervised.g_loss'):
    games.make_game(tiny_config(**SSGAN, **{'game.semi_supervised.g_loss': 'x'}), SHAPE, K)
  with pytest.raises(ValueError, match='config.game.semi_supervised.entropy_weight'):
    games.make_game(tiny_config(**SSGAN, **{'game.semi_supervised.entropy_weight': -1.0}),
                    SHAPE, K)


def _run(config):
  state = state_lib.init_state(config, SHAPE, jax.random.PRNGKey(0), K)
  return run_lib.Run(workdir='mem', step=0, config=config, state=state, data_shape=SHAPE,
                     meta={'num_classes': K})


@pytest.mark.slow
def test_classify_gives_logits_and_other_games_refuse():
  run = _run(tiny_config(**SSGAN))
  images = np.random.default_rng(0).uniform(-1, 1, (7, *SHAPE)).astype(np.float32)
  logits = run.classify(images)
  assert logits.shape == (7, K)
  expected = run.game.modules['d'].apply({'params': run.state.ema['d']}, images,
                                         train=False)[0]
  np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match=r'images must have shape \(N, 8, 8, 1\)'):
    run.classify(images[:, :4])
  with pytest.raises(ValueError, match="config.game.name='unconditional', which cannot "
                                       'classify images'):
    _run(tiny_config()).classify(images)


@pytest.mark.slow
def test_digits_run_trains_and_classifies(tmp_path):
  """A short digits run: its checkpoint loads and classifies better than chance."""
  from gan_jax import train  # pylint: disable=g-import-not-at-top
  config = tiny_config(**SSGAN, num_train_steps=150, **{
      'model.d_hidden_dims': (64,), 'optim.d_lr': 3e-3, 'optim.g_lr': 3e-3,
      'eval.metrics': ('classifier_accuracy',), 'eval.num_real': 500})
  train.train_and_evaluate(config, str(tmp_path))
  logged = json.loads((tmp_path / 'metrics.jsonl').read_text().splitlines()[-1])
  run = run_lib.load_run(str(tmp_path))
  source = data.make_source(config.data, 0)
  examples = data.read_examples(source, config.data, 500, 0)
  error = np.mean(run.classify(examples['x']).argmax(1) != examples['y'])
  assert error < 0.6
  # The metric scored the same 500 reference examples (the seeded subset) in training.
  assert logged['eval/classifier_accuracy'] == pytest.approx(1 - error)
  assert run.sample(4).shape == (4, *SHAPE)


def test_readout_and_classifier_accuracy_metric():
  from gan_jax import evaluation  # pylint: disable=g-import-not-at-top
  from gan_jax.metrics import evaluator  # pylint: disable=g-import-not-at-top
  config = tiny_config(**SSGAN)
  run = _run(config)
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, (9, *SHAPE)).astype(np.float32)
  readout = evaluation.make_readout(run.game, batch_size=4)
  logits = readout(run.state, x)['class_logits']
  np.testing.assert_allclose(logits, run.classify(x), rtol=1e-5, atol=1e-6)
  y = rng.integers(0, K, 9).astype(np.int32)
  inputs = evaluator.MetricInputs(config.eval, None, None, None, None,
                                  lambda: {'x': x, 'y': y}, None,
                                  lambda images: readout(run.state, images))
  result = evaluator.METRICS['classifier_accuracy'].compute(inputs)
  assert result['classifier_accuracy'] == pytest.approx(np.mean(logits.argmax(1) == y))
  with pytest.raises(ValueError, match=r"\['classifier_accuracy'\] read codes or classes"):
    validation.validate_config(tiny_config(**{'eval.metrics': ('classifier_accuracy',)}))
