"""Loading a trained run for notebooks and scripts: `load_run(workdir)`, `.sample()`, `.classify()`.

The checkpoint carries the config and the data shape, so a run can be restored without
its dataset and without the config file it was launched with.
"""

import dataclasses
import os

import jax
import ml_collections
import numpy as np

from gan_jax.io import checkpoint as checkpoint_lib
from gan_jax import games
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib


@dataclasses.dataclass
class Run:
  """A restored run: its config, its state at `step`, and sampling from its generator."""
  workdir: str
  step: int
  config: ml_collections.ConfigDict
  state: state_lib.GameState
  data_shape: tuple
  meta: dict

  def __post_init__(self):
    self.num_classes = int(self.meta.get('num_classes', 0))
    self.game = games.make_game(self.config, self.data_shape, self.num_classes)
    # The jitted `sample_fn(state, z, labels=None)`, for callers that bring their own noise.
    self.sample_fn = step_lib.make_sample_fn(self.config, self.data_shape,
                                             num_classes=self.num_classes)
    self._classify_fn = None

  @property
  def is_conditional(self) -> bool:
    """Whether the run's generator takes class labels."""
    return self.game.needs_labels

  def sample(self, num: int, seed: int = 0, labels=None) -> np.ndarray:
    """`num` samples from the EMA generator (the raw one when EMA is off), in data space.

    Images come back NHWC in [-1, 1], 2-D points as (num, 2); the same seed gives the
    same samples. A conditional run takes `labels`, ints of shape (num,) in
    [0, num_classes); None cycles through the classes (0, 1, ..., K-1, 0, ...).
    """
    z = jax.random.normal(jax.random.PRNGKey(seed), (num, self.config.model.latent_dim))
    if not self.is_conditional:
      if labels is not None:
        raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                         f'{self.config.game.name!r}, whose generator takes no labels; '
                         'call sample() without labels.')
      return np.asarray(self.sample_fn(self.state, z))
    labels = class_labels(num, self.num_classes, labels)
    return np.asarray(self.sample_fn(self.state, z, labels))

  def classify(self, images, batch_size: int = 500) -> np.ndarray:
    """(N, K) class logits of `images` (NHWC in [-1, 1], like the samples) by the run's D.

    Only a game whose discriminator is a classifier has them (config.game.name=
    semi_supervised); it uses D's EMA when EMA is on, in eval mode (no noise layers).
    """
    classify = getattr(self.game, 'classify', None)
    if classify is None:
      raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                       f'{self.config.game.name!r}, whose discriminator is not a classifier; '
                       'classify() needs a run of config.game.name=semi_supervised.')
    images = np.asarray(images, np.float32)
    if images.shape[1:] != tuple(self.data_shape):
      raise ValueError(f'classify() takes images of shape (N, {", ".join(map(str, self.data_shape))}'
                       f'), NHWC in [-1, 1], as the run was trained on; got {images.shape}.')
    if self._classify_fn is None:
      use_ema = self.config.optim.ema_decay > 0
      self._classify_fn = jax.jit(lambda state, x: classify(state, x, use_ema=use_ema))
    return np.concatenate([np.asarray(self._classify_fn(self.state, images[i:i + batch_size]))
                           for i in range(0, len(images), batch_size)]
                          or [np.zeros((0, self.num_classes), np.float32)])


def class_labels(num: int, num_classes: int, labels=None) -> np.ndarray:
  """`labels` checked as int32 (num,) in [0, num_classes), or 0..K-1 cycled when None."""
  if labels is None:
    return np.arange(num, dtype=np.int32) % num_classes
  labels = np.asarray(labels)
  if labels.shape != (num,) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'labels must be integers of shape ({num},), got {labels.dtype} '
                     f'{labels.shape}.')
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(f'labels must be in [0, {num_classes}): the run has {num_classes} '
                     f'classes; got values from {labels.min()} to {labels.max()}.')
  return labels.astype(np.int32)


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
        step, state_lib.abstract_state(config, data_shape, mesh, int(meta.get('num_classes', 0))))
  finally:
    checkpointer.close()
  return Run(workdir=workdir, step=step, config=config, state=state,
             data_shape=data_shape, meta=meta)
