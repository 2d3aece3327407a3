"""CycleGAN (Zhu et al. 2017): unpaired translation between domains A and B, both ways.

Players: G_ab and G_ba (ResNet-block generators, `models/translation.py`) on the
generator side, the PatchGANs D_a and D_b on the discriminator side. Batches carry
'a' and 'b' from two independent streams (`data/unpaired.py`). The paper's
least-squares objective, written out here as in its code:

  D_b: 0.5 * [mean (D_b(b) - 1)^2 + mean D_b(pool_b(G_ab(a)))^2]      (D_a alike)
  G:   mean (D_b(G_ab(a)) - 1)^2 + mean (D_a(G_ba(b)) - 1)^2
       + cycle_weight * (mean |G_ba(G_ab(a)) - a| + mean |G_ab(G_ba(b)) - b|)
       + identity_weight * cycle_weight * (mean |G_ab(b) - b| + mean |G_ba(a) - a|)

The history pool (`game.cyclegan.pool_size` images per domain, in the state's `extra`,
so it is checkpointed and a resumed run replays exactly) follows the paper's code:
while it fills, D sees the fresh fakes and they are stored; once full, each fake is
shown with probability 1/2 and otherwise a random stored image is shown instead. After
each step the fakes that the generators' update made (its loss's outputs, so nothing is
recomputed) are offered to the pool, each replacing a random stored image with
probability 1/2. D's next update thus queries a pool holding every fake up to the
previous generator update's, as in the paper's code, which swaps the shown image for
the fresh one in the same draw; the distribution of what D sees is the same.
"""

import jax
import jax.numpy as jnp

from gan_jax import models
from gan_jax.data import unpaired
from gan_jax.games import base


def pool_query(pool: jax.Array, count: jax.Array, fakes: jax.Array, key: jax.Array) -> jax.Array:
  """What D sees of `fakes` (B, ...) given a pool of `count` stored images (P, ...).

  Fake i is shown as is while the pool is not yet full (count + i < P); otherwise,
  with probability 1/2, a uniformly drawn stored image is shown instead.
  """
  size = pool.shape[0]
  batch = fakes.shape[0]
  coin_key, index_key = jax.random.split(key)
  full = count + jnp.arange(batch) >= size
  swap = full & (jax.random.uniform(coin_key, (batch,)) > 0.5)
  stored = pool[jax.random.randint(index_key, (batch,), 0, size)]
  return jnp.where(swap.reshape((batch,) + (1,) * (fakes.ndim - 1)), stored, fakes)


