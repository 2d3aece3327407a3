"""Games: every registered game shards and resumes exactly; conditional GANs' terms by hand."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gan_jax
from gan_jax import games
from gan_jax import models
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from gan_jax import train
from gan_jax.core import validation
from gan_jax.games import loss_weights
from gan_jax.models import conditioning as conditioning_lib
from tiny_configs import tiny_config

SHAPE = (8, 8, 1)
NUM_CLASSES = 10

# A tiny config of each registered game (a new game adds its line here).
GAME_CONFIGS = {
    'unconditional': {},
    'conditional': {'game.name': 'conditional'},
    # The paper's recipe: D initialised from the first batch (train.init_from_data), so
    # resume covers it; its hidden weight-norm scales fixed.
    'semi_supervised': {'game.name': 'semi_supervised', 'model.name': 'improved_gan',
                        'data.num_labeled': 20, 'model.d_data_init': True,
                        'model.d_train_hidden_scale': False},
    'infogan': {'game.name': 'infogan'},
    # SGD: on 8x8 images the residual blocks run on 2x2 maps, where some kernel taps get
    # gradients of rounding size (~1e-8), which Adam's first step turns into a
    # layout-dependent fraction of the learning rate.
    'cyclegan': {'game.name': 'cyclegan', 'model.name': 'cyclegan', 'data.domain_b': 'mnistm',
                 'loss.name': 'least_squares', 'model.patch_layers': 1,
                 'model.resnet_blocks': 1, 'game.cyclegan.identity_weight': 0.0,
                 'game.cyclegan.pool_size': 20, 'optim.name': 'sgd'},
    'pix2pix': {'game.name': 'pix2pix', 'model.name': 'unet', 'data.pairs': 'edges',
                'model.patch_layers': 1},
    'srgan': {'game.name': 'srgan', 'model.name': 'srresnet', 'data.pairs': 'bicubic_x4',
              'model.sr_blocks': 1, 'model.sr_d_halvings': 2, 'model.sr_dense': 16},
}


# Variants of a game whose networks differ enough to be checked on their own too.
VARIANT_CONFIGS = {
    **GAME_CONFIGS,
    # The convolutional D: dropout drawn under sharding, weight-norm convs from data.
    'semi_supervised_conv': {'game.name': 'semi_supervised', 'model.name': 'improved_gan_conv',
                             'data.num_labeled': 20, 'model.d_conv_widths': (4,),
                             'model.g_features': 4, 'model.d_data_init': True,
                             'model.d_train_hidden_scale': False},
}


def test_every_game_has_a_tiny_config():
  assert set(GAME_CONFIGS) == set(games.GAMES)


def _batch(config, seed=0):
  rng = np.random.default_rng(seed)
  n = config.batch_size * config.loss.n_critic
  if config.data.num_labeled:  # The unlabelled stream and the labelled one beside it.
    return {'x': rng.uniform(-1, 1, (n, *SHAPE)).astype(np.float32),
            'x_lab': rng.uniform(-1, 1, (n, *SHAPE)).astype(np.float32),
            'y_lab': rng.integers(0, NUM_CLASSES, (n,)).astype(np.int32)}
  batch = {'x': rng.uniform(-1, 1, (n, *SHAPE)).astype(np.float32),
           'y': rng.integers(0, NUM_CLASSES, (n,)).astype(np.int32)}
  if config.data.pairs:  # Translation: the source images beside the targets.
    src_shape = games.make_game(config, SHAPE).src_shape  # 4x smaller for super-resolution.
    batch['src'] = rng.uniform(-1, 1, (n, *src_shape)).astype(np.float32)
  if config.data.domain_b:  # Unpaired: grey domain A, colour domain B (mnistm).
    return {'a': batch['x'], 'b': rng.uniform(-1, 1, (n, *SHAPE[:2], 3)).astype(np.float32),
            'y_a': batch['y'], 'y_b': batch['y']}
  return batch


def _one_step(config, mesh, batch):
  state = state_lib.create_state(config, SHAPE, mesh, NUM_CLASSES)
  train_step = step_lib.make_train_step(config, mesh, SHAPE, num_classes=NUM_CLASSES)
  return jax.device_get(train_step(state, parallel.global_batch(batch, mesh)))


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(VARIANT_CONFIGS))
def test_eight_devices_match_one_for_every_game(name):
  config = tiny_config(**VARIANT_CONFIGS[name], **{'loss.n_critic': 2})
  batch = _batch(config)
  state_8, metrics_8 = _one_step(config, parallel.make_mesh(), batch)
  state_1, metrics_1 = _one_step(config, parallel.make_mesh(jax.devices()[:1]), batch)
  for a, b in zip(jax.tree.leaves(state_8), jax.tree.leaves(state_1)):
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
  for key in metrics_1:
    np.testing.assert_allclose(metrics_8[key], metrics_1[key], rtol=2e-5, atol=2e-6)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(VARIANT_CONFIGS))
def test_resume_is_exact_for_every_game(name, tmp_path):
  fields = VARIANT_CONFIGS[name]
  straight = train.train_and_evaluate(
      tiny_config(**fields, num_train_steps=4, checkpoint_every_steps=4), str(tmp_path / 'a'))
  train.train_and_evaluate(tiny_config(**fields, num_train_steps=2), str(tmp_path / 'b'))
  resumed = train.train_and_evaluate(
      tiny_config(**fields, num_train_steps=4, checkpoint_every_steps=2), str(tmp_path / 'b'))
  for a, b in zip(jax.tree.leaves(jax.device_get(straight)),
                  jax.tree.leaves(jax.device_get(resumed))):
    np.testing.assert_array_equal(a, b)


def _conditional_models(model_name, g_conditioning='cbn', d_conditioning='projection',
                        shape=SHAPE):
  config = tiny_config(**{'model.name': model_name})
  conditioning = conditioning_lib.Conditioning(NUM_CLASSES, g_conditioning, d_conditioning)
  return (config,) + models.make_models(config.model, shape, conditioning)


@pytest.mark.parametrize('model_name, g_conditioning, shape', [
    ('mlp', 'concat', (2,)), ('mlp', 'cbn', (2,)), ('dcgan', 'cbn', SHAPE),
    ('resnet', 'cbn', SHAPE)])
@pytest.mark.slow
def test_the_label_reaches_both_players(model_name, g_conditioning, shape):
  config, generator, discriminator = _conditional_models(model_name, g_conditioning,
                                                         shape=shape)
  z = jax.random.normal(jax.random.PRNGKey(0), (4, config.model.latent_dim))
  y0, y1 = jnp.zeros((4,), jnp.int32), jnp.full((4,), 3, jnp.int32)
  g_vars = generator.init(jax.random.PRNGKey(1), z, train=False, labels=y0)
  # Move the class-dependent parameters off their init (cBN scales start near 1).
  g_vars = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.PRNGKey(2), p.shape),
                        g_vars)
  x0 = generator.apply(g_vars, z, train=False, labels=y0)
  x1 = generator.apply(g_vars, z, train=False, labels=y1)
  assert x0.shape == (4, *shape) and not np.allclose(x0, x1)
  d_vars = discriminator.init(jax.random.PRNGKey(3), x0, train=False, labels=y0)
  assert not np.allclose(discriminator.apply(d_vars, x0, train=False, labels=y0),
                         discriminator.apply(d_vars, x0, train=False, labels=y1))


def test_projection_term_equals_its_formula():
  """D(x, y) = psi(phi(x)) + <V e_y, phi(x)>: the logit of the unconditional net plus the term."""
  config, _, discriminator = _conditional_models('mlp', shape=(2,))
  x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
  y = jnp.array([0, 3, 3, 9, 1], jnp.int32)
  variables = discriminator.init(jax.random.PRNGKey(1), x, train=False, labels=y)
  params = variables['params']
  # The projection embedding starts from zero-mean weights; give it a visible size.
  params['projection']['kernel'] = jax.random.normal(jax.random.PRNGKey(2),
                                                     params['projection']['kernel'].shape)
  logits = np.asarray(discriminator.apply({'params': params}, x, train=False, labels=y))
  # phi(x): the hidden layer by hand (leaky ReLU 0.2), psi: the output Dense.
  h = np.asarray(x) @ np.asarray(params['Dense_0']['kernel']) + np.asarray(params['Dense_0']['bias'])
  h = np.where(h > 0, h, 0.2 * h)
  psi = h @ np.asarray(params['Dense_1']['kernel'])[:, 0] + np.asarray(params['Dense_1']['bias'])[0]
  v = np.asarray(params['projection']['kernel'])  # (K, F): row y is embed(y).
  expected = psi + np.sum(v[np.asarray(y)] * h, axis=1)
  np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_conditional_batch_norm_equals_its_formula():
  module = conditioning_lib.ConditionalBatchNorm(num_classes=3, train=True)
  x = jax.random.normal(jax.random.PRNGKey(0), (6, 2, 2, 4)) * 3 + 1
  y = jnp.array([0, 1, 2, 2, 1, 0], jnp.int32)
  variables = module.init(jax.random.PRNGKey(1), x, y)
  out, _ = module.apply(variables, x, y, mutable=['batch_stats'])
  xn = np.asarray(x, np.float64)
  normalised = (xn - xn.mean(axis=(0, 1, 2))) / np.sqrt(xn.var(axis=(0, 1, 2)) + 1e-5)
  scale = np.asarray(variables['params']['scale']['embedding'])[np.asarray(y)]
  shift = np.asarray(variables['params']['shift']['embedding'])[np.asarray(y)]
  expected = normalised * scale[:, None, None, :] + shift[:, None, None, :]
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def _bce_real(logits):  # -log sigmoid(l)
  return np.log1p(np.exp(-logits))


def _bce_fake(logits):  # -log(1 - sigmoid(l))
  return np.log1p(np.exp(logits))


def _log_softmax(logits):
  logits = logits - logits.max(axis=1, keepdims=True)
  return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


@pytest.mark.slow
@pytest.mark.parametrize('on_fakes', [False, True])
def test_acgan_losses_equal_the_hand_written_formulas(on_fakes):
  config = tiny_config(**{'game.name': 'conditional', 'model.name': 'mlp',
                          'game.conditional.d_conditioning': 'acgan',
                          'game.conditional.g_conditioning': 'concat',
                          'game.conditional.acgan_d_weight': 0.7,
                          'game.conditional.acgan_g_weight': 0.3,
                          'game.conditional.acgan_d_on_fakes': on_fakes})
  game = games.make_game(config, (2,), NUM_CLASSES)
  state = state_lib.init_state(config, (2,), jax.random.PRNGKey(0), NUM_CLASSES)
  rng = np.random.default_rng(1)
  batch = {'x': rng.normal(size=(16, 2)).astype(np.float32),
           'y': rng.integers(0, NUM_CLASSES, 16).astype(np.int32),
           'z': rng.normal(size=(16, config.model.latent_dim)).astype(np.float32),
           'fake_y': rng.integers(0, NUM_CLASSES, 16).astype(np.int32)}
  key = jax.random.PRNGKey(2)
  d_loss, (_, d_metrics) = game.loss('d', {'d': state.params['d']}, state, batch, key,
                                     step_lib.make_context(config))
  g_loss, (_, g_metrics) = game.loss('g', {'g': state.params['g']}, state, batch, key,
                                     step_lib.make_context(config))
  apply = lambda name, **inputs: game.modules[name].apply(
      {'params': state.params[name], 'batch_stats': state.batch_stats[name]}, **inputs,
      train=True, mutable=['batch_stats'])[0]
  fake = apply('g', z=batch['z'], labels=batch['fake_y'])
  real_logit, real_classes = map(np.asarray, apply('d', x=batch['x'], labels=batch['y']))
  fake_logit, fake_classes = map(np.asarray, apply('d', x=fake, labels=batch['fake_y']))
  ce = lambda logits, y: -np.mean(_log_softmax(logits)[np.arange(len(y)), y])
  expected_d = (np.mean(_bce_real(real_logit)) + np.mean(_bce_fake(fake_logit))
                + 0.7 * ce(real_classes, batch['y']))
  if on_fakes:
    expected_d += 0.7 * ce(fake_classes, batch['fake_y'])
  expected_g = np.mean(_bce_real(fake_logit)) + 0.3 * ce(fake_classes, batch['fake_y'])
  np.testing.assert_allclose(d_loss, expected_d, rtol=1e-5)
  np.testing.assert_allclose(g_loss, expected_g, rtol=1e-5)
  assert ('d_class_fake' in d_metrics) == on_fakes and 'g_class' in g_metrics


@pytest.mark.slow
def test_fake_labels_from_the_data_are_the_real_batch_labels():
  config = tiny_config(**{'game.name': 'conditional', 'game.conditional.fake_labels': 'data'})
  game = games.make_game(config, SHAPE, NUM_CLASSES)
  batch = _batch(config)
  drawn = game.draw('d', batch, jax.random.PRNGKey(0))
  np.testing.assert_array_equal(drawn['fake_y'], batch['y'])
  uniform = games.make_game(tiny_config(**{'game.name': 'conditional'}), SHAPE, NUM_CLASSES)
  labels = np.asarray(uniform.draw('d', {'x': np.zeros((4000, 1)), 'y': np.zeros(4000, np.int32)},
                                   jax.random.PRNGKey(1))['fake_y'])
  counts = np.bincount(labels, minlength=NUM_CLASSES)
  assert counts.min() > 330 and counts.max() < 470  # 400 expected per class.


@pytest.mark.slow
def test_conditional_run_samples_requested_classes_and_checks_labels(tmp_path):
  config = tiny_config(**{'game.name': 'conditional'}, num_grid_samples=20)
  train.train_and_evaluate(config, str(tmp_path))
  run = gan_jax.load_run(str(tmp_path))
  assert run.is_conditional and run.num_classes == 10
  samples = run.sample(6, seed=0, labels=np.array([0, 1, 2, 3, 4, 5]))
  assert samples.shape == (6, 8, 8, 1) and np.all(np.abs(samples) <= 1)
  np.testing.assert_array_equal(run.sample(10, seed=1), run.sample(10, seed=1, labels=np.arange(10)))
  with pytest.raises(ValueError, match=r'labels must be in \[0, 10\)'):
    run.sample(2, labels=np.array([0, 10]))
  with pytest.raises(ValueError, match='shape'):
    run.sample(2, labels=np.array([0]))


@pytest.mark.slow
def test_unconditional_run_refuses_labels(tmp_path):
  train.train_and_evaluate(tiny_config(), str(tmp_path))
  with pytest.raises(ValueError, match='takes no labels'):
    gan_jax.load_run(str(tmp_path)).sample(2, labels=np.array([0, 1]))


def test_bad_game_configs_are_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="config.game.name='cgan' is unknown; known: conditional"):
    validation.validate_config(tiny_config(**{'game.name': 'cgan'}))
  with pytest.raises(ValueError, match=r"config.stabilize.pack=2 is not supported by "
                                       r"config.game.name='conditional'"):
    validation.validate_config(tiny_config(**{'game.name': 'conditional', 'stabilize.pack': 2}))
  with pytest.raises(ValueError, match='d_conditioning'):
    games.make_game(tiny_config(**{'game.name': 'conditional',
                                   'game.conditional.d_conditioning': 'concat'}), SHAPE, 10)
  with pytest.raises(ValueError, match=r"\['class_accuracy'\] score samples generated"):
    validation.validate_config(tiny_config(**{'eval.metrics': ('class_accuracy',),
                                              'eval.extractor': 'digits8'}))
  # A conditional game on unlabelled data stops before training.
  x = np.random.default_rng(0).integers(0, 255, (32, 8, 8, 1), dtype=np.uint8)
  np.savez(tmp_path / 'unlabelled.npz', x=x)
  config = tiny_config(**{'game.name': 'conditional', 'data.name': 'npz',
                          'data.path': str(tmp_path / 'unlabelled.npz')})
  with pytest.raises(ValueError, match='needs labelled data'):
    train.train_and_evaluate(config, str(tmp_path / 'run'))
  assert not (tmp_path / 'run' / 'checkpoints').exists()


@pytest.mark.slow
def test_conditional_preview_has_one_row_per_class(tmp_path):
  from PIL import Image
  train.train_and_evaluate(tiny_config(**{'game.name': 'conditional'}, num_grid_samples=20),
                           str(tmp_path))
  grid = np.asarray(Image.open(tmp_path / 'samples' / 'step_0000002.png'))
  # 8x8 digits enlarged to 32x32 cells with 2-pixel borders: 10 rows (classes) of 2.
  assert grid.shape[:2] == (10 * 32 + 11 * 2, 2 * 32 + 3 * 2)


@pytest.mark.slow
def test_a_checkpoint_from_before_games_is_a_clear_error(tmp_path):
  train.train_and_evaluate(tiny_config(), str(tmp_path))
  path = tmp_path / 'checkpoints' / '2' / 'meta' / 'metadata'  # orbax's JSON item
  meta = json.loads(path.read_text())
  # As written by gan_jax before games, which also predates integrity records.
  del meta['state_format'], meta['integrity_record']
  path.write_text(json.dumps(meta))
  (tmp_path / 'checkpoints' / '2' / 'integrity.json').unlink()
  with pytest.raises(ValueError, match='holds a state of format 1, and this gan_jax reads format 2'):
    gan_jax.load_run(str(tmp_path))


@pytest.mark.slow
def test_cas_metric_trains_on_the_samples_and_tests_on_the_reference(tmp_path):
  from gan_jax import evaluation
  from gan_jax.metrics import cas
  config = tiny_config(**{'game.name': 'conditional', 'eval.metrics': ('cas',)})
  train.train_and_evaluate(config, str(tmp_path))
  run = gan_jax.load_run(str(tmp_path))
  logged = json.loads((tmp_path / 'metrics.jsonl').read_text().splitlines()[-1])
  samples, labels = evaluation.generate_samples(run.sample_fn, run.state, 64, config,
                                                num_classes=10)
  evaluator = evaluation.make_evaluator(config)
  real = evaluator.real_examples()
  expected = cas.classification_accuracy_score(samples, labels, real['x'], real['y'], seed=0)
  assert logged['eval/cas'] == pytest.approx(expected)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(GAME_CONFIGS))
def test_k_steps_per_call_on_device_data_equal_single_calls_for_every_game(name):
  """Data drawn inside the step carries labels (the mixture's modes) for every game."""
  if games.GAMES[name].reads_labeled_stream:
    pytest.skip('a labelled stream (data.num_labeled) comes from the host pipeline only')
  if games.GAMES[name].reads_pairs or games.GAMES[name].reads_unpaired:
    pytest.skip('image pairs and unpaired domains come from the host pipeline only')
  config = tiny_config(**GAME_CONFIGS[name], **{
      'data.name': 'ring', 'data.fresh_samples': True, 'data.draw_on_device': True,
      'model.name': 'mlp', 'loss.n_critic': 2})
  mesh, shape, k = parallel.make_mesh(), (2,), 3
  single = step_lib.make_train_step(config, mesh, shape, num_classes=8)
  multi = step_lib.make_train_step(config, mesh, shape, steps_per_call=k, num_classes=8)
  state = state_lib.create_state(config, shape, mesh, 8)
  single_losses = []
  for _ in range(k):
    state, metrics = single(state, None)
    single_losses.append(float(metrics['g_loss']))
  single_state = jax.device_get(state)
  state, metrics = multi(state_lib.create_state(config, shape, mesh, 8), None)
  np.testing.assert_allclose(metrics['g_loss'], single_losses, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(jax.device_get(state)), jax.tree.leaves(single_state)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_ramped_weight_by_hand():
  weight = lambda step, start, ramp: float(loss_weights.ramped_weight(
      jnp.asarray(step, jnp.int32), 0.8, start, ramp))
  # InfoGAN's late start: 0 up to step 100, 0.8 * (step - 100) / 50 after, 0.8 from 150.
  for step, expected in [(0, 0.0), (99, 0.0), (100, 0.0), (110, 0.16), (125, 0.4),
                         (150, 0.8), (10_000, 0.8)]:
    assert weight(step, 100, 50) == pytest.approx(expected, abs=1e-6), step
  # No ramp: a step from 0 to the full weight at the start.
  assert [weight(s, 100, 0) for s in (0, 99, 100, 101)] == pytest.approx([0, 0, 0.8, 0.8])
  # SRGAN's warm-up (start 0): 0.8 * min(1, step / 40); no warm-up: 0.8 throughout.
  assert [weight(s, 0, 40) for s in (0, 10, 40, 90)] == pytest.approx([0, 0.2, 0.8, 0.8])
  assert weight(0, 0, 0) == pytest.approx(0.8)
