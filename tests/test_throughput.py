"""gan_jax/data/throughput.py: the input pipeline's batches/s, or why there is none."""

import time

import numpy as np
import pytest

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


class _SleepingPipeline:
  """Batches of `rows` zero images, each after a 10 ms wait: a pipeline of known speed."""

  def __init__(self, rows):
    self.rows, self.served, self.closed = rows, 0, False

  def __next__(self):
    time.sleep(0.01)
    self.served += 1
    return {'x': np.zeros((self.rows, 8, 8, 1), np.float32),
            'y': np.zeros((self.rows,), np.int32)}

  def close(self):
    self.closed = True


def test_loader_speed_measures_the_pipelines_rate(monkeypatch):
  made = []

  def make_pipeline(source, data_config, batch_size, seed, **kwargs):
    del source, data_config, seed, kwargs
    made.append(_SleepingPipeline(batch_size))
    return made[-1]

  monkeypatch.setattr(throughput.pipeline_lib, 'make_pipeline', make_pipeline)
  config = tiny_config(batch_size=8)
  config.loss.n_critic = 2
  result = throughput.loader_speed(config, parallel.make_mesh(), seconds=0.3)
  (pipeline,) = made
  # One batch feeds one step: batch_size * n_critic = 16 rows (one process here).
  assert pipeline.rows == 16
  assert pipeline.closed
  # 10 ms a batch is at most 100 batches/s; the transfer to the devices and a busy
  # machine only slow it down, and not by half.
  assert 50 < result['loader_batches_per_sec'] <= 100
  # Two warm-up batches, then the timed ones: about 0.3 s worth at the measured rate.
  timed = pipeline.served - 2
  assert timed == pytest.approx(0.3 * result['loader_batches_per_sec'], abs=2)
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