def pool_insert(pool: jax.Array, count: jax.Array, fakes: jax.Array,
                key: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(pool, count) after offering `fakes`: appended while the pool fills, then each
  replacing a uniformly drawn stored image with probability 1/2. Deterministic in `key`."""
  size = pool.shape[0]
  batch = fakes.shape[0]
  coin_key, index_key = jax.random.split(key)
  coins = jax.random.uniform(coin_key, (batch,)) > 0.5
  slots = jax.random.randint(index_key, (batch,), 0, size)

  def offer(carry, inputs):
    pool, count = carry
    fake, coin, slot = inputs
    filling = count < size
    target = jnp.where(filling, count, slot)
    keep = filling | coin
    pool = pool.at[target].set(jnp.where(keep, fake, pool[target]))
    return (pool, jnp.minimum(count + 1, size)), None

  (pool, count), _ = jax.lax.scan(offer, (pool, count), (fakes, coins, slots))
  return pool, count


def _mean_square(x: jax.Array, target: float) -> jax.Array:
  return jnp.mean((x - target) ** 2)


class CycleGAN(base.TranslationGame):
  """G_ab, G_ba against D_a, D_b: least squares, cycle consistency, identity, a history pool."""
  name = 'cyclegan'
  players = ('g_ab', 'g_ba', 'd_a', 'd_b')
  sides = {'d': ('d_a', 'd_b'), 'g': ('g_ab', 'g_ba')}
  ema_players = ('g_ab', 'g_ba')
  reads_unpaired = True
  translations = ('ab', 'ba')
  translators = {'ab': ('g_ab', 'x'), 'ba': ('g_ba', 'x')}
  usage = "translate(images, direction='ab' or 'ba')"

  def __init__(self, config, data_shape: tuple, num_classes: int = 0):
    self.check_image_data(data_shape)
    if not config.data.domain_b:
      raise ValueError('config.game.name=cyclegan needs two domains: set config.data.domain_b '
                       f'({", ".join(unpaired.DOMAINS_B)}).')
    if config.loss.name != 'least_squares':
      raise ValueError(f'config.loss.name={config.loss.name!r}: config.game.name=cyclegan uses '
                       "its paper's least-squares objective; set config.loss.name=least_squares.")
    self.settings = config.game.cyclegan
    self.b_shape = unpaired.domain_b_shape(config.data, data_shape)
    if self.settings.identity_weight and self.b_shape[-1] != data_shape[-1]:
      raise ValueError(f'config.game.cyclegan.identity_weight={self.settings.identity_weight}: '
                       f'the identity terms feed B images to G_ab, but domain A has '
                       f'{data_shape[-1]} channels and domain B {self.b_shape[-1]}; set it to 0.')
    if self.settings.eval_direction not in self.translations:
      raise ValueError(f'config.game.cyclegan.eval_direction={self.settings.eval_direction!r} '
                       "must be 'ab' or 'ba'.")
    if int(self.settings.pool_size) < 0:
      raise ValueError(f'config.game.cyclegan.pool_size={self.settings.pool_size} must be >= 0.')
    super().__init__(config, data_shape, num_classes)
    self.src_shapes = {'ab': self.data_shape, 'ba': self.b_shape}

  @property
  def src_shape(self) -> tuple:
    """The shape of the images that the scored direction translates."""
    return self.src_shapes[self.eval_direction]

  def source_shape(self, direction: str) -> tuple:
    return self.src_shapes[direction]

  @property
  def eval_direction(self) -> str:
    return self.settings.eval_direction

  def make_players(self) -> dict:
    return models.make_unpaired_models(self.config.model, self.data_shape, self.b_shape)

  def init_inputs(self) -> dict:
    a, b = base.zeros_like_inputs(self.data_shape), base.zeros_like_inputs(self.b_shape)
    return {'g_ab': {'x': a}, 'g_ba': {'x': b}, 'd_a': {'x': a}, 'd_b': {'x': b}}

  def init_extra(self, key: jax.Array):
    del key
    size = int(self.settings.pool_size)
    if not size:
      return {}
    return {'pool_a': jnp.zeros((size, *self.data_shape)), 'count_a': jnp.zeros((), jnp.int32),
            'pool_b': jnp.zeros((size, *self.b_shape)), 'count_b': jnp.zeros((), jnp.int32)}

  def _apply(self, name: str, params, batch_stats, x: jax.Array):
    return base.apply(self.modules[name], params, batch_stats, {'x': x}, train=True)

  def loss(self, side: str, params: dict, state, batch: dict, key: jax.Array,
           ctx: base.Context):
    del ctx
    a, b = batch['a'], batch['b']
    if side == 'd':
      # The generators run in train mode as in their own update; their statistics
      # move only there.
      fake_b = jax.lax.stop_gradient(self._apply('g_ab', state.params['g_ab'],
                                                 state.batch_stats['g_ab'], a)[0])
      fake_a = jax.lax.stop_gradient(self._apply('g_ba', state.params['g_ba'],
                                                 state.batch_stats['g_ba'], b)[0])
      if self.settings.pool_size:
        key_a, key_b = jax.random.split(key)
        extra = state.extra
        fake_a = pool_query(extra['pool_a'], extra['count_a'], fake_a, key_a)
        fake_b = pool_query(extra['pool_b'], extra['count_b'], fake_b, key_b)
      stats, metrics, total = {}, {}, 0.0
      for name, real, fake in (('d_a', a, fake_a), ('d_b', b, fake_b)):
        real_logits, stats[name] = self._apply(name, params[name], state.batch_stats[name], real)
        fake_logits, stats[name] = self._apply(name, params[name], stats[name], fake)
        loss = 0.5 * (_mean_square(real_logits, 1.0) + _mean_square(fake_logits, 0.0))
        metrics[f'{name}_loss'] = loss
        total = total + loss
      metrics['d_loss'] = total
      return total, (stats, metrics)

    settings = self.settings
    fake_b, stats_ab = self._apply('g_ab', params['g_ab'], state.batch_stats['g_ab'], a)
    fake_a, stats_ba = self._apply('g_ba', params['g_ba'], state.batch_stats['g_ba'], b)
    rec_a, stats_ba = self._apply('g_ba', params['g_ba'], stats_ba, fake_b)
    rec_b, stats_ab = self._apply('g_ab', params['g_ab'], stats_ab, fake_a)
    # D judges in train mode as in its own update; its statistics are not kept.
    adv_b = _mean_square(self._apply('d_b', state.params['d_b'], state.batch_stats['d_b'],
                                     fake_b)[0], 1.0)
    adv_a = _mean_square(self._apply('d_a', state.params['d_a'], state.batch_stats['d_a'],
                                     fake_a)[0], 1.0)
    cycle = jnp.mean(jnp.abs(rec_a - a)) + jnp.mean(jnp.abs(rec_b - b))
    g_loss = adv_a + adv_b + settings.cycle_weight * cycle
    metrics = {'g_adv_a': adv_a, 'g_adv_b': adv_b, 'g_cycle': cycle}
    if settings.identity_weight:
      same_b, stats_ab = self._apply('g_ab', params['g_ab'], stats_ab, b)
      same_a, stats_ba = self._apply('g_ba', params['g_ba'], stats_ba, a)
      identity = jnp.mean(jnp.abs(same_b - b)) + jnp.mean(jnp.abs(same_a - a))
      g_loss = g_loss + settings.identity_weight * settings.cycle_weight * identity
      metrics['g_identity'] = identity
    metrics['g_loss'] = g_loss
    # The fakes go to the history pools after the update (`update_extra`).
    outputs = {'fake_a': jax.lax.stop_gradient(fake_a), 'fake_b': jax.lax.stop_gradient(fake_b)}
    return g_loss, ({'g_ab': stats_ab, 'g_ba': stats_ba}, metrics, outputs)

  def update_extra(self, state, batch: dict, outputs: dict, key: jax.Array):
    """Offers the fakes of the generators' update (its loss's outputs) to the pools."""
    del batch
    if not self.settings.pool_size:
      return state.extra
    key_a, key_b = jax.random.split(key)
    extra = dict(state.extra)
    extra['pool_a'], extra['count_a'] = pool_insert(extra['pool_a'], extra['count_a'],
                                                    outputs['fake_a'], key_a)
    extra['pool_b'], extra['count_b'] = pool_insert(extra['pool_b'], extra['count_b'],
                                                    outputs['fake_b'], key_b)
    return extra

  def preview_columns(self, state, src: jax.Array, target: jax.Array) -> list:
    """x | G(x) | F(G(x)) for the scored direction's sources and for its targets."""
    forward, backward = self.eval_direction, self.eval_direction[::-1]
    there = self.translate(state, src, forward)
    back = self.translate(state, target, backward)
    return [[src, there, self.translate(state, there, backward)],
            [target, back, self.translate(state, back, forward)]]
