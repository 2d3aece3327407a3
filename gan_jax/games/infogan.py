"""InfoGAN (Chen et al. 2016): structured latent codes that the generator must make readable.

G takes the noise z joined with codes c: one or more categorical codes (one-hot, uniform
over their values) and continuous codes (uniform in [-1, 1]). A Q head shares the
discriminator's trunk and predicts the codes from an image; both G and Q minimise

    lambda_cat * sum_j CE(Q_j(G(z, c)), c_j)  +  lambda_cont * NLL_gaussian(Q_mu(G(z, c)); c_cont)

which is the negative of the variational lower bound L_I on the mutual information
I(c; G(z, c)) up to the constant entropy H(c) (the paper's Lemma 5.1). The continuous
codes' likelihood is a factored Gaussian with unit standard deviation (the paper's
MNIST code, `fix_std=True`), or with a learned one (`game.infogan.learn_std`).
`game.infogan.continuous_start_step` and `continuous_ramp_steps` hold lambda_cont at 0
until a step and then raise it linearly, so that the categorical code can divide the
images before the continuous codes compete for what varies most (on MNIST it changed
which seeds merge two digits under one categorical value, not how many: docs/infogan.md).
`game.infogan.lambda_warped` (beyond the paper, default 0) adds the categorical codes'
cross-entropy read from randomly rotated, scaled and shifted fakes, on both sides, so
that a code value must name something a small warp leaves alone (a digit, not its slant).

Which side trains Q: Q's layers are part of the discriminator module, so the
discriminator side's optimizer updates them, on the MI term of the fakes that D's own
update draws; the generator side's loss adds the same term, differentiated only in G's
parameters. This is the split of the paper's reference code (openai/InfoGAN,
`infogan_trainer.py`: `discriminator_loss -= info_reg_coeff * disc_mi_est` with Q's
variables among D's, and the same term subtracted from the generator's loss).

Sampling draws only standard normals: z for `sample` has `latent_dim` noise entries and
one more entry per code, which the normal CDF Phi maps exactly onto the code's prior
(categorical: floor(K * Phi(u)); continuous: 2 * Phi(u) - 1). So previews, evaluation
and `load_run(...).sample` reproduce the code distribution from a seed, and a caller can
still fix the codes (`sample_codes`). With `game.infogan.noise='uniform'` the noise
entries are mapped the same way, 2 Phi(u) - 1, to the reference code's z ~ U(-1, 1).
`game.infogan.noise_scale` then multiplies the noise: ClusterGAN (Mukherjee et al. 2019)
draws it normal with std 0.1 so that the one-hot code, not the noise, decides the mode
G's input falls in. Packing is refused: Q reads one code per example, which a pack of
several examples does not have.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import models as models_lib
from gan_jax import noise
from gan_jax.games import base
from gan_jax.games import loss_weights
from gan_jax.games.unconditional import Unconditional
from gan_jax.models import conditioning as conditioning_lib
from gan_jax.models import precise_bn
from gan_jax.stabilize import affine

# The value range the preview's traversal sweeps each continuous code over (the paper's
# Figure 2 goes beyond the prior's [-1, 1] to show how the code extrapolates).
TRAVERSAL_RANGE = (-2.0, 2.0)


def codes_from_normals(u: jax.Array, categorical: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
  """(categorical codes (B, n_cat) int32, continuous codes (B, n_cont)) from normals u.

  u has one standard-normal column per code, categorical ones first. Phi(u) is uniform
  on (0, 1), so floor(K * Phi(u)) is uniform on {0..K-1} and 2 Phi(u) - 1 uniform on
  (-1, 1): the codes' priors, exactly.
  """
  uniform = jax.scipy.special.ndtr(u.astype(jnp.float32))
  n_cat = len(categorical)
  sizes = jnp.asarray(categorical, jnp.float32)
  cat = jnp.minimum(jnp.floor(uniform[:, :n_cat] * sizes),
                    sizes - 1).astype(jnp.int32) if n_cat else jnp.zeros((u.shape[0], 0), jnp.int32)
  return cat, 2.0 * uniform[:, n_cat:] - 1.0


def gaussian_nll(x: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
  """-log N(x; mean, exp(log_std)^2) per element."""
  return 0.5 * jnp.square((x - mean) * jnp.exp(-log_std)) + log_std + 0.5 * np.log(2 * np.pi)


def categorical_cross_entropy(logits: list, codes: jax.Array) -> jax.Array:
  """The sum over categorical codes j of the batch-mean cross-entropy of Q's `logits[j]`
  (B, K_j) against the drawn values `codes[:, j]` (B, n_cat int)."""
  return sum((jnp.mean(optax.softmax_cross_entropy_with_integer_labels(l, codes[:, j]))
              for j, l in enumerate(logits)), jnp.zeros(()))


class InfoGAN(Unconditional):
  """G([z, c]) -> x and D(x) -> (logit, Q's code predictions)."""
  name = 'infogan'
  supports = frozenset(base.STABILIZERS) - {'pack'}
  readouts = ('encode',)
  labelled_samples = True  # Samples are generated for values of the first categorical code.

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    cfg = config.game.infogan
    self.categorical = tuple(int(k) for k in cfg.categorical)
    self.num_continuous = int(cfg.continuous)
    if any(k < 2 for k in self.categorical):
      raise ValueError(f'config.game.infogan.categorical={tuple(cfg.categorical)} must list '
                       'code sizes of at least 2.')
    if self.num_continuous < 0:
      raise ValueError(f'config.game.infogan.continuous={cfg.continuous} must be >= 0.')
    if not self.categorical and not self.num_continuous:
      raise ValueError('config.game.infogan has no codes: set categorical (e.g. (10,)) '
                       'and/or continuous (e.g. 2).')
    for field in ('lambda_categorical', 'lambda_continuous'):
      if cfg[field] < 0:
        raise ValueError(f'config.game.infogan.{field}={cfg[field]} must be >= 0.')
    for field in ('continuous_start_step', 'continuous_ramp_steps'):
      if int(cfg[field]) < 0:
        raise ValueError(f'config.game.infogan.{field}={cfg[field]} must be >= 0.')
    for field in ('lambda_warped', 'warp_degrees', 'warp_scale', 'warp_shift'):
      if cfg[field] < 0:
        raise ValueError(f'config.game.infogan.{field}={cfg[field]} must be >= 0.')
    if not cfg.warp_scale < 1:
      raise ValueError(f'config.game.infogan.warp_scale={cfg.warp_scale} must be < 1 '
                       '(magnifications in [1 - warp_scale, 1 + warp_scale]).')
    if cfg.lambda_warped > 0 and not tuple(cfg.categorical):
      raise ValueError('config.game.infogan.lambda_warped > 0 reads the categorical codes '
                       'from warped fakes, but config.game.infogan.categorical is empty.')
    if cfg.lambda_warped > 0 and len(data_shape) != 3:
      raise ValueError(f'config.game.infogan.lambda_warped > 0 warps images (H, W, C); the '
                       f'data has shape {tuple(data_shape)}.')
    if int(cfg.precise_bn_batches) < 0:
      raise ValueError(f'config.game.infogan.precise_bn_batches={cfg.precise_bn_batches} must '
                       'be >= 0.')
    if int(cfg.q_hidden) < 0:
      raise ValueError(f'config.game.infogan.q_hidden={cfg.q_hidden} must be >= 0.')
    if cfg.noise not in ('normal', 'uniform'):
      raise ValueError(f"config.game.infogan.noise={cfg.noise!r} must be 'normal' or "
                       "'uniform'.")
    if not cfg.noise_scale > 0:
      raise ValueError(f'config.game.infogan.noise_scale={cfg.noise_scale} must be > 0.')
    self.uniform_noise = cfg.noise == 'uniform'
    self.noise_scale = float(cfg.noise_scale)
    self.learn_std = bool(cfg.learn_std)
    super().__init__(config, data_shape, num_classes)

  # --- the players and the latent ---------------------------------------------------------
  @property
  def q_outputs(self) -> int:
    """Q's outputs: the logits of each categorical code, then the continuous means (and
    log standard deviations when learned)."""
    return sum(self.categorical) + self.num_continuous * (2 if self.learn_std else 1)

  @property
  def g_input_dim(self) -> int:
    return self.latent_dim + sum(self.categorical) + self.num_continuous

  @property
  def noise_dim(self) -> int:
    return self.latent_dim + len(self.categorical) + self.num_continuous

  @property
  def sample_classes(self) -> int:
    """Evaluation and previews ask for the values of the first categorical code in turn."""
    return self.categorical[0] if self.categorical else 0

  def make_players(self) -> dict:
    head = conditioning_lib.Conditioning(head_outputs=self.q_outputs,
                                         head_hidden=int(self.config.game.infogan.q_hidden))
    generator, _ = models_lib.make_models(self.config.model, self.data_shape)
    _, discriminator = models_lib.make_models(self.config.model, self.data_shape, head)
    return {'g': generator, 'd': discriminator}

  def init_inputs(self) -> dict:
    inputs = super().init_inputs()
    inputs['g'] = {'z': base.zeros_like_inputs((self.g_input_dim,))}
    return inputs

  def generator_input(self, noise_part: jax.Array, cat: jax.Array, cont: jax.Array) -> jax.Array:
    """G's input: the noise, each categorical code one-hot, the continuous codes."""
    one_hots = [jax.nn.one_hot(cat[:, j], k, dtype=noise_part.dtype)
                for j, k in enumerate(self.categorical)]
    return jnp.concatenate([noise_part, *one_hots, cont.astype(noise_part.dtype)], axis=-1)

  def split_noise(self, z: jax.Array, code=None, continuous=None):
    """(noise, categorical codes, continuous codes) from z (B, noise_dim); `code` (B,)
    overrides the first categorical code and `continuous` (B, n_cont) the continuous ones."""
    cat, cont = codes_from_normals(z[:, self.latent_dim:], self.categorical)
    if code is not None:
      cat = cat.at[:, 0].set(jnp.asarray(code, jnp.int32))
    if continuous is not None:
      cont = jnp.asarray(continuous, jnp.float32).reshape(cont.shape)
    noise_part = z[:, :self.latent_dim]
    if self.uniform_noise:  # 2 Phi(u) - 1: uniform on (-1, 1), as the continuous codes.
      noise_part = (2.0 * jax.scipy.special.ndtr(noise_part.astype(jnp.float32)) - 1.0
                    ).astype(noise_part.dtype)
    noise_part = noise_part * jnp.asarray(self.noise_scale, noise_part.dtype)
    return noise_part, cat, cont

  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """G's input z (noise and codes) and the codes themselves ('code', 'continuous')."""
    del side
    z = noise.latent_normal(key, (batch['x'].shape[0], self.noise_dim))
    noise_part, cat, cont = self.split_noise(z)
    return dict(batch, z=self.generator_input(noise_part, cat, cont), code=cat, continuous=cont)

  def adversarial_logits(self, outputs) -> jax.Array:
    return outputs[0]

  # --- the mutual-information term ------------------------------------------------------
  def split_q(self, q: jax.Array) -> tuple[list, jax.Array, jax.Array]:
    """([logits of each categorical code], continuous means, continuous log stds)."""
    logits, start = [], 0
    for k in self.categorical:
      logits.append(q[:, start:start + k])
      start += k
    mean = q[:, start:start + self.num_continuous]
    if self.learn_std:
      log_std = q[:, start + self.num_continuous:]
    else:
      log_std = jnp.zeros_like(mean)
    return logits, mean, log_std

  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    # The continuous codes' weight follows the step; the batch carries it to `info_loss`.
    cfg = self.config.game.infogan
    weight = loss_weights.ramped_weight(state.step, float(cfg.lambda_continuous),
                                        int(cfg.continuous_start_step),
                                        int(cfg.continuous_ramp_steps))
    return super().loss(side, params, state, dict(batch, continuous_weight=weight), key, ctx)

  def info_loss(self, q: jax.Array, batch: dict):
    """(lambda-weighted negative MI bound, metrics) of Q's predictions on the fakes.

    lambda_cont is `batch['continuous_weight']` when the batch has it (the training
    step's, see `loss`), else `game.infogan.lambda_continuous`."""
    cfg = self.config.game.infogan
    continuous_weight = batch.get('continuous_weight', cfg.lambda_continuous)
    logits, mean, log_std = self.split_q(q)
    ce = categorical_cross_entropy(logits, batch['code'])
    nll = (jnp.mean(jnp.sum(gaussian_nll(batch['continuous'], mean, log_std), axis=-1))
           if self.num_continuous else jnp.zeros(()))
    # L_I for the categorical codes: H(c) - CE, which is at most H(c) = sum log K.
    metrics = {'info_categorical_ce': ce, 'info_continuous_nll': nll,
               'info_continuous_weight': jnp.asarray(continuous_weight, jnp.float32),
               'mi_categorical': sum(np.log(k) for k in self.categorical) - ce}
    return cfg.lambda_categorical * ce + continuous_weight * nll, metrics

  def fakes_extra_loss(self, side: str, d_params, d_batch_stats, fake: jax.Array, batch: dict,
                       key: jax.Array):
    """lambda_warped times the categorical codes' cross-entropy read by Q from randomly
    warped fakes (`stabilize/affine.random_affine`), on both sides like the MI term.

    Beyond the paper: a prior that the codes name what a small rotation, scaling and
    shift leave unchanged, so a code value cannot mean a pose. Q reads the warped fakes
    in train mode, as it reads the fakes, and the batch statistics are discarded."""
    cfg = self.config.game.infogan
    if not cfg.lambda_warped > 0:
      return None
    warped = affine.random_affine(fake, key, float(cfg.warp_degrees), float(cfg.warp_scale),
                                  float(cfg.warp_shift))
    outputs, _ = base.apply(self.modules['d'], d_params, d_batch_stats, {'x': warped},
                            train=True)
    logits, _, _ = self.split_q(outputs[1])
    ce = categorical_cross_entropy(logits, batch['code'])
    prefix = '' if side == 'd' else 'g_'
    return cfg.lambda_warped * ce, {f'{prefix}info_warped_ce': ce}

  def d_extra_loss(self, real_out, fake_out, batch: dict):
    del real_out
    return self.info_loss(fake_out[1], batch)

  def g_extra_loss(self, fake_out, batch: dict):
    term, metrics = self.info_loss(fake_out[1], batch)
    return term, {f'g_{k}': v for k, v in metrics.items()}

  # --- what eval mode reads ----------------------------------------------------------------
  @property
  def calibration_batches(self) -> int:
    return int(self.config.game.infogan.precise_bn_batches)

  def calibrate(self, state, batches: list):
    """`state` with D's BatchNorm statistics those of its current weights on real
    `batches` (`models/precise_bn.py`), so that Q reads real images (`encode`,
    `code_accuracy`) under the network it is. Q learns from fakes in train mode; its
    running statistics trail a D that moves fast, and on MNIST seed 5 they read 90.78% of
    the real digits (a 4/9 merge) where the current weights' statistics read 95.57%
    (docs/infogan.md). Training reads these statistics only in the penalties' critic."""
    def d_pass(stats, batch):
      return base.apply(self.modules['d'], state.params['d'], stats, {'x': batch['x']},
                        train=True)[1]

    stats = precise_bn.population_statistics(d_pass, state.batch_stats['d'], batches)
    return state.replace(batch_stats={**state.batch_stats, 'd': stats})

  # --- what a loaded run does -----------------------------------------------------------
  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    """Samples from z (N, noise_dim); `labels`, when given, are the first code's values."""
    return self.sample_codes(state, z, labels, None, use_ema)

  def sample_codes(self, state, z: jax.Array, code=None, continuous=None,
                   use_ema: bool = True) -> jax.Array:
    """Samples with the first categorical code and/or the continuous codes fixed."""
    noise_part, cat, cont = self.split_noise(z, code, continuous)
    params = state.ema['g'] if use_ema else state.params['g']
    inputs = {'z': self.generator_input(noise_part, cat, cont)}
    return base.apply(self.modules['g'], params, state.batch_stats['g'], inputs, train=False)[0]

  def readout(self, state, x: jax.Array) -> dict:
    """Q's predictions for examples x: 'code_logits' (the first categorical code; then
    'code_logits_1', ...), 'continuous_mean' and, when learned, 'continuous_log_std'."""
    outputs, _ = base.apply(self.modules['d'], state.params['d'], state.batch_stats['d'],
                            {'x': x}, train=False)
    logits, mean, log_std = self.split_q(outputs[1])
    result = {('code_logits' if j == 0 else f'code_logits_{j}'): l for j, l in enumerate(logits)}
    result['continuous_mean'] = mean
    if self.learn_std:
      result['continuous_log_std'] = log_std
    return result

  def preview_labels(self, num: int) -> jax.Array | None:
    """Row k of the preview grid has the first categorical code at value k."""
    if not self.categorical:
      return None
    per_value = max(num // self.categorical[0], 1)
    return jnp.repeat(jnp.arange(self.categorical[0], dtype=jnp.int32), per_value)

  def extra_previews(self, state, z: jax.Array) -> dict:
    """The paper's Figure 2 layout, one picture per continuous code j ('traversal_c<j>'):
    a row per value of the first categorical code, columns sweeping code j over
    TRAVERSAL_RANGE, the noise and the other codes fixed (from z, (1, noise_dim))."""
    columns = int(self.config.game.infogan.traversal_steps)
    rows = self.categorical[0] if self.categorical else 1
    sweep = jnp.linspace(*TRAVERSAL_RANGE, columns)
    pictures = {}
    for j in range(self.num_continuous):
      zs = jnp.repeat(z[:1], rows * columns, axis=0)
      _, _, cont = self.split_noise(zs)
      cont = cont.at[:, j].set(jnp.tile(sweep, rows))
      code = jnp.repeat(jnp.arange(rows, dtype=jnp.int32), columns) if self.categorical else None
      images = self.sample_codes(state, zs, code, cont)
      pictures[f'traversal_c{j}'] = images.reshape((rows, columns, *images.shape[1:]))
    return pictures
