"""What a game is: the players of one GAN family, what they see, and their two sides' losses.

The training step (`gan_jax/core/step.py`) is the same program for every family: fold the
step into the key, `n_critic` updates of the discriminator side (a `lax.scan`), one
update of the generator side, the EMAs, the game's extra state. Everything that
differs between families lives in a `Game`:

  players       player name -> flax module ('g', 'd'; 'g_ab', 'g_ba', 'd_a', 'd_b'; ...)
  sides         'd' and 'g' -> the players each side's optimizer updates
  ema_players   the players whose weights get an exponential moving average
  draw          the inputs an update draws from its key (z, fake labels, codes)
  loss          one side's loss, a pure function of that side's parameters
  sample        what a loaded run generates from (z, conditioning)
  readout       what a loaded run reads from images with its discriminator side
                (InfoGAN's codes, a semi-supervised classifier's logits)

A game is built from `(config, data_shape, num_classes)` and holds no state: the
parameters, batch statistics, optimizer states, EMAs and extras live in `GameState`.
"""

import abc
from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp

PyTree = Any

# Stabilizers a game may support; `validation` refuses a configured one that the chosen
# game does not list in `supports`.
STABILIZERS = ('pack', 'diffaugment', 'gradient_penalty', 'r1', 'clip_weights',
               'unroll_steps', 'minibatch_std', 'minibatch_discrimination')


def apply(module, params, batch_stats, inputs: dict, train: bool, rngs: dict | None = None):
  """Applies `module` to keyword `inputs` ({'z': ...} or {'x': ..., 'labels': ...});
  returns (outputs, new batch_stats).

  Eval mode leaves the statistics as they are; train mode uses batch statistics and
  returns the updated running ones (and advanced spectral-norm vectors). `rngs` are the
  module's random streams in train mode (e.g. {'dropout': key} for pix2pix's U-Net).
  """
  variables = {'params': params, 'batch_stats': batch_stats}
  if not train:
    return module.apply(variables, **inputs, train=False), batch_stats
  outputs, updates = module.apply(variables, **inputs, train=True, mutable=['batch_stats'],
                                  rngs=rngs)
  return outputs, updates.get('batch_stats', batch_stats)


def init_variables(module, key: jax.Array, inputs: dict) -> tuple[PyTree, PyTree]:
  """A module's initial (params, batch_stats or {}) for example keyword `inputs` (eval mode)."""
  variables = flax.core.unfreeze(module.init(key, **inputs, train=False))
  return variables['params'], variables.get('batch_stats', {})


class Context(NamedTuple):
  """What the step lends a game's losses: the optimizers and their update rule.

  `apply_gradients(side, params, opt_state, grads) -> (params, opt_state)` is the exact
  update the step makes (weight clipping included), so a loss that looks ahead
  (unrolled GANs) differentiates through the real thing.
  """
  optimizers: dict
  apply_gradients: Callable


