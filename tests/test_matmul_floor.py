"""benchmarks/matmul_floor.py: listing a step's matrix products, and timing them alone."""

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from by_path import load_benchmark
from gan_jax import parallel
from gan_jax.core import state as state_lib
from gan_jax.core import step as step_lib
from tiny_configs import tiny_config

matmul_floor = load_benchmark('matmul_floor')


def test_forward_and_backward_products_are_listed_with_their_flops():
  x, w = jnp.ones((5, 3)), jnp.ones((3, 4))
  # d/dw sum(tanh(x @ w)) = x^T @ (1 - tanh^2): the forward product and one backward one
  # (no gradient for x is asked, so none is formed).
  products = matmul_floor.step_products(jax.grad(lambda w: jnp.sum(jnp.tanh(x @ w))), w)
  assert len(products) == 2
  assert {(p.lhs_shape, p.rhs_shape) for p in products} == {((5, 3), (3, 4)), ((5, 4), (5, 3))}
  assert [p.flops for p in products] == [2 * 5 * 3 * 4] * 2


def test_scan_bodies_count_once_per_iteration():
  def body(h, _):
    return jnp.tanh(h @ jnp.eye(6)), None

  products = matmul_floor.step_products(lambda h: jax.lax.scan(body, h, None, length=7)[0],
                                        jnp.ones((2, 6)))
  assert len(products) == 7
  assert sum(p.flops for p in products) == 7 * 2 * 2 * 6 * 6


def test_batched_products_count_the_batch_once():
  a, b = jnp.ones((4, 2, 3)), jnp.ones((4, 3, 5))
  (product,) = matmul_floor.step_products(lambda a, b: jnp.einsum('bij,bjk->bik', a, b), a, b)
  assert product.flops == 2 * 4 * 2 * 3 * 5  # Checked against np.einsum's count below.
  assert product.flops == 2 * np.einsum('bij,bjk->bik', np.ones((4, 2, 3)),
                                        np.ones((4, 3, 5))).size * 3


def test_convolutions_are_counted_not_listed():
  def conv(x, k):
    return jax.lax.conv_general_dilated(x, k, (1, 1), 'SAME',
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

  args = jnp.ones((1, 4, 4, 2)), jnp.ones((3, 3, 2, 2))
  assert matmul_floor.step_products(conv, *args) == []
  assert matmul_floor.count_convolutions(conv, *args) == 1


def test_mlp_train_step_products_match_a_hand_count():
  # G: z 8 -> 16 -> 2; D: 2 -> 16 -> 1 (the tiny MLP); batch 16; one D and one G update.
  config = tiny_config(**{'model.name': 'mlp', 'data.name': 'ring'})
  config.model.hidden_dims = (16,)
  mesh = parallel.make_mesh()
  state = state_lib.create_state(config, (2,), mesh)
  x = np.zeros((config.batch_size, 2), np.float32)
  batch = parallel.global_batch({'x': x, 'y': np.zeros((16,), np.int32)}, mesh)
  products = matmul_floor.step_products(step_lib.make_train_step(config, mesh, (2,)),
                                        state, batch)
  g_fwd = 16 * (8 * 16 + 16 * 2)  # multiply-adds of one generator pass of the batch
  d_fwd = 16 * (2 * 16 + 16 * 1)
  # D update: G forward, D forward on real and fake, D backward for its weights (each
  # layer's weight product, plus the hidden layer's input gradient: the first layer
  # needs no input gradient). G update: G forward, D forward, D backward for the
  # input (both layers), G backward (weights of both layers, input gradient of its
  # second layer only).
  d_update = g_fwd + 2 * d_fwd + 2 * (d_fwd + 16 * 16 * 1)
  g_update = g_fwd + d_fwd + d_fwd + g_fwd + 16 * 16 * 2
  assert sum(p.flops for p in products) == 2 * (d_update + g_update)


def test_the_timer_measures_wall_time():
  # A call that sleeps 5 ms takes at least that; the bound above only guards against
  # counting, say, all windows' calls once (a busy machine oversleeps, never undersleeps).
  ms = matmul_floor._median_milliseconds(lambda: time.sleep(0.005), seconds=0.1)
  assert 5.0 <= ms < 25.0


def test_products_are_timed_as_one_program(monkeypatch):
  products = (matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((8, 4)), jnp.ones((4, 2)))
              + matmul_floor.step_products(lambda a, b: jnp.einsum('bij,bkj->bik', a, b),
                                           jnp.ones((3, 2, 5)), jnp.ones((3, 4, 5))))
  # The timed program holds every listed product, on operands of the listed shapes and
  # dtype, with the listed contraction: recorded as the program is traced.
  traced, dot_general = [], jax.lax.dot_general

  def recording(lhs, rhs, dimension_numbers, *args, **kwargs):
    traced.append((lhs.shape, rhs.shape, lhs.dtype, rhs.dtype, dimension_numbers))
    return dot_general(lhs, rhs, dimension_numbers, *args, **kwargs)

  monkeypatch.setattr(jax.lax, 'dot_general', recording)
  assert matmul_floor.xla_products_milliseconds(products, seconds=0.05) > 0
  assert traced == [(p.lhs_shape, p.rhs_shape, p.dtype, p.dtype, p.dimension_numbers)
                    for p in products]
  assert matmul_floor.xla_products_milliseconds([], seconds=0.05) == 0.0


