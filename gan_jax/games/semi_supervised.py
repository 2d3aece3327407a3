"""The semi-supervised GAN of Salimans et al. (2016): a K-class classifier that is also D.

The discriminator returns K class logits l(x) (and its last hidden features). With the
"fake" class's logit fixed at 0 (the K+1 formulation), the probability that x is real is

    D(x) = Z(x) / (Z(x) + 1),  Z(x) = sum_k exp l_k(x),  i.e.  D(x) = sigmoid(logsumexp l(x)),

so the real/fake logit is `logsumexp(l(x))` (`real_fake_logits`). The discriminator side
minimises

    CE(l(x_lab), y_lab) + w * (-E_unl[log D(x)] - E_z[log(1 - D(G(z)))])

(`discriminator_terms`; w = `game.semi_supervised.unlabeled_weight`, 0.5 reproducing the
paper's code, which halves the unsupervised term), on a labelled batch (`x_lab`,
`y_lab`), the unlabelled batch (`x`) and as many fakes. The generator is trained by
feature matching (`feature_matching`): the squared distance between the batch means of
D's last hidden features on the unlabelled reals and on its fakes, averaged over the
features, as in the paper's classification experiments (`game.semi_supervised.g_loss=
'non_saturating'` gives the usual -log D(G(z)) instead). Minibatch discrimination,
which the paper used (with the non-saturating loss) for sample quality rather than for
classification, is `model.minibatch_kernels` (`layers.MinibatchDiscrimination`, before
D's output layer; the features that feature matching reads are taken before it).

`game.semi_supervised.entropy_weight` (0, off, by default) adds to D's loss that weight times
the mean entropy of D's class distribution on the unlabelled batch (`class_entropy`), the
conditional-entropy term of Dai et al. (2017), "Good Semi-supervised Learning that Requires
a Bad GAN" (their SVHN code: 0.1): not part of Salimans et al.'s game.

`game.semi_supervised.feature_distance` is the squared difference of the paper's MNIST
code ('squared') or the absolute one of its CIFAR-10 and SVHN code ('absolute').

The networks are the paper's MNIST ones (`model.name='improved_gan'`, see
`models/improved_gan.py`): Gaussian noise layers (drawn from the update's key, in train
mode only) and weight normalisation in D, softplus and BatchNorm in G; or its CIFAR-10
and SVHN convolutional D (weight norm, dropout drawn the same way) beside a DCGAN G
(`model.name='improved_gan_conv'`, `models/improved_gan_conv.py`). With
`model.d_data_init` a fresh run initialises D's weight-normalised layers from its first
batch (`init_from_data`, called by `train.init_from_data`), as the paper's code does. D's EMA
(`ema_players` includes it, as the paper evaluates averaged D weights) is what
`classify`, the `readout` ({'class_logits'}), a loaded run's `Run.classify` and the
`classifier_accuracy` metric use when `optim.ema_decay > 0`.

The data must be labelled and `data.num_labeled` > 0: the pipeline then serves the
labelled stream beside the unlabelled one (see `data/labeled.py`). No stabilizer of
`config.stabilize`/`config.loss` applies.
"""

import jax
import jax.numpy as jnp
import optax

from gan_jax import models as models_lib
from gan_jax import noise
from gan_jax.games import base

G_LOSSES = ('feature_matching', 'non_saturating')


def real_fake_logits(class_logits: jax.Array) -> jax.Array:
  """The real/fake logit of K class logits with the fake class's logit at 0: logsumexp_k l_k."""
  return jax.nn.logsumexp(class_logits, axis=-1)


def supervised_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean softmax cross-entropy over the K real classes of (B, K) logits and int labels (B,)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


def unsupervised_loss(real_class_logits: jax.Array, fake_class_logits: jax.Array) -> jax.Array:
  """-E_real[log D(x)] - E_fake[log(1 - D(x))] with D = sigmoid(logsumexp l)."""
  real, fake = real_fake_logits(real_class_logits), real_fake_logits(fake_class_logits)
  # -log sigmoid(s) = softplus(-s); -log(1 - sigmoid(s)) = softplus(s).
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


FEATURE_DISTANCES = ('squared', 'absolute')