class Game(abc.ABC):
  """Base class of the GAN families. Subclasses set the class fields and the methods.

  Attributes:
    name: the registry name (`config.game.name`).
    players: the player names, in the order their init keys are split.
    sides: {'d': players the discriminator side updates, 'g': ... the generator side}.
    ema_players: players with an EMA of their weights (the ones sampled from).
    supports: the stabilizers (see STABILIZERS) this game can apply.
    needs_labels: whether the data must be labelled (`batch['y']`).
    reads_labeled_stream: whether the game reads the labelled stream of `data.num_labeled`
      examples (`batch['x_lab']`, `batch['y_lab']`; semi-supervised games).
    labelled_samples: whether samples are generated for given values of a label
      (conditional: the class; InfoGAN: the first categorical code), which the
      class-conditional metrics need.
    readouts: what `readout` gives a loaded run: () for none, 'encode' (InfoGAN's
      codes), 'classify' (class logits).
    reads_pairs: whether the game learns from paired images (`data.pairs`: batches carry
      'src' beside the target 'x'; pix2pix).
    reads_unpaired: whether the game learns from two unpaired domains (`data.domain_b`:
      batches carry 'a' and 'b'; cyclegan).
    translations: the directions `translate` maps images in: () for games that sample
      from noise, ('ab',) for pix2pix, ('ab', 'ba') for CycleGAN. Their evaluation
      translates the reference set's source images instead of sampling.
  """
  name = ''
  players: tuple[str, ...] = ('g', 'd')
  sides = {'d': ('d',), 'g': ('g',)}
  ema_players: tuple[str, ...] = ('g',)
  supports = frozenset(STABILIZERS)
  needs_labels = False
  reads_labeled_stream = False
  labelled_samples = False
  readouts: tuple[str, ...] = ()
  reads_pairs = False
  reads_unpaired = False
  translations: tuple[str, ...] = ()

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    self.config = config
    self.data_shape = tuple(int(d) for d in data_shape)
    self.num_classes = int(num_classes)
    self.modules = self.make_players()

  # --- what subclasses define -------------------------------------------------------
  @abc.abstractmethod
  def make_players(self) -> dict:
    """Player name -> unbound flax module."""

  @abc.abstractmethod
  def init_inputs(self) -> dict:
    """Player name -> example keyword inputs (a batch of 2) to initialise it with."""

  @abc.abstractmethod
  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """The inputs one update of `side` draws from `key`, added to the real `batch`."""

  @abc.abstractmethod
  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array, ctx: Context):
    """Side `side`'s loss as a function of its players' `params`.

    Returns (loss, (batch_stats updates {player: stats}, metrics {name: scalar})), or
    (loss, (stats, metrics, outputs)) where `outputs` (a dict of arrays, e.g. the fakes
    it made) is passed to `update_extra` after the generator side's update.
    `state` holds every other player's current values.
    """

  @abc.abstractmethod
  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    """Samples in data space from noise `z` (and `labels` for conditional games)."""

  # --- defaults that most games keep ---------------------------------------------------
  @property
  def sample_classes(self) -> int:
    """K when samples are generated for given classes (conditional games), else 0."""
    return self.num_classes if self.needs_labels else 0

  @property
  def noise_dim(self) -> int:
    """Size of the standard-normal vector z that `sample` maps to one example.

    `model.latent_dim` for most games; games whose generator also takes codes draw
    them from extra entries of z (InfoGAN), so that every sampler (previews,
    evaluation, `load_run(...).sample`) only draws standard normals.
    """
    return int(self.config.model.latent_dim)

  def readout(self, state, x: jax.Array) -> dict:
    """What the game reads from examples `x` (InfoGAN's codes, class logits), as a dict."""
    del state, x
    raise ValueError(f'config.game.name={self.name!r} reads nothing from images: encode() '
                     'needs an InfoGAN run (config.game.name=infogan) and classify() a '
                     'semi-supervised one.')

  @property
  def eval_direction(self) -> str:
    """The direction whose translations the metrics score (the first by default)."""
    return self.translations[0] if self.translations else ''

  def translate(self, state, images: jax.Array, direction: str = 'ab',
                use_ema: bool = True) -> jax.Array:
    """`images` translated in `direction` (one of `translations`), in eval mode."""
    del state, images, direction, use_ema
    raise ValueError(f'config.game.name={self.name!r} does not translate images: translate() '
                     'needs a run of a translation game (pix2pix).')

  def source_shape(self, direction: str) -> tuple:
    """The shape of one image that `translate` takes in `direction`."""
    del direction
    return self.src_shape

  def preview_columns(self, state, src: jax.Array, target: jax.Array) -> list:
    """Groups of image columns a translation preview shows side by side: src |
    translated | target by default; CycleGAN adds the way back."""
    return [[src, self.translate(state, src, self.eval_direction), target]]

  def extra_previews(self, state, z: jax.Array) -> dict:
    """Pictures beside the sample grid, {name: (rows, cols, *example_shape)}, from one
    noise vector `z` (1, noise_dim); none by default (InfoGAN: code traversals)."""
    del state, z
    return {}

  def warm_start_players(self) -> tuple[str, tuple[str, ...]]:
    """(workdir, players): a fresh run takes these players' weights, batch statistics and
    EMAs from the latest checkpoint in `workdir` (SRGAN's stage 2 from SRResNet); ('', ())
    for none. A run that resumes from its own checkpoint ignores it."""
    return '', ()

  @property
  def initialises_from_data(self) -> bool:
    """Whether a fresh state goes through `init_from_data` on the first batch."""
    return False

  def init_from_data(self, state, batch: dict, key: jax.Array):
    """A fresh `state` after the game's data-dependent initialisation on `batch`, the run's
    first (the semi-supervised GAN's weight-normalised D); unchanged by default."""
    del batch, key
    return state

  @property
  def calibration_batches(self) -> int:
    """How many real batches `calibrate` reads before each evaluation and checkpoint
    (0: the game calibrates nothing)."""
    return 0

  def calibrate(self, state, batches: list):
    """`state` with what eval mode reads recomputed from real `batches` (InfoGAN: D's
    BatchNorm statistics for its current weights); unchanged by default."""
    del batches
    return state

  def init_extra(self, key: jax.Array) -> PyTree:
    """The game's own state beside the players (e.g. CycleGAN's image pool); none here."""
    del key
    return {}

  def update_extra(self, state, batch: dict, outputs: dict, key: jax.Array) -> PyTree:
    """The game's extra state after a step; unchanged by default.

    `batch` is the generator update's batch and `outputs` what its loss returned as a
    third aux entry (CycleGAN: the fakes it made), so nothing is recomputed.
    """
    del batch, outputs, key
    return state.extra

  def preview_labels(self, num: int) -> jax.Array | None:
    """The labels of the preview grid's samples (None for unconditional games)."""
    del num
    return None

  def init_players(self, key: jax.Array) -> tuple[dict, dict]:
    """({player: params}, {player: batch_stats}) from `key` (split in `players` order)."""
    inputs = self.init_inputs()
    keys = jax.random.split(key, len(self.players) + 1)
    params, stats = {}, {}
    for name, player_key in zip(self.players, keys[:-1]):
      params[name], stats[name] = init_variables(self.modules[name], player_key, inputs[name])
    return params, stats

  def state_key(self, key: jax.Array) -> jax.Array:
    """The state's base key: the last of the keys `init_players` splits from `key`."""
    return jax.random.split(key, len(self.players) + 1)[-1]