def test_product_time_grows_with_the_work():
  # 8 products of 256^3 multiply-adds (270 MFLOP, milliseconds on any CPU) against one of
  # 8^3 (microseconds): the time must tell them apart by far more than timing noise.
  big = matmul_floor.step_products(lambda a, b: [a @ b for _ in range(8)],
                                   jnp.ones((256, 256)), jnp.ones((256, 256)))
  small = matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((8, 8)), jnp.ones((8, 8)))
  assert len(big) == 8 and len(small) == 1
  assert (matmul_floor.xla_products_milliseconds(big, seconds=0.05)
          > 10 * matmul_floor.xla_products_milliseconds(small, seconds=0.05))


def test_torch_times_the_same_products_batched_or_not(monkeypatch):
  torch = pytest.importorskip('torch')
  products = (matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((8, 4)), jnp.ones((4, 2)))
              + matmul_floor.step_products(lambda a, b: jnp.einsum('bij,bkj->bik', a, b),
                                           jnp.ones((3, 2, 5)), jnp.ones((3, 4, 5))))
  # What torch computes has the shape of what XLA computes, product by product.
  expected = [jax.eval_shape(lambda a, b, p=p: jax.lax.dot_general(a, b, p.dimension_numbers),
                             jax.ShapeDtypeStruct(p.lhs_shape, p.dtype),
                             jax.ShapeDtypeStruct(p.rhs_shape, p.dtype)).shape
              for p in products]
  shapes = []
  for name in ('matmul', 'tensordot'):
    original = getattr(torch, name)

    def recording(*args, original=original, **kwargs):
      out = original(*args, **kwargs)
      shapes.append(tuple(out.shape))
      return out

    monkeypatch.setattr(torch, name, recording)
  assert matmul_floor.torch_products_milliseconds(products, seconds=0.05) > 0
  # Every timed call repeats the products in order; the first call is the warm-up.
  assert shapes[:len(products)] == [tuple(s) for s in expected]
  assert len(shapes) % len(products) == 0
  bf16 = matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((4, 4), jnp.bfloat16),
                                    jnp.ones((4, 4), jnp.bfloat16))
  assert bf16[0].dtype == jnp.bfloat16
  assert matmul_floor.torch_products_milliseconds(bf16, seconds=0.05) > 0


def _conv(x, k, **kwargs):
  return jax.lax.conv_general_dilated(x, k, dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
                                      **kwargs)


def _xla_cpu_flops(fn, *args) -> float:
  cost = jax.jit(fn).lower(*args).compile().cost_analysis()
  return (cost[0] if isinstance(cost, (list, tuple)) else cost)['flops']


def test_convolution_flops_are_counted_by_hand():
  # VALID 3x3 over 5x5: a 3x3 output, every tap on the input; 2 images, 4 -> 6 channels.
  x, k = jnp.ones((2, 5, 5, 4)), jnp.ones((3, 3, 4, 6))
  fn = lambda x, k: _conv(x, k, window_strides=(1, 1), padding='VALID')
  assert matmul_floor.counted_flops(fn, x, k) == 2 * (2 * 3 * 3 * 6) * (3 * 3 * 4)
  # SAME 3x3 over 3x3 (padding 1): along each dimension the three outputs read 2, 3 and 2
  # real inputs, so (2 + 3 + 2)^2 (output, tap) pairs in 2-D; taps on padding are free.
  x = jnp.ones((1, 3, 3, 1))
  fn = lambda x, k: _conv(x, k, window_strides=(1, 1), padding='SAME')
  assert matmul_floor.counted_flops(fn, x, jnp.ones((3, 3, 1, 1))) == 2 * (2 + 3 + 2) ** 2


