"""The matrix products of a jitted step, timed alone: a floor under the step's time.

A train step cannot run faster than its own matrix products do on their own. This module
lists the products a function performs (every `dot_general` in its jaxpr, including the
backward pass and `lax.scan` bodies, repeated `length` times) and times them as one XLA
program on random inputs of the same shapes, and, for comparison, the same products in
torch. `compare_torch.py` reports the result beside each comparison: with torch's step
time T and the products' time P under XLA, no gan_jax step built on XLA's kernels can
beat torch by more than T / P, whatever else is optimised.

A `while_loop` body's products are listed once (its trip count is not static), and
convolutions are not products here: `count_convolutions` says how many a step has, so a
caller can tell when the floor leaves them out (gan_jax's conv layers are im2col matrix
products, so its DCGAN and ResNet steps have none).
"""

import dataclasses
import time
from typing import Callable

import jax
import numpy as np


@dataclasses.dataclass(frozen=True)
class Product:
  """One `lax.dot_general`: operand shapes, its dimension numbers and dtype."""
  lhs_shape: tuple
  rhs_shape: tuple
  dimension_numbers: tuple  # ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))
  dtype: np.dtype

  @property
  def flops(self) -> int:
    """2 x (output elements) x (contracted size): multiply-adds counted as two."""
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = self.dimension_numbers
    rhs_free = [d for i, d in enumerate(self.rhs_shape)
                if i not in rhs_contract and i not in rhs_batch]
    return 2 * int(np.prod(self.lhs_shape)) * int(np.prod(rhs_free, dtype=np.int64))


def _subjaxprs(eqn):
  """The jaxprs nested in one equation's parameters (scan, cond, pjit, custom rules...)."""
  for value in eqn.params.values():
    for item in value if isinstance(value, (list, tuple)) else (value,):
      if isinstance(item, jax.extend.core.ClosedJaxpr):
        yield item.jaxpr
      elif isinstance(item, jax.extend.core.Jaxpr):
        yield item


def _walk(jaxpr, repeat: int, visit: Callable) -> None:
  for eqn in jaxpr.eqns:
    visit(eqn, repeat)
    # A scan runs its body `length` times; every other nested jaxpr runs once per call
    # as far as a static count can tell (a cond runs one branch, but both are listed).
    inner = repeat * int(eqn.params['length']) if eqn.primitive.name == 'scan' else repeat
    for sub in _subjaxprs(eqn):
      _walk(sub, inner, visit)


def step_products(fn: Callable, *args) -> list[Product]:
  """Every matrix product `fn(*args)` performs, once per execution (scans unrolled)."""
  products = []

  def visit(eqn, repeat):
    if eqn.primitive.name == 'dot_general':
      lhs, rhs = eqn.invars[0].aval, eqn.invars[1].aval
      numbers = tuple(tuple(tuple(int(d) for d in dims) for dims in pair)
                      for pair in eqn.params['dimension_numbers'])
      products.extend([Product(tuple(lhs.shape), tuple(rhs.shape), numbers,
                               np.dtype(lhs.dtype))] * repeat)

  _walk(jax.make_jaxpr(fn)(*args).jaxpr, 1, visit)
  return products


def count_convolutions(fn: Callable, *args) -> int:
  """How many `conv_general_dilated`s `fn(*args)` performs (not part of the floor)."""
  count = [0]

  def visit(eqn, repeat):
    if eqn.primitive.name == 'conv_general_dilated':
      count[0] += repeat

  _walk(jax.make_jaxpr(fn)(*args).jaxpr, 1, visit)
  return count[0]


def _median_milliseconds(run: Callable[[], None], seconds: float, windows: int = 5) -> float:
  """Median over `windows` windows of the mean wall time of `run()`, after one warm-up."""
  run()
  times = []
  for _ in range(windows):
    calls, start = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - start < seconds / windows:
      run()
      calls += 1
    times.append((time.perf_counter() - start) / calls * 1e3)
  return float(np.median(times))


def xla_products_milliseconds(products: list[Product], seconds: float = 2.0) -> float:
  """Wall time of all `products` as ONE jitted XLA program, on random operands."""
  if not products:
    return 0.0
  keys = jax.random.split(jax.random.key(0), 2 * len(products))
  lhs = [jax.random.normal(keys[2 * i], p.lhs_shape, p.dtype) for i, p in enumerate(products)]
  rhs = [jax.random.normal(keys[2 * i + 1], p.rhs_shape, p.dtype)
         for i, p in enumerate(products)]

  @jax.jit
  def all_products(lhs, rhs):
    # Every result is returned, so XLA can drop none of them.
    return [jax.lax.dot_general(a, b, p.dimension_numbers)
            for a, b, p in zip(lhs, rhs, products)]

  return _median_milliseconds(lambda: jax.block_until_ready(all_products(lhs, rhs)), seconds)


def torch_products_milliseconds(products: list[Product], seconds: float = 2.0,
                                device: str = 'cpu') -> float:
  """Wall time of the same products in eager torch, in the same dtypes, on `device`.

  `torch.tensordot` computes each product, or a batched `torch.matmul` where it has batch
  dimensions.
  """
  import torch  # pylint: disable=g-import-not-at-top  (the optional `bench` extra)

  generator = torch.Generator().manual_seed(0)
  calls = []
  for p in products:
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = p.dimension_numbers
    dtype = getattr(torch, p.dtype.name)  # float32, bfloat16, float16: the same names.
    a = torch.randn(p.lhs_shape, generator=generator).to(device, dtype)
    b = torch.randn(p.rhs_shape, generator=generator).to(device, dtype)
    if lhs_batch:
      # Batch dims first, then free, then contracted: (batch, M, K) @ (batch, K, N).
      lhs_free = [i for i in range(a.ndim) if i not in lhs_contract and i not in lhs_batch]
      rhs_free = [i for i in range(b.ndim) if i not in rhs_contract and i not in rhs_batch]
      a = a.permute(*lhs_batch, *lhs_free, *lhs_contract).contiguous()
      b = b.permute(*rhs_batch, *rhs_contract, *rhs_free).contiguous()
      batch = [p.lhs_shape[i] for i in lhs_batch]
      a = a.reshape(*batch, int(np.prod([p.lhs_shape[i] for i in lhs_free])), -1)
      b = b.reshape(*batch, int(np.prod([p.rhs_shape[i] for i in rhs_contract])), -1)
      calls.append((torch.matmul, a, b, None))
    else:
      calls.append((torch.tensordot, a, b, (list(lhs_contract), list(rhs_contract))))

  def run():
    with torch.no_grad():
      for fn, a, b, dims in calls:
        fn(a, b) if dims is None else fn(a, b, dims=dims)
    if device.startswith('cuda'):
      torch.cuda.synchronize()

  return _median_milliseconds(run, seconds)
