"""InfoGAN: the codes' priors, the mutual-information term by hand, the Hungarian mapping,
the Q head's side, the API (sample with codes, encode), previews and bad inputs."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image
import pytest
import scipy.special
import scipy.stats

import gan_jax
from gan_jax import games
from gan_jax import train
from gan_jax.core import state as state_lib
from gan_jax.core import validation
from gan_jax.games import infogan as infogan_lib
from gan_jax.io import writers
from gan_jax.metrics import codes
from gan_jax.stabilize import affine
from tiny_configs import tiny_config
import by_path

SHAPE = (8, 8, 1)


def _game(**fields):
  config = tiny_config(**{'game.name': 'infogan', **fields})
  return config, games.make_game(config, SHAPE)


def _state_and_batch(config, game, n: int):
  """A fresh train state on one device and a D-side draw for n blank images."""
  mesh = gan_jax.parallel.make_mesh(jax.devices()[:1])
  state = state_lib.create_state(config, SHAPE, mesh)
  return state, game.draw('d', {'x': jnp.zeros((n, *SHAPE))}, jax.random.PRNGKey(1))


def test_codes_from_normals_follow_the_normal_cdf():
  u = jnp.asarray([[-3.0, 0.0, 0.3], [0.0, 1.5, -0.7], [2.5, -2.0, 0.0]])
  cat, cont = infogan_lib.codes_from_normals(u, (10, 4))
  phi = scipy.stats.norm.cdf(np.asarray(u))
  np.testing.assert_array_equal(cat, np.floor(phi[:, :2] * [10, 4]).astype(int))
  np.testing.assert_allclose(cont, 2 * phi[:, 2:] - 1, atol=1e-6)


def test_codes_from_normals_are_uniform():
  u = jax.random.normal(jax.random.PRNGKey(0), (200_000, 2))
  cat, cont = infogan_lib.codes_from_normals(u, (10,))
  counts = np.bincount(np.asarray(cat[:, 0]), minlength=10)
  # Chi-square test of uniformity over the 10 values (p > 0.001 unless broken).
  assert scipy.stats.chisquare(counts).pvalue > 1e-3
  assert scipy.stats.kstest(np.asarray(cont[:, 0]), scipy.stats.uniform(-1, 2).cdf).pvalue > 1e-3


@pytest.mark.parametrize('noise', ['normal', 'uniform'])
def test_split_noise_gives_g_normal_or_uniform_noise(noise):
  _, game = _game(**{'game.infogan.noise': noise, 'model.latent_dim': 4,
                     'game.infogan.categorical': (10,), 'game.infogan.continuous': 1})
  z = jax.random.normal(jax.random.PRNGKey(1), (50_000, 4 + 2))
  noise_part, cat, cont = game.split_noise(z)
  expected_cat, expected_cont = infogan_lib.codes_from_normals(z[:, 4:], (10,))
  np.testing.assert_array_equal(cat, expected_cat)
  np.testing.assert_array_equal(cont, expected_cont)
  if noise == 'normal':
    np.testing.assert_array_equal(noise_part, z[:, :4])
  else:
    np.testing.assert_allclose(noise_part, 2 * scipy.stats.norm.cdf(np.asarray(z[:, :4])) - 1,
                               atol=1e-6)
    assert scipy.stats.kstest(np.asarray(noise_part[:, 0]),
                              scipy.stats.uniform(-1, 2).cdf).pvalue > 1e-3
  with pytest.raises(ValueError, match="config.game.infogan.noise='cauchy' must be"):
    _game(**{'game.infogan.noise': 'cauchy'})


@pytest.mark.parametrize('noise', ['normal', 'uniform'])
def test_noise_scale_multiplies_only_the_noise(noise):
  fields = {'game.infogan.noise': noise, 'model.latent_dim': 4,
            'game.infogan.categorical': (10,), 'game.infogan.continuous': 1}
  _, game = _game(**fields)
  _, scaled_game = _game(**fields, **{'game.infogan.noise_scale': 0.1})
  z = jax.random.normal(jax.random.PRNGKey(2), (1000, 4 + 2))
  noise_part, cat, cont = game.split_noise(z)
  scaled, scaled_cat, scaled_cont = scaled_game.split_noise(z)
  np.testing.assert_allclose(scaled, 0.1 * np.asarray(noise_part), rtol=1e-6)
  np.testing.assert_array_equal(scaled_cat, cat)
  np.testing.assert_array_equal(scaled_cont, cont)
  if noise == 'normal':  # ClusterGAN's prior: N(0, 0.1^2) per entry.
    assert scipy.stats.kstest(np.asarray(scaled).ravel(),
                              scipy.stats.norm(0, 0.1).cdf).pvalue > 1e-3
  for bad in (0.0, -1.0):
    with pytest.raises(ValueError, match=f'config.game.infogan.noise_scale={bad} must be > 0'):
      _game(**{'game.infogan.noise_scale': bad})


@pytest.mark.parametrize('learn_std', [False, True])
def test_info_loss_is_cross_entropy_plus_gaussian_nll(learn_std):
  config, game = _game(**{'game.infogan.categorical': (3, 4),
                          'game.infogan.continuous': 2,
                          'game.infogan.learn_std': learn_std,
                          'game.infogan.lambda_categorical': 0.7,
                          'game.infogan.lambda_continuous': 0.3})
  rng = np.random.default_rng(0)
  n = 5
  q = rng.normal(size=(n, game.q_outputs)).astype(np.float32)
  batch = {'code': np.stack([rng.integers(0, 3, n), rng.integers(0, 4, n)], 1).astype(np.int32),
           'continuous': rng.uniform(-1, 1, (n, 2)).astype(np.float32)}
  loss, metrics = game.info_loss(jnp.asarray(q), batch)

  def ce(logits, labels):
    log_p = logits - scipy.special.logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(log_p[np.arange(n), labels])

  expected_ce = ce(q[:, :3], batch['code'][:, 0]) + ce(q[:, 3:7], batch['code'][:, 1])
  mean = q[:, 7:9]
  std = np.exp(q[:, 9:11]) if learn_std else np.ones_like(mean)
  expected_nll = -np.mean(np.sum(scipy.stats.norm.logpdf(batch['continuous'], mean, std), 1))
  np.testing.assert_allclose(metrics['info_categorical_ce'], expected_ce, rtol=1e-5)
  np.testing.assert_allclose(metrics['info_continuous_nll'], expected_nll, rtol=1e-5)
  np.testing.assert_allclose(loss, 0.7 * expected_ce + 0.3 * expected_nll, rtol=1e-5)
  np.testing.assert_allclose(metrics['mi_categorical'], np.log(3) + np.log(4) - expected_ce,
                             rtol=1e-5)
  assert game.q_outputs == 3 + 4 + 2 * (2 if learn_std else 1)


@pytest.mark.slow
def test_the_step_sets_the_continuous_weight_of_both_sides():
  config, game = _game(**{'game.infogan.continuous_start_step': 10,
                          'game.infogan.continuous_ramp_steps': 20,
                          'game.infogan.lambda_categorical': 0.7,
                          'game.infogan.lambda_continuous': 0.5})
  state, batch = _state_and_batch(config, game, 4)

  @jax.jit
  def losses(state):
    d_metrics = game.loss('d', {'d': state.params['d']}, state, batch,
                          jax.random.PRNGKey(2), None)[1][1]
    g_metrics = game.loss('g', {'g': state.params['g']}, state, batch,
                          jax.random.PRNGKey(3), None)[1][1]
    return d_metrics, g_metrics

  for step, expected in [(0, 0.0), (20, 0.25), (30, 0.5), (400, 0.5)]:
    d, g = losses(state.replace(step=jnp.asarray(step, state.step.dtype)))
    assert float(d['info_continuous_weight']) == pytest.approx(expected)
    assert float(g['g_info_continuous_weight']) == pytest.approx(expected)
    # D's loss: the adversarial term plus the weighted MI terms of its own update's fakes.
    np.testing.assert_allclose(
        d['d_loss'], d['d_adv'] + 0.7 * d['info_categorical_ce']
        + expected * d['info_continuous_nll'], rtol=1e-5)
    assert float(d['info_continuous_nll']) > 0


@pytest.mark.slow
def test_codes_read_from_warped_fakes_by_hand_on_both_sides():
  config, game = _game(**{'game.infogan.categorical': (3, 4),
                          'game.infogan.lambda_categorical': 0.7,
                          'game.infogan.lambda_continuous': 0.5,
                          'game.infogan.lambda_warped': 0.4,
                          'game.infogan.warp_degrees': 20.0})
  state, batch = _state_and_batch(config, game, 5)
  fake = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (5, *SHAPE)).astype(np.float32))
  key = jax.random.PRNGKey(7)
  term, metrics = game.fakes_extra_loss('d', state.params['d'], state.batch_stats['d'], fake,
                                        batch, key)
  # By hand: warp with the same key, run D, cross-entropy of each code's logits.
  warped = affine.random_affine(fake, key, 20.0, 0.1, 0.1)
  out, _ = gan_jax.games.base.apply(game.modules['d'], state.params['d'],
                                    state.batch_stats['d'], {'x': warped}, train=True)
  q = np.asarray(out[1], np.float64)
  log_p = lambda l: l - scipy.special.logsumexp(l, axis=1, keepdims=True)
  code = np.asarray(batch['code'])
  expected = (-np.mean(log_p(q[:, :3])[np.arange(5), code[:, 0]])
              - np.mean(log_p(q[:, 3:7])[np.arange(5), code[:, 1]]))
  np.testing.assert_allclose(metrics['info_warped_ce'], expected, rtol=1e-5)
  np.testing.assert_allclose(term, 0.4 * expected, rtol=1e-5)
  _, g_metrics = game.fakes_extra_loss('g', state.params['d'], state.batch_stats['d'], fake,
                                       batch, key)
  assert set(g_metrics) == {'g_info_warped_ce'}

  @jax.jit
  def losses(state):
    d = game.loss('d', {'d': state.params['d']}, state, batch, jax.random.PRNGKey(2), None)[1][1]
    g_loss = lambda p: game.loss('g', {'g': p}, state, batch, jax.random.PRNGKey(3), None)
    (_, (_, g)), g_grads = jax.value_and_grad(g_loss, has_aux=True)(state.params['g'])
    return d, g, g_grads

  d, g, g_grads = losses(state)
  # Each side's loss holds the term once, on its own fakes.
  np.testing.assert_allclose(
      d['d_loss'], d['d_adv'] + 0.7 * d['info_categorical_ce']
      + 0.5 * d['info_continuous_nll'] + 0.4 * d['info_warped_ce'], rtol=1e-5)
  assert float(d['info_warped_ce']) > 0 and float(g['g_info_warped_ce']) > 0
  assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(g_grads))
  # Off (the default), neither side has the term.
  _, plain = _game()
  assert plain.fakes_extra_loss('d', state.params['d'], state.batch_stats['d'], fake,
                                batch, key) is None


@pytest.mark.slow
def test_checkpoints_hold_d_statistics_of_their_weights(tmp_path):
  states = {}
  for batches in (0, 3):
    config = tiny_config(**{'game.name': 'infogan', 'num_train_steps': 4,
                            'checkpoint_every_steps': 2,
                            'game.infogan.precise_bn_batches': batches})
    train.train_and_evaluate(config, str(tmp_path / str(batches)))
    states[batches] = gan_jax.load_run(str(tmp_path / str(batches))).state
  plain, calibrated = states[0], states[3]
  # Calibration reads batches ahead and rewinds the pipeline: training is unchanged.
  for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(calibrated.params)):
    np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree.leaves(plain.batch_stats['g']),
                  jax.tree.leaves(calibrated.batch_stats['g'])):
    np.testing.assert_array_equal(a, b)
  # D's statistics are those of its final weights on real batches, not the running ones.
  d_plain, d_calibrated = plain.batch_stats['d'], calibrated.batch_stats['d']
  assert all(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(d_plain),
                                                   jax.tree.leaves(d_calibrated)))
  # By hand: the three batches the pipeline serves after the four steps' four batches.
  _, _, _, pipeline, _ = train._open_data(config)  # pylint: disable=protected-access
  batches = [next(pipeline) for _ in range(7)][4:]
  pipeline.close()
  game = games.make_game(config, SHAPE)
  by_hand = gan_jax.models.precise_bn.population_statistics(
      lambda stats, batch: gan_jax.games.base.apply(game.modules['d'], calibrated.params['d'],
                                                    stats, {'x': batch['x']}, True)[1],
      d_plain, batches)
  for a, b in zip(jax.tree.leaves(by_hand), jax.tree.leaves(d_calibrated)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_calibration_needs_the_host_pipeline():
  config = tiny_config(**{'game.name': 'infogan', 'data.name': 'ring', 'model.name': 'mlp',
                          'data.fresh_samples': True, 'data.draw_on_device': True})
  game = games.make_game(config, (2,))
  with pytest.raises(ValueError, match=r'precise_bn_batches\) to 0'):
    train.make_calibration(config, game, None, None)


def test_matched_accuracy_finds_the_best_one_to_one_map():
  # Code values 0, 1, 2 mostly mean classes 2, 0, 1; value 1 is also often class 2, which a
  # greedy argmax map would take twice.
  confusion = np.array([[1, 0, 50], [30, 0, 40], [0, 20, 2]])
  predicted = np.repeat(np.repeat(np.arange(3), 3), confusion.ravel())
  labels = np.repeat(np.tile(np.arange(3), 3), confusion.ravel())
  result = codes.matched_accuracy(predicted, labels, 3, 3)
  assert result.mapping == (2, 0, 1)
  np.testing.assert_array_equal(result.confusion, confusion)
  assert result.accuracy == pytest.approx((50 + 30 + 20) / confusion.sum())


def test_code_purity_by_hand():
  classes = np.array([0, 0, 1, 2, 2, 2, 1])
  values = np.array([0, 0, 0, 1, 1, 1, 2])
  result = codes.code_purity(classes, values, num_values=4, num_classes=3)
  np.testing.assert_allclose(result.per_value[:3], [2 / 3, 1, 1])
  assert np.isnan(result.per_value[3]) and result.majority == (0, 2, 1, -1)
  assert result.purity == pytest.approx((2 / 3 + 1 + 1) / 3)


def test_code_information_against_scipy_entropies():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(50, 4)) * 3
  p = scipy.special.softmax(logits, axis=1)
  expected_conditional = np.mean([scipy.stats.entropy(row) for row in p])
  expected_marginal = scipy.stats.entropy(p.mean(axis=0))
  result = codes.code_information(logits)
  assert result.conditional_entropy == pytest.approx(expected_conditional, rel=1e-12)
  assert result.marginal_entropy == pytest.approx(expected_marginal, rel=1e-12)
  assert result.information == pytest.approx(expected_marginal - expected_conditional)
  # Confident and balanced: log K. Confident but two values merged into one: log K - ...
  confident = np.repeat(np.eye(4) * 50, 5, axis=0)
  assert codes.code_information(confident).information == pytest.approx(np.log(4))
  merged = confident.copy()
  merged[5:10] = confident[0]  # value 1's images read as value 0: marginal (.5, 0, .25, .25)
  assert codes.code_information(merged).information == pytest.approx(
      scipy.stats.entropy([0.5, 0.25, 0.25]), abs=1e-9)
  assert codes.code_information(np.zeros((7, 4))).information == pytest.approx(0, abs=1e-12)
  with pytest.raises(ValueError, match=r'logits must have shape \(N, K\)'):
    codes.code_information(np.zeros(4))


@pytest.mark.slow
def test_q_is_trained_by_the_discriminator_side_and_the_term_reaches_g():
  config, game = _game()
  mesh = gan_jax.parallel.make_mesh(jax.devices()[:1])
  state = state_lib.create_state(config, SHAPE, mesh)
  assert 'q_head' in state.params['d'] and 'q_hidden' in state.params['d']
  batch = {'x': jnp.zeros((4, *SHAPE))}
  batch = game.draw('g', batch, jax.random.PRNGKey(1))
  assert batch['z'].shape == (4, 8 + 10 + 2) and batch['code'].shape == (4, 1)

  def g_info(g_params):
    fake, _ = game.generate(g_params, state.batch_stats['g'], batch)
    out, _ = gan_jax.games.base.apply(game.modules['d'], state.params['d'],
                                      state.batch_stats['d'], {'x': fake}, train=True)
    return game.info_loss(out[1], batch)[0]

  # Jitted: op by op, these gradients cost 40 s of tiny compilations.
  grads = jax.jit(jax.grad(g_info))(state.params['g'])
  assert all(np.any(np.asarray(g) != 0) for g in jax.tree.leaves(grads))
  d_loss = lambda p: game.loss('d', {'d': p}, state, batch, jax.random.PRNGKey(2), None)[0]
  d_grads = jax.jit(jax.grad(d_loss))(state.params['d'])
  assert np.any(np.asarray(d_grads['q_head']['kernel']) != 0)


def test_bad_infogan_configs_are_clear_errors():
  with pytest.raises(ValueError, match='config.game.infogan.categorical'):
    _game(**{'game.infogan.categorical': (1,)})
  with pytest.raises(ValueError, match='has no codes'):
    _game(**{'game.infogan.categorical': (), 'game.infogan.continuous': 0})
  for field in ('continuous_start_step', 'continuous_ramp_steps'):
    with pytest.raises(ValueError, match=f'config.game.infogan.{field}=-1 must be >= 0'):
      _game(**{f'game.infogan.{field}': -1})
  with pytest.raises(ValueError, match='precise_bn_batches=-1 must be >= 0'):
    _game(**{'game.infogan.precise_bn_batches': -1})
  for field in ('lambda_warped', 'warp_degrees', 'warp_scale', 'warp_shift'):
    with pytest.raises(ValueError, match=f'config.game.infogan.{field}=-1.0 must be >= 0'):
      _game(**{f'game.infogan.{field}': -1.0})
  with pytest.raises(ValueError, match=r'config.game.infogan.warp_scale=1.0 must be < 1'):
    _game(**{'game.infogan.warp_scale': 1.0})
  with pytest.raises(ValueError, match='lambda_warped > 0 reads the categorical codes'):
    _game(**{'game.infogan.categorical': (), 'game.infogan.lambda_warped': 1.0})
  with pytest.raises(ValueError, match=r'warps images \(H, W, C\); the data has shape \(2,\)'):
    games.make_game(tiny_config(**{'game.name': 'infogan', 'game.infogan.lambda_warped': 1.0}),
                    (2,))
  with pytest.raises(ValueError, match=r'pack=2 is not supported by config.game.name=.infogan'):
    validation.check_game(tiny_config(**{'game.name': 'infogan', 'stabilize.pack': 2}))
  with pytest.raises(ValueError, match=r"\['code_accuracy'\] read codes"):
    validation.check_game(tiny_config(**{'eval.metrics': ('code_accuracy',)}))


@pytest.fixture(scope='module')
def infogan_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('infogan'))
  config = tiny_config(**{'game.name': 'infogan', 'num_grid_samples': 20,
                          'eval.metrics': ('code_accuracy', 'code_purity',
                                           'code_information'),
                          'eval.extractor': 'digits8'})
  train.train_and_evaluate(config, workdir)
  return workdir


@pytest.mark.slow
def test_infogan_run_samples_encodes_and_previews(infogan_run):
  run = gan_jax.load_run(infogan_run)
  a = run.sample(6, seed=3)
  np.testing.assert_array_equal(a, run.sample(6, seed=3))
  fixed = run.sample(6, seed=3, code=np.full(6, 7))
  assert fixed.shape == (6, *SHAPE) and np.abs(fixed).max() <= 1
  assert not np.array_equal(fixed, run.sample(6, seed=3, code=np.full(6, 2)))
  swept = run.sample(6, seed=3, continuous=np.linspace(-2, 2, 12).reshape(6, 2))
  assert not np.array_equal(swept, a)
  encoded = run.encode(a)
  assert encoded['code_logits'].shape == (6, 10)
  assert encoded['continuous_mean'].shape == (6, 2)
  samples = os.path.join(infogan_run, 'samples')
  assert os.listdir(os.path.join(samples, 'traversal_c0')) == ['step_0000002.png']
  assert os.path.isdir(os.path.join(samples, 'traversal_c1'))
  line = [l for l in open(os.path.join(infogan_run, 'metrics.jsonl')) if 'eval/' in l][-1]
  assert 'eval/code_accuracy' in line and 'eval/code_purity' in line
  values = json.loads(line)
  assert 0 <= values['eval/code_information'] <= np.log(10) + 1e-6
  assert values['eval/code_information'] <= values['eval/code_marginal_entropy']


@pytest.mark.slow
def test_infogan_api_errors(infogan_run, tmp_path):
  run = gan_jax.load_run(infogan_run)
  with pytest.raises(ValueError, match=r'continuous must have shape \(3, 2\)'):
    run.sample(3, continuous=np.zeros((3, 1)))
  with pytest.raises(ValueError, match=r'code must be in \[0, 10\)'):
    run.sample(3, code=[0, 1, 10])
  with pytest.raises(ValueError, match=r'takes code= \(its first categorical code\), not labels='):
    run.sample(3, code=[0, 1, 2], labels=[0, 1, 2])
  with pytest.raises(ValueError, match=r'images must have shape \(N, 8, 8, 1\)'):
    run.encode(np.zeros((2, 28, 28, 1)))
  plain = str(tmp_path / 'plain')
  train.train_and_evaluate(tiny_config(), plain)
  plain_run = gan_jax.load_run(plain)
  with pytest.raises(ValueError, match='which has no latent codes'):
    plain_run.sample(2, code=[0, 1])
  with pytest.raises(ValueError, match='cannot encode images'):
    plain_run.encode(np.zeros((2, *SHAPE)))


def _benchmark(name: str, monkeypatch):
  # The reading benchmark imports its sibling code_scores.py as a script would.
  monkeypatch.syspath_prepend(str(by_path.BENCHMARKS))
  return by_path.load_benchmark(name)


def test_score_logits_maps_values_and_names_merges(monkeypatch):
  code_scores = _benchmark('code_scores', monkeypatch)
  # Value 0 reads five 0s and three 1s, value 1 two 1s, value 2 four 2s; value 3 nothing.
  values = [0] * 8 + [1] * 2 + [2] * 4
  labels = [0] * 5 + [1] * 3 + [1] * 2 + [2] * 4
  row = code_scores.score_logits(np.eye(4)[values], labels)
  assert row['mapping'][:3] == [0, 1, 2]
  assert row['code_accuracy'] == pytest.approx(11 / 14)
  assert row['merged_values'] == {'0': [0, 1]}  # 3 of the five 1s (60%) read as value 0.
  np.testing.assert_allclose(row['per_class_accuracy'], [1.0, 0.4, 1.0])


@pytest.mark.slow
def test_reading_benchmark_normalises_each_batch_by_itself(infogan_run, monkeypatch):
  reading = _benchmark('infogan_reading', monkeypatch)
  run = gan_jax.load_run(infogan_run)
  x = np.random.default_rng(1).uniform(-1, 1, (12, *SHAPE)).astype(np.float32)
  logits = reading.batch_statistics_logits(run, x, batch=4, seed=0)
  # By hand: D in train mode on each shuffled batch of 4, Q's first code's logits.
  for chunk in np.random.default_rng(0).permutation(12).reshape(3, 4):
    out, _ = gan_jax.games.base.apply(run.game.modules['d'], run.state.params['d'],
                                      run.state.batch_stats['d'], {'x': x[chunk]}, True)
    np.testing.assert_allclose(logits[chunk], out[1][:, :10], rtol=1e-5, atol=1e-5)
  # Not the eval-mode reading (the stored running statistics), which `encode` gives.
  assert not np.allclose(logits, run.encode(x)['code_logits'], atol=1e-3)
  with pytest.raises(ValueError, match='--calibration_batches=3 of 16 needs 48 images; the '
                     'reference set has 11'):
    reading.precise_logits(run, x[:11], 3)
  purity = reading.sample_purity(run, 3)
  assert 0.1 <= purity['purity_min'] <= purity['purity'] <= 1
  assert len(purity['class_per_value']) == 10


@pytest.mark.slow
def test_g_statistics_benchmark_samples_three_ways(infogan_run, monkeypatch, tmp_path):
  bench = _benchmark('g_statistics', monkeypatch)
  run = gan_jax.load_run(infogan_run)
  code = np.arange(8) % 10
  z = jax.random.normal(jax.random.PRNGKey(4), (8, run.game.noise_dim))
  stored = bench.make_sample_fn(run, True, 'stored')(run.state, z, code)
  # The stored reading is what Run.sample draws (InfoGAN's own code path).
  np.testing.assert_allclose(stored, run.sample(8, seed=4, code=code), atol=1e-6)
  # Standing statistics over one batch, then eval mode on that batch, is G in train mode
  # on it: each BatchNorm normalises by the batch's own (biased) mean and variance.
  batch = bench.noise_batches(run, 1)[0]
  stats = bench.standing_statistics(run, True, [batch])
  standing = run.state.replace(batch_stats={**run.state.batch_stats, 'g': stats})
  eval_mode = bench.make_sample_fn(run, True, 'standing')(standing, batch['z'], batch['labels'])
  train_mode = bench.make_sample_fn(run, True, 'batch')(run.state, batch['z'], batch['labels'])
  np.testing.assert_allclose(eval_mode, train_mode, atol=2e-5)
  assert not np.allclose(eval_mode, bench.make_sample_fn(run, True, 'stored')(
      run.state, batch['z'], batch['labels']), atol=1e-3)
  assert bench.sample_metrics(run.config, None) == ('code_purity',)
  grid = str(tmp_path / 'g_statistics.png')
  rows = bench.score_run(run, None, 2, grid_path=grid)
  assert [(r['weights'], r['g_statistics']) for r in rows] == [
      (w, r) for w in ('ema', 'raw') for r in ('stored', 'standing', 'batch')]
  # (ema, stored) repeats the run's own evaluation of the checkpoint.
  evaluated = [m for m in writers.read_metrics(infogan_run)
               if 'eval/code_purity' in m][-1]
  assert evaluated['step'] == rows[0]['step']
  np.testing.assert_allclose(rows[0]['code_purity'], evaluated['eval/code_purity'])
  # Ten rows (code values) of 8 samples, six panels and five white columns between them.
  cell = 32 + 2  # 8x8 images enlarged to 32 pixels, 2 pixels of padding.
  with Image.open(grid) as image:
    assert np.asarray(image).shape == (10 * cell + 2, (6 * 8 + 5) * cell + 2, 3)
  with pytest.raises(ValueError, match='has no metric of samples; pass --sample_metrics'):
    bench.sample_metrics(tiny_config(**{'eval.metrics': ('code_accuracy',)}), None)


@pytest.mark.slow
@pytest.mark.parametrize('model_name', ['mlp', 'dcgan', 'resnet'])
def test_q_head_on_every_model_family(model_name):
  config, game = _game(**{'model.name': model_name})
  mesh = gan_jax.parallel.make_mesh(jax.devices()[:1])
  state = state_lib.create_state(config, SHAPE, mesh)
  x = jax.random.uniform(jax.random.PRNGKey(0), (3, *SHAPE), minval=-1, maxval=1)
  read = game.readout(state, x)
  assert read['code_logits'].shape == (3, 10) and read['continuous_mean'].shape == (3, 2)
  assert game.sample(state, jnp.zeros((3, game.noise_dim))).shape == (3, *SHAPE)
  step = gan_jax.make_train_step(config, mesh, SHAPE)
  q_kernel = np.asarray(state.params['d']['q_head']['kernel'])  # The step donates the state.
  new_state, metrics = step(state, gan_jax.parallel.global_batch(
      {'x': np.asarray(jnp.tile(x, (6, 1, 1, 1))[:16])}, mesh))
  assert np.isfinite(float(metrics['info_categorical_ce']))
  assert not np.array_equal(new_state.params['d']['q_head']['kernel'], q_kernel)
