"""Loading a trained run for notebooks and scripts: `load_run(workdir)`, `.sample()`, what
the run's game reads from images (`.encode()` for InfoGAN, `.classify()` for the
semi-supervised GAN), and `.translate()` for translation games (pix2pix; srgan's 4x super-resolution).

The checkpoint carries the config and the data shape, so a run can be restored without
its dataset and without the config file it was launched with.
"""

import dataclasses
import os

import jax
import ml_collections
import numpy as np

from gan_jax import evaluation
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
    self._readout_fn = None
    self._code_sample_fn = None
    self._translate_fns = {}

  @property
  def is_conditional(self) -> bool:
    """Whether the run's generator takes class labels."""
    return self.game.needs_labels

  def sample(self, num: int, seed: int = 0, labels=None, code=None,
             continuous=None) -> np.ndarray:
    """`num` samples from the EMA generator (the raw one when EMA is off), in data space.

    Images come back NHWC in [-1, 1], 2-D points as (num, 2); the same seed gives the
    same samples. A conditional run takes `labels`, ints of shape (num,) in
    [0, num_classes); None cycles through the classes (0, 1, ..., K-1, 0, ...). An
    InfoGAN run takes `code` (ints (num,), values of its first categorical code) and
    `continuous` ((num, n_continuous) values of its continuous codes); None draws them
    from their priors.
    """
    z = jax.random.normal(jax.random.PRNGKey(seed), (num, self.game.noise_dim))
    if code is not None or continuous is not None:
      return self._sample_codes(num, z, labels, code, continuous)
    if not self.is_conditional:
      if labels is not None:
        raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                         f'{self.config.game.name!r}, whose generator takes no labels; '
                         'call sample() without labels.')
      return np.asarray(self.sample_fn(self.state, z))
    labels = class_labels(num, self.num_classes, labels)
    return np.asarray(self.sample_fn(self.state, z, labels))

  def translate(self, images, direction: str = 'ab') -> np.ndarray:
    """`images` (NHWC in [-1, 1], the run's source images) translated by its generator.

    pix2pix translates 'ab' (source -> target); CycleGAN 'ab' (A -> B) or 'ba'. It uses the EMA generator when EMA is on,
    in eval mode (running BatchNorm statistics, no dropout), fully convolutionally, so
    any size the U-Net accepts works (sides that do not halve often enough are padded).
    An srgan run super-resolves LR images of any size to 4 times their height and width.
    """
    if not self.game.translations:
      raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                       f'{self.config.game.name!r}, which does not translate images; '
                       'translate() needs a run of a translation game (pix2pix, cyclegan).')
    if direction not in self.game.translations:
      raise ValueError(f'direction={direction!r} is not one this run translates in; it has '
                       f'{", ".join(map(repr, self.game.translations))}.')
    images = np.asarray(images, np.float32)
    channels = self.game.source_shape(direction)[-1]
    if images.ndim != 4 or images.shape[-1] != channels:
      raise ValueError(f'images must have shape (N, H, W, {channels}) (the run translates '
                       f'{channels}-channel images), got {images.shape}.')
    if direction not in self._translate_fns:
      self._translate_fns[direction] = evaluation.make_translate(self.game, direction)
    return self._translate_fns[direction](self.state, images)

  def classify(self, images) -> np.ndarray:
    """(N, K) class logits of `images` (NHWC in [-1, 1], like the samples) by the run's D.

    Only a game whose discriminator is a classifier has them (config.game.name=
    semi_supervised); it uses D's EMA when EMA is on, in eval mode (no noise layers).
    """
    return self._readout('classify', images)['class_logits']

  def _sample_codes(self, num: int, z, labels, code, continuous) -> np.ndarray:
    if 'encode' not in self.game.readouts:
      raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                       f'{self.config.game.name!r}, which has no latent codes; code= and '
                       'continuous= need an InfoGAN run (config.game.name=infogan).')
    if labels is not None:
      raise ValueError('An InfoGAN run takes code= (its first categorical code), not labels=.')
    if code is not None:
      if not self.game.categorical:
        raise ValueError(f'This run ({self.workdir}) has no categorical code; drop code=.')
      code = class_labels(num, self.game.categorical[0], code, what='code')
    if continuous is not None:
      continuous = np.asarray(continuous, np.float32)
      if continuous.shape != (num, self.game.num_continuous):
        raise ValueError(f'continuous must have shape ({num}, {self.game.num_continuous}) '
                         f'(samples, continuous codes), got {continuous.shape}.')
    if self._code_sample_fn is None:
      use_ema = self.config.optim.ema_decay > 0
      self._code_sample_fn = jax.jit(
          lambda state, z, code, cont: self.game.sample_codes(state, z, code, cont, use_ema))
    return np.asarray(self._code_sample_fn(self.state, z, code, continuous))

  def encode(self, images) -> dict:
    """InfoGAN's Q on `images` (NHWC in [-1, 1], like the samples): {'code_logits': (N, K)
    of the first categorical code (then 'code_logits_1', ...), 'continuous_mean': (N,
    n_continuous), and 'continuous_log_std' when the run learned it}."""
    return self._readout('encode', images)

  def _readout(self, kind: str, images) -> dict:
    if kind not in self.game.readouts:
      raise ValueError(f'This run ({self.workdir}) plays config.game.name='
                       f'{self.config.game.name!r}, which cannot {kind} images; '
                       f'{kind}() needs a run of a game that can ('
                       f'{"infogan" if kind == "encode" else "semi_supervised"}).')
    images = np.asarray(images, np.float32)
    if images.shape[1:] != tuple(self.data_shape):
      raise ValueError(f'images must have shape (N, {", ".join(map(str, self.data_shape))}) '
                       f'like the run\'s data, got {images.shape}.')
    if self._readout_fn is None:
      self._readout_fn = evaluation.make_readout(self.game)
    return self._readout_fn(self.state, images)


def class_labels(num: int, num_classes: int, labels=None, what: str = 'labels') -> np.ndarray:
  """`labels` checked as int32 (num,) in [0, num_classes), or 0..K-1 cycled when None."""
  if labels is None:
    return np.arange(num, dtype=np.int32) % num_classes
  labels = np.asarray(labels)
  if labels.shape != (num,) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'{what} must be integers of shape ({num},), got {labels.dtype} '
                     f'{labels.shape}.')
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(f'{what} must be in [0, {num_classes}): the run has {num_classes} '
                     f'values; got values from {labels.min()} to {labels.max()}.')
  return labels.astype(np.int32)


def load_run(workdir: str, step: int | None = None) -> Run:
  """Restores the run in `workdir` at checkpoint `step` (the newest intact one when None).

  A damaged checkpoint is a checkpoint.DamagedCheckpointError naming the damaged file.
  """
  directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
  if not os.path.isdir(directory):
    raise FileNotFoundError(f'{workdir} has no checkpoints/ directory: is it a gan_jax workdir?')
  checkpointer = checkpoint_lib.Checkpointer(directory, read_only=True)
  try:
    steps = checkpointer.all_steps()
    if not steps:
      raise FileNotFoundError(f'{directory} holds no complete checkpoint.')
    if step is None:
      step = checkpointer.newest_good_step()
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