def feature_matching(real_features: jax.Array, fake_features: jax.Array,
                     distance: str = 'squared') -> jax.Array:
  """mean_f (mean_b real_f - mean_b fake_f)^2, the paper's feature-matching loss in its MNIST
  code; with `distance='absolute'` mean_f |mean_b real_f - mean_b fake_f|, its CIFAR-10 and
  SVHN code's."""
  difference = jnp.mean(real_features, axis=0) - jnp.mean(fake_features, axis=0)
  if distance == 'absolute':
    return jnp.mean(jnp.abs(difference))
  return jnp.mean(jnp.square(difference))


def class_entropy(class_logits: jax.Array) -> jax.Array:
  """Mean over examples of the entropy (nats) of the class distribution softmax(l(x)) over the K
  real classes: the conditional-entropy term of Dai et al. (2017), "Good Semi-supervised
  Learning that Requires a Bad GAN" (Grandvalet and Bengio's entropy minimisation)."""
  log_p = jax.nn.log_softmax(class_logits, axis=-1)
  return jnp.mean(-jnp.sum(jnp.exp(log_p) * log_p, axis=-1))


def discriminator_terms(lab_logits, labels, unl_logits, fake_logits, unlabeled_weight: float,
                        entropy_weight: float = 0.0) -> tuple[jax.Array, dict]:
  """(D's loss, metrics) from the class logits of the labelled, unlabelled and fake batches.

  With `entropy_weight` > 0 the loss also has `entropy_weight` x the mean class entropy of
  the unlabelled batch (`class_entropy`), which pushes D to a confident class on every real
  image; at 0 (the default) it is the game of Salimans et al.
  """
  lab = supervised_loss(lab_logits, labels)
  unl = unsupervised_loss(unl_logits, fake_logits)
  entropy = class_entropy(unl_logits)
  metrics = {
      'd_supervised': lab, 'd_unsupervised': unl, 'd_unlabeled_entropy': entropy,
      'd_train_error': jnp.mean((jnp.argmax(lab_logits, -1) != labels).astype(jnp.float32)),
      'd_real_logit': jnp.mean(real_fake_logits(unl_logits)),
      'd_fake_logit': jnp.mean(real_fake_logits(fake_logits)),
  }
  total = lab + unlabeled_weight * unl
  if entropy_weight:
    total = total + entropy_weight * entropy
  metrics['d_loss'] = total
  return total, metrics


