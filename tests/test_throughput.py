"""gan_jax/data/throughput.py: the input pipeline's batches/s, or why there is none."""

import numpy as np

from gan_jax import parallel
from gan_jax.data import throughput
from tiny_configs import tiny_config


def test_loader_speed_counts_batches_of_the_embedded_digits():
  config = tiny_config(batch_size=8)
  config.loss.n_critic = 2
  result = throughput.loader_speed(config, parallel.make_mesh(), seconds=0.2)
  assert result['loader_note'] == ''
  assert result['loader_batches_per_sec'] > 0
  # A step's batch is batch_size * n_critic examples.
  np.testing.assert_allclose(result['loader_examples_per_sec'],
                             16 * result['loader_batches_per_sec'], rtol=0.01)


def test_loader_speed_is_none_when_the_step_draws_its_data():
  config = tiny_config(batch_size=8)
  config.data.name = 'ring'
  config.data.fresh_samples = True
  config.data.draw_on_device = True
  result = throughput.loader_speed(config, parallel.make_mesh(), seconds=0.2)
  assert result['loader_batches_per_sec'] is None
  assert 'drawn inside the step' in result['loader_note']


def test_loader_speed_is_none_with_a_reason_when_the_file_is_missing(tmp_path):
  config = tiny_config(batch_size=8)
  config.data.name = 'npz'
  config.data.path = str(tmp_path / 'missing.npz')
  result = throughput.loader_speed(config, parallel.make_mesh(), seconds=0.2)
  assert result['loader_batches_per_sec'] is None
  assert 'missing.npz' in result['loader_note']
