"""Evaluation in a run: reference-statistics cache, best checkpoint, the evaluate CLI."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from gan_jax import evaluation
from gan_jax import run as run_lib
from gan_jax import train
from gan_jax.evaluate import evaluate_run
from gan_jax.metrics import evaluator as evaluator_lib
from tiny_configs import tiny_config
from xla_flags import FAST_COMPILE

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _digits_eval_config(tmp_path, **fields):
  return tiny_config(**{'eval.metrics': ('fid', 'kid', 'class_coverage'),
                        'eval.extractor': 'digits8', 'eval.cache_dir': str(tmp_path / 'cache'),
                        **fields})


def _fake_samples(num):
  return np.random.default_rng(0).uniform(-1, 1, (num, 8, 8, 1)).astype(np.float32)


def test_reference_cache_miss_then_hit(tmp_path):
  config = _digits_eval_config(tmp_path)
  first = evaluation.make_evaluator(config)
  results_1, _ = first.evaluate(_fake_samples)
  assert first.reference()['cache_hit'] is False
  assert os.path.exists(first.cache_path)
  second = evaluation.make_evaluator(config)
  results_2, _ = second.evaluate(_fake_samples)
  assert second.reference()['cache_hit'] is True
  assert results_1 == pytest.approx(results_2, rel=1e-12)
  assert second._real_examples is None  # The hit never touched the dataset.


@pytest.mark.parametrize('field, value', [('eval.num_real', 128), ('seed', 5),
                                          ('data.image_size', 16), ('data.split', 'test'),
                                          ('data.name', 'tfds')])
def test_reference_key_names_what_defines_the_reference(tmp_path, field, value):
  base = evaluation.reference_key(_digits_eval_config(tmp_path))
  assert evaluation.reference_key(_digits_eval_config(tmp_path, **{field: value})) != base


def test_cache_path_follows_the_extractor_weights(tmp_path):
  config = _digits_eval_config(tmp_path)

  class Extractor:
    def __init__(self, cache_key):
      self.cache_key = cache_key

  paths = {evaluator_lib.Evaluator(config.eval, lambda: None, {'dataset': 'd'},
                                   extractor=Extractor(key)).cache_path
           for key in ('digits8-aaaa', 'digits8-bbbb')}
  assert len(paths) == 2


def test_reference_cache_key_follows_the_data_file(tmp_path):
  path = tmp_path / 'points.npz'
  np.savez(path, x=np.zeros((10, 2), np.float32))
  config = tiny_config(**{'data.name': 'npz', 'data.path': str(path)})
  before = evaluation.reference_key(config)
  os.utime(path, ns=(1, 1))
  assert evaluation.reference_key(config) != before


def test_bad_eval_config_names_the_field():
  with pytest.raises(ValueError, match=r'config.eval.metrics has .fod'):
    evaluator_lib.check_eval_config(tiny_config(**{'eval.metrics': ('fod',)}).eval)
  with pytest.raises(ValueError, match='config.eval.extractor'):
    evaluator_lib.check_eval_config(tiny_config(**{'eval.metrics': ('fid',)}).eval)
  with pytest.raises(ValueError, match='config.eval.primary'):
    evaluator_lib.check_eval_config(tiny_config(**{
        'eval.metrics': ('fid',), 'eval.extractor': 'digits8', 'eval.primary': 'modes'}).eval)


@pytest.mark.slow
def test_training_logs_metrics_and_keeps_the_best_checkpoint(tmp_path):
  config = _digits_eval_config(tmp_path, num_train_steps=4, checkpoint_every_steps=4,
                               **{'eval.every_steps': 2})
  train.train_and_evaluate(config, str(tmp_path / 'run'))
  lines = [json.loads(l) for l in (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()]
  evals = {l['step']: l['eval/fid'] for l in lines if 'eval/fid' in l}
  assert sorted(evals) == [2, 4]
  best_step = min(evals, key=evals.get)
  assert os.listdir(tmp_path / 'run' / 'best') == [str(best_step)]


@pytest.mark.slow
def test_evaluate_writes_json(tmp_path):
  config = _digits_eval_config(tmp_path)
  train.train_and_evaluate(config, str(tmp_path / 'run'))
  report = evaluate_run(str(tmp_path / 'run'), num_samples=32)
  assert report['step'] == 2 and report['num_samples'] == 32
  assert set(report['metrics']) == {'fid', 'kid_mean', 'kid_std', 'classes_covered',
                                    'class_kl'}
  saved = json.loads((tmp_path / 'run' / 'eval' / 'step_2.json').read_text())
  assert saved['metrics'] == pytest.approx(report['metrics'])


@pytest.mark.slow
def test_evaluate_cli_on_a_ring_run(tmp_path):
  # Modes 0.2 wide: some of the barely trained generator's points are within 3 std (0.6)
  # of one of the 8 means (radius 1), some are not, so coverage, quality and KL are all
  # non-trivial numbers rather than 0, 0 and NaN.
  config = tiny_config(**{'data.name': 'ring', 'model.name': 'mlp', 'data.std': 0.2,
                          'eval.metrics': ('mode_coverage',)})
  train.train_and_evaluate(config, str(tmp_path))
  result = subprocess.run(
      [sys.executable, '-m', 'gan_jax.evaluate', f'--workdir={tmp_path}', '--num_samples=100'],
      cwd=ROOT, env=dict(os.environ, XLA_FLAGS=FAST_COMPILE), capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads(result.stdout)
  assert report['step'] == 2 and report['num_samples'] == 100
  assert set(report['metrics']) == {'modes', 'high_quality', 'mode_kl'}
  saved = json.loads((tmp_path / 'eval' / 'step_2.json').read_text())
  assert saved['metrics'] == report['metrics']

  # The VEEGAN protocol in NumPy, on the samples of the run's evaluation noise: each
  # point goes to its nearest of the 8 means at angles 2 pi k / 8 on the unit circle; it
  # is of high quality within 3 std of it; a mode is covered by one high-quality point;
  # the KL is that of the high-quality points' mode histogram from uniform.
  run = run_lib.load_run(str(tmp_path))
  samples = np.asarray(evaluation.generate_samples(run.sample_fn, run.state, 100, run.config),
                       np.float64)
  assert samples.shape == (100, 2)
  angles = 2 * np.pi * np.arange(8) / 8
  means = np.stack([np.cos(angles), np.sin(angles)], axis=1)
  distances = np.sqrt(((samples[:, None, :] - means[None]) ** 2).sum(-1))
  nearest, closest = distances.argmin(1), distances.min(1)
  good = closest <= 3 * 0.2
  counts = np.bincount(nearest[good], minlength=8)
  p = counts[counts > 0] / counts.sum()
  expected_kl = float(np.sum(p * np.log(8 * p)))
  assert 2 <= np.count_nonzero(counts) and 0 < good.mean() < 1  # The check is not vacuous.
  assert report['metrics']['modes'] == np.count_nonzero(counts)
  assert report['metrics']['high_quality'] == pytest.approx(good.mean(), abs=1e-12)
  assert report['metrics']['mode_kl'] == pytest.approx(expected_kl, rel=1e-9)
