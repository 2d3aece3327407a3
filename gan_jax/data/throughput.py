"""How fast the host input pipeline delivers training batches, to check it never starves the step.

A train step consumes one batch of `batch_size * n_critic` examples; the pipeline must
produce them faster than the compiled step runs. `loader_speed` times the pipeline that
`gan_jax.train` builds for a config, on its own (no step running), including the
transfer of each batch to the devices. `benchmarks/step_speed.py` prints it next to the
step's steps/s.
"""

import time

import jax

from gan_jax import parallel
from gan_jax.data import on_device
from gan_jax.data import pipeline as pipeline_lib
from gan_jax.data import sources


def loader_speed(config, mesh, seconds: float) -> dict:
  """Batches/s of the host pipeline that `gan_jax.train` builds for `config`.

  Each batch is what one train step consumes (n_critic critic batches), read by this
  process, preprocessed and put on `mesh` as the loop does. Returns
  `loader_batches_per_sec` and `loader_examples_per_sec` (None where there is no
  figure), `loader_workers` and `loader_note` (why there is no figure, else '').
  """
  none = {'loader_batches_per_sec': None, 'loader_examples_per_sec': None,
          'loader_workers': int(config.data.num_workers)}
  if on_device.make_device_sampler(config.data) is not None:
    return {**none, 'loader_note': 'no host pipeline: the data is drawn inside the step'}
  try:
    source = sources.make_source(config.data, config.seed)
  except FileNotFoundError as error:  # A TFDS dataset that is not prepared, a missing file.
    return {**none, 'loader_note': 'no data here: ' + str(error).splitlines()[0]}
  local_batch = config.batch_size * config.loss.n_critic // jax.process_count()
  pipeline = pipeline_lib.make_pipeline(source, config.data, local_batch, config.seed,
                                        shard_index=jax.process_index(),
                                        shard_count=jax.process_count())
  try:
    for _ in range(2):  # Worker start-up and first touches are not the steady state.
      jax.block_until_ready(parallel.global_batch(next(pipeline), mesh))
    batches, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
      jax.block_until_ready(parallel.global_batch(next(pipeline), mesh))
      batches += 1
    elapsed = time.perf_counter() - start
  finally:
    pipeline.close()
  rows = config.batch_size * config.loss.n_critic
  return {**none, 'loader_batches_per_sec': round(batches / elapsed, 2),
          'loader_examples_per_sec': round(batches * rows / elapsed, 1),
          'loader_note': ''}
