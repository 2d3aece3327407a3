"""The mode-coverage study's configs: rows, modifiers and the best-recipe files."""

import pytest

from by_path import EXPERIMENTS
from by_path import load_module
from gan_jax.core import validation


study = load_module(EXPERIMENTS / 'mixture_study.py')


def test_modifiers_set_their_fields_on_top_of_the_method():
  plain = study.get_config('grid,gan')
  config = study.get_config('grid,gan+pack4+decay+lr1e3+d3x256+r1+steps35k')
  assert plain.model.d_hidden_dims == () and plain.loss.r1 == 0.0
  assert config.model.d_hidden_dims == (256, 256, 256)
  assert config.model.hidden_dims == plain.model.hidden_dims == (128, 128)  # G unchanged.
  assert config.loss.r1 == 0.1
  assert config.num_train_steps == 35_000 and plain.num_train_steps == 25_000
  assert config.stabilize.pack == 4 and config.batch_size == 4 * plain.batch_size
  assert config.optim.g_lr == config.optim.d_lr == 1e-3
  assert config.optim.schedule == 'linear'
  validation.validate_config(config)


@pytest.mark.parametrize('modifier', ['steps0k', 'steps', 'steps35', 'stepsk', 'wide'])
def test_unknown_modifiers_are_named_with_the_known_ones(modifier):
  with pytest.raises(ValueError, match=rf"modifier '{modifier}' is unknown.*steps<N>k"):
    study.get_config(f'ring,gan+{modifier}')


@pytest.mark.parametrize('name, dataset', [('ring_best', 'ring'), ('grid_best', 'grid')])
def test_best_recipes_are_valid_study_rows(name, dataset):
  config = load_module(EXPERIMENTS / f'{name}.py').get_config()
  assert config.data.name == dataset
  validation.validate_config(config)