@pytest.mark.parametrize('kwargs, kernel', [
    ({'window_strides': (1, 1), 'padding': 'SAME'}, (3, 3, 8, 16)),
    ({'window_strides': (2, 2), 'padding': 'SAME'}, (4, 4, 8, 16)),
    ({'window_strides': (2, 2), 'padding': 'VALID'}, (3, 3, 8, 16)),
    ({'window_strides': (1, 1), 'padding': 'SAME', 'feature_group_count': 4}, (3, 3, 2, 16)),
    ({'window_strides': (1, 1), 'padding': 'SAME', 'rhs_dilation': (2, 2)}, (3, 3, 8, 16)),
    ({'window_strides': (1, 1), 'padding': ((1, 2), (1, 2)), 'lhs_dilation': (2, 2)},
     (3, 3, 8, 16)),
])
def test_convolution_flops_match_xla_cpu_cost_analysis_forward_and_backward(kwargs, kernel):
  # XLA's CPU cost analysis is the independent reference: it skips taps on padding and on
  # a dilated input's zeros, as the count must. The backward pass (input and kernel
  # gradients: convolutions with other strides, dilations and paddings) is timed alone,
  # since XLA drops a forward pass whose result the loss does not need.
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(3, 15, 16, 8)), jnp.float32)
  k = jnp.asarray(rng.normal(size=kernel), jnp.float32)
  forward = lambda x, k: _conv(x, k, **kwargs)
  y, backward = jax.vjp(forward, x, k)
  cotangent = jnp.asarray(rng.normal(size=y.shape), jnp.float32)
  assert matmul_floor.counted_flops(forward, x, k) == _xla_cpu_flops(forward, x, k)
  assert matmul_floor.counted_flops(backward, cotangent) == _xla_cpu_flops(backward, cotangent)


def test_counted_flops_add_products_and_repeat_a_scan_body():
  x, w = jnp.ones((5, 3)), jnp.ones((3, 3))
  body = lambda h, _: (h @ w, None)
  fn = lambda h: jax.lax.scan(body, h, None, length=4)[0]
  assert matmul_floor.counted_flops(fn, x) == 4 * 2 * 5 * 3 * 3


def test_products_are_cut_into_groups_that_fit_in_memory():
  (small,) = matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((8, 4)), jnp.ones((4, 2)))
  assert small.bytes == (8 * 4 + 4 * 2 + 8 * 2) * 4
  (batched,) = matmul_floor.step_products(lambda a, b: jnp.einsum('bij,bkj->bik', a, b),
                                          jnp.ones((3, 2, 5), jnp.bfloat16),
                                          jnp.ones((3, 4, 5), jnp.bfloat16))
  assert batched.bytes == (3 * 2 * 5 + 3 * 4 * 5 + 3 * 2 * 4) * 2
  groups = matmul_floor.memory_groups([small] * 5, max_bytes=2 * small.bytes)
  assert groups == [[small] * 2, [small] * 2, [small]]
  # A product larger than the limit is timed on its own; nothing is dropped or reordered.
  assert matmul_floor.memory_groups([small, batched, small], max_bytes=100) == [
      [small], [batched], [small]]
  assert matmul_floor.memory_groups([]) == []


def test_each_memory_group_is_its_own_program(monkeypatch):
  products = (matmul_floor.step_products(lambda a, b: a @ b, jnp.ones((8, 4)), jnp.ones((4, 2)))
              * 3)
  programs = []
  monkeypatch.setattr(matmul_floor, '_xla_group_milliseconds',
                      lambda group, seconds: programs.append((group, seconds)) or 1.5)
  total = matmul_floor.xla_products_milliseconds(products, seconds=0.6,
                                                 max_bytes=products[0].bytes)
  assert total == 4.5
  assert [group for group, _ in programs] == [[p] for p in products]
  np.testing.assert_allclose([seconds for _, seconds in programs], [0.2] * 3)