class TranslationGame(Game):
  """Base of the games that map images to images (pix2pix, CycleGAN, SRGAN).

  Their generators are deterministic functions of the source image (pix2pix's dropout
  is drawn inside its loss), so they draw nothing per update and do not sample from
  noise: evaluation and loaded runs call `translate`, which applies the generator of a
  direction in eval mode. Subclasses set `translators`, direction -> (generator player,
  the keyword its module takes the source image as), and `usage`, how to call them.
  """
  supports = frozenset()
  translations = ('ab',)
  translators = {'ab': ('g', 'src')}
  usage = 'translate(images)'

  def check_image_data(self, data_shape: tuple) -> None:
    """Refuses data that are not images (subclasses call it first in `__init__`)."""
    if len(data_shape) != 3:
      raise ValueError(f'config.game.name={self.name} maps images to images, but the data has '
                       f'shape {tuple(data_shape)}.')

  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """Nothing: the generators are functions of the source images."""
    del side, key
    return batch

  @property
  def noise_dim(self) -> int:
    """No noise is drawn; samplers that ask get a size of 1 (unused)."""
    return 1

  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    del state, z, labels, use_ema
    raise ValueError(f'config.game.name={self.name} maps images to images and does not '
                     f'sample from noise: use {self.usage}.')

  def translate(self, state, images: jax.Array, direction: str = 'ab',
                use_ema: bool = True) -> jax.Array:
    if direction not in self.translations:
      raise ValueError(f'config.game.name={self.name} translates in the directions '
                       f'{self.translations}; got direction={direction!r}.')
    player, keyword = self.translators[direction]
    params = state.ema[player] if use_ema else state.params[player]
    return apply(self.modules[player], params, state.batch_stats[player], {keyword: images},
                 train=False)[0]


def idle_side_loss(side: str):
  """The loss of a side that takes no part (pix2pix's L1 only, SRResNet's D): zero, no
  statistics; its players then receive zero gradients and stay where they are."""
  zero = jnp.zeros(())
  return zero, ({}, {f'{side}_loss': zero})


def zeros_like_inputs(shape: tuple, dtype=jnp.float32) -> jax.Array:
  """A batch of two zero examples of `shape` (BatchNorm in train mode needs a batch)."""
  return jnp.zeros((2, *shape), dtype)