class SemiSupervised(base.Game):
  """D(x) -> K class logits (real/fake = logsumexp), G(z) -> x trained by feature matching."""
  name = 'semi_supervised'
  players = ('g', 'd')
  sides = {'d': ('d',), 'g': ('g',)}
  ema_players = ('g', 'd')
  # Minibatch discrimination: the paper's tool for sample quality (its CIFAR-10 recipe).
  supports = frozenset({'minibatch_discrimination'})
  needs_labels = False  # Labels come in the labelled stream; G is unconditional.
  reads_labeled_stream = True
  readouts = ('classify',)

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    cfg = config.game.semi_supervised
    if cfg.g_loss not in G_LOSSES:
      raise ValueError(f'config.game.semi_supervised.g_loss={cfg.g_loss!r} is unknown; '
                       f'known: {", ".join(G_LOSSES)}.')
    if cfg.feature_distance not in FEATURE_DISTANCES:
      raise ValueError(f'config.game.semi_supervised.feature_distance={cfg.feature_distance!r} '
                       f'is unknown; known: {", ".join(FEATURE_DISTANCES)}.')
    if float(cfg.entropy_weight) < 0:
      raise ValueError('config.game.semi_supervised.entropy_weight must be >= 0 (0 = off), got '
                       f'{cfg.entropy_weight}.')
    if int(num_classes) < 2:
      raise ValueError(f'config.game.name=semi_supervised needs labelled data with at least '
                       f'2 classes, but config.data.name={config.data.name!r} gives '
                       f'{num_classes}.')
    if int(config.data.num_labeled) <= 0:
      raise ValueError('config.game.name=semi_supervised needs config.data.num_labeled > 0 '
                       '(the number of labelled training examples), got '
                       f'{config.data.num_labeled}.')
    self.latent_dim = int(config.model.latent_dim)
    super().__init__(config, data_shape, num_classes)

  def make_players(self) -> dict:
    generator, discriminator = models_lib.make_classifier_models(
        self.config.model, self.data_shape, self.num_classes)
    return {'g': generator, 'd': discriminator}

  def init_inputs(self) -> dict:
    return {'g': {'z': base.zeros_like_inputs((self.latent_dim,))},
            'd': {'x': base.zeros_like_inputs(self.data_shape)}}

  @property
  def initialises_from_data(self) -> bool:
    return bool(self.config.model.d_data_init)

  def init_d_from_data(self, d_params, x: jax.Array, key: jax.Array):
    """D's params with every weight-normalised layer's scale and bias set from the batch `x`
    (zero mean, unit variance per unit), in train mode with the noise of `key`, as the
    paper's code initialises D on 500 training images (`models/improved_gan.py`)."""
    _, variables = self.modules['d'].apply({'params': d_params}, x, train=True, noise_key=key,
                                           data_init=True, mutable=['params'])
    return variables['params']

  def init_from_data(self, state, batch: dict, key: jax.Array):
    """`state` with D (and its EMA) initialised from the first batch's unlabelled examples."""
    if not self.initialises_from_data:
      return state
    d_params = self.init_d_from_data(state.params['d'], batch['x'], key)
    ema = dict(state.ema)
    if 'd' in ema:
      ema['d'] = d_params
    return state.replace(params={**state.params, 'd': d_params}, ema=ema)

  def draw(self, side: str, batch: dict, key: jax.Array) -> dict:
    """Noise z for as many fakes as the update has unlabelled examples."""
    del side
    return dict(batch, z=noise.latent_normal(key, (batch['x'].shape[0], self.latent_dim)))

  def _d(self, d_params, x, key, train=True):
    """D's (class logits, features) of `x`; the noise layers draw from `key` in train mode."""
    return self.modules['d'].apply({'params': d_params}, x, train=train, noise_key=key)

  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    del ctx
    if side == 'd':
      return self.discriminator_loss(params['d'], state, batch, key)
    return self.generator_loss(params['g'], state, batch, key)

  def generate(self, g_params, g_batch_stats, z, train: bool = True):
    """(fakes, new generator batch stats) for noise `z`."""
    return base.apply(self.modules['g'], g_params, g_batch_stats, {'z': z}, train=train)

  def discriminator_loss(self, d_params, state, batch: dict, key: jax.Array):
    """D's loss on the labelled batch, the unlabelled batch and the fakes of its z."""
    lab_key, unl_key, fake_key = jax.random.split(key, 3)
    # G in train mode as in its own update; its statistics only move in that update.
    fake, _ = self.generate(state.params['g'], state.batch_stats['g'], batch['z'])
    lab_logits, _ = self._d(d_params, batch['x_lab'], lab_key)
    unl_logits, _ = self._d(d_params, batch['x'], unl_key)
    fake_logits, _ = self._d(d_params, jax.lax.stop_gradient(fake), fake_key)
    total, metrics = discriminator_terms(
        lab_logits, batch['y_lab'], unl_logits, fake_logits,
        float(self.config.game.semi_supervised.unlabeled_weight),
        float(self.config.game.semi_supervised.entropy_weight))
    return total, ({}, metrics)

  def generator_loss(self, g_params, state, batch: dict, key: jax.Array):
    """Feature matching (or the non-saturating loss) of G's fakes against the unlabelled reals."""
    real_key, fake_key = jax.random.split(key)
    fake, g_stats = self.generate(g_params, state.batch_stats['g'], batch['z'])
    d_params = state.params['d']
    fake_logits, fake_features = self._d(d_params, fake, fake_key)
    if self.config.game.semi_supervised.g_loss == 'feature_matching':
      _, real_features = self._d(d_params, batch['x'], real_key)
      g_loss = feature_matching(jax.lax.stop_gradient(real_features), fake_features,
                                self.config.game.semi_supervised.feature_distance)
    else:
      g_loss = jnp.mean(jax.nn.softplus(-real_fake_logits(fake_logits)))
    return g_loss, ({'g': g_stats}, {'g_loss': g_loss})

  def sample(self, state, z: jax.Array, labels: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    del labels
    params = state.ema['g'] if use_ema else state.params['g']
    return self.generate(params, state.batch_stats['g'], z, train=False)[0]

  def classify(self, state, x: jax.Array, use_ema: bool = True) -> jax.Array:
    """(N, K) class logits of examples `x` (data space) by D in eval mode (no noise)."""
    params = state.ema['d'] if use_ema else state.params['d']
    return self._d(params, x, None, train=False)[0]

  def readout(self, state, x: jax.Array) -> dict:
    """{'class_logits': (N, K)} of `x` by D (its EMA when `optim.ema_decay` > 0)."""
    return {'class_logits': self.classify(state, x, use_ema=self.config.optim.ema_decay > 0)}
