"""WGAN-GP on the 8-mode ring written from scratch (jax + optax only): a check on gan_jax.

  python benchmarks/plain_wgan_gp_ring.py [--steps=10000] [--seed=0] [--penalty=0.1]

The mode-coverage study's `wgan_gp` row (VEEGAN's nets: z of 256 dims, G and D with two
ReLU hidden layers of 128; Adam 1e-4 with betas (0.5, 0.9); 5 critic updates; batch 512)
left the generator a blob on the ring with the paper's gradient penalty of 10. This
script trains the same setting with none of gan_jax's code (its own MLPs, data, losses,
penalty and scoring), so a blob here too means the setting, not gan_jax, is at fault.
Every 2,500 generator steps it prints the critic loss and the VEEGAN scores of 2,500
samples (nearest mode; high quality within 3 std = 0.03; modes with at least one
high-quality sample), computed with numpy.

What it printed for `--penalty=10` and for `--penalty=0.1` (the value of the authors'
own 2-D code, `gan_toy.py`) is in docs/results.md#wgan-gp-on-the-ring-without-gan_jax.
"""

import numpy as np
import jax
import jax.numpy as jnp
import optax
from absl import app
from absl import flags

_STEPS = flags.DEFINE_integer('steps', 10_000, 'Generator steps.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the weights, noise and data.')
_PENALTY = flags.DEFINE_float('penalty', 0.1, 'Gradient-penalty weight lambda.')

BATCH, LATENT, CRITIC_STEPS, STD = 512, 256, 5, 0.01
ANGLES = 2 * np.pi * np.arange(8) / 8
MEANS = np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1).astype(np.float32)


def init_mlp(key, sizes):
  """Dense layers with LeCun-normal weights and zero biases."""
  params = []
  for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
    key, sub = jax.random.split(key)
    params.append((jax.random.normal(sub, (fan_in, fan_out)) / np.sqrt(fan_in),
                   jnp.zeros(fan_out)))
  return params


def mlp(params, x):
  """ReLU between layers, linear output."""
  for i, (w, b) in enumerate(params):
    x = x @ w + b
    if i < len(params) - 1:
      x = jax.nn.relu(x)
  return x


def sample_ring(key, n):
  """n points: a uniformly chosen mode plus N(0, STD^2) noise."""
  mode_key, noise_key = jax.random.split(key)
  modes = jax.random.randint(mode_key, (n,), 0, len(MEANS))
  return jnp.asarray(MEANS)[modes] + STD * jax.random.normal(noise_key, (n, 2))


def critic_loss(d_params, g_params, real, z, eps, penalty):
  """E[C(fake)] - E[C(real)] + lambda E[(|grad C(x_hat)| - 1)^2]; also the first term."""
  fake = mlp(g_params, z)
  critic = lambda x: mlp(d_params, x)[:, 0]  # noqa: E731
  adversarial = jnp.mean(critic(fake)) - jnp.mean(critic(real))
  x_hat = eps * real + (1 - eps) * fake
  grads = jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)
  norms = jnp.sqrt(jnp.sum(grads ** 2, axis=1) + 1e-12)
  return adversarial + penalty * jnp.mean((norms - 1) ** 2), adversarial


def score(points: np.ndarray) -> tuple[int, float]:
  """VEEGAN's protocol: (modes with a high-quality sample, share of high-quality samples)."""
  distances = np.linalg.norm(points[:, None] - MEANS[None], axis=2)
  high_quality = distances.min(axis=1) < 3 * STD
  return len(set(distances.argmin(axis=1)[high_quality])), float(high_quality.mean())


def main(argv):
  del argv
  penalty = _PENALTY.value
  g_key, d_key, key = jax.random.split(jax.random.key(_SEED.value), 3)
  g_params = init_mlp(g_key, [LATENT, 128, 128, 2])
  d_params = init_mlp(d_key, [2, 128, 128, 1])
  g_tx, d_tx = optax.adam(1e-4, 0.5, 0.9), optax.adam(1e-4, 0.5, 0.9)
  g_opt, d_opt = g_tx.init(g_params), d_tx.init(d_params)

  @jax.jit
  def step(g_params, d_params, g_opt, d_opt, key):
    for _ in range(CRITIC_STEPS):
      key, real_key, z_key, eps_key = jax.random.split(key, 4)
      (loss, adversarial), grads = jax.value_and_grad(critic_loss, has_aux=True)(
          d_params, g_params, sample_ring(real_key, BATCH),
          jax.random.normal(z_key, (BATCH, LATENT)), jax.random.uniform(eps_key, (BATCH, 1)),
          penalty)
      updates, d_opt = d_tx.update(grads, d_opt, d_params)
      d_params = optax.apply_updates(d_params, updates)
    key, z_key = jax.random.split(key)
    z = jax.random.normal(z_key, (BATCH, LATENT))
    grads = jax.grad(lambda g: -jnp.mean(mlp(d_params, mlp(g, z))))(g_params)
    updates, g_opt = g_tx.update(grads, g_opt, g_params)
    return optax.apply_updates(g_params, updates), d_params, g_opt, d_opt, key, loss, adversarial

  eval_z = jax.random.normal(jax.random.key(10_000 + _SEED.value), (2500, LATENT))
  for i in range(1, _STEPS.value + 1):
    g_params, d_params, g_opt, d_opt, key, loss, adversarial = step(
        g_params, d_params, g_opt, d_opt, key)
    if i % 2500 == 0 or i == _STEPS.value:
      modes, high_quality = score(np.asarray(mlp(g_params, eval_z)))
      print(f'step {i}: critic loss {float(loss):.3f} (adversarial {float(adversarial):.3f}), '
            f'modes {modes}, high quality {100 * high_quality:.1f}%', flush=True)


if __name__ == '__main__':
  app.run(main)
