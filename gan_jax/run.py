"""Loading a trained run for notebooks and scripts: `load_run(workdir)` and `.sample()`.

The checkpoint carries the config and the data shape, so a run can be restored without
its dataset and without the config file it was launched with.
"""

import dataclasses
import os

import jax
import ml_collections
import numpy as np

from gan_jax import checkpoint as checkpoint_lib
from gan_jax import parallel
from gan_jax import state as state_lib
from gan_jax import step as step_lib


@dataclasses.dataclass
class Run:
  """A restored run: its config, its state at `step`, and sampling from its generator."""
  workdir: str
  step: int
  config: ml_collections.ConfigDict
  state: state_lib.GANState
  data_shape: tuple
  meta: dict

  def __post_init__(self):
    # The jitted `sample_fn(state, z)`, for callers that bring their own noise.
    self.sample_fn = step_lib.make_sample_fn(self.config, self.data_shape)

  def sample(self, num: int, seed: int = 0) -> np.ndarray:
    """`num` samples from the EMA generator (the raw one when EMA is off), in data space.

    Images come back NHWC in [-1, 1], 2-D points as (num, 2); the same seed gives the
    same samples.
    """
    z = jax.random.normal(jax.random.PRNGKey(seed), (num, self.config.model.latent_dim))
    return np.asarray(self.sample_fn(self.state, z))


def load_run(workdir: str, step: int | None = None) -> Run:
  """Restores the run in `workdir` at checkpoint `step` (the latest when None)."""
  directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
  if not os.path.isdir(directory):
    raise FileNotFoundError(f'{workdir} has no checkpoints/ directory: is it a gan_jax workdir?')
  checkpointer = checkpoint_lib.Checkpointer(directory, read_only=True)
  try:
    steps = checkpointer.all_steps()
    if not steps:
      raise FileNotFoundError(f'{directory} holds no complete checkpoint.')
    if step is None:
      step = steps[-1]
    elif step not in steps:
      raise ValueError(f'{directory} has no checkpoint for step {step}; it has {steps}.')
    config, meta = checkpointer.restore_metadata(step)
    data_shape = tuple(meta['data_shape'])
    mesh = parallel.make_mesh()
    state, _, _, _ = checkpointer.restore(
        step, state_lib.abstract_state(config, data_shape, mesh))
  finally:
    checkpointer.close()
  return Run(workdir=workdir, step=step, config=config, state=state,
             data_shape=data_shape, meta=meta)
