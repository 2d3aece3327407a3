"""The matrix products of a jitted step, timed alone: a floor under the step's time.

A train step cannot run faster than its own matrix products do on their own. This module
lists the products a function performs (every `dot_general` in its jaxpr, including the
backward pass and `lax.scan` bodies, repeated `length` times) and times them as one XLA
program on random inputs of the same shapes, and, for comparison, the same products in
torch. `compare_torch.py` reports the result beside each comparison: with torch's step
time T and the products' time P under XLA, no gan_jax step built on XLA's kernels can
beat torch by more than T / P, whatever else is optimised.

The products are timed in groups whose operands and results fit in `max_bytes` (4 GiB by
default), each group one XLA program, and the groups' times are summed: listing every
operand at once needs the sum of all of them, which for cifar10_sngan at batch 256 (1,123
products) ran an H200 out of memory beside the step and torch. A step small enough to fit
(every DCGAN and MLP step measured so far) is one group, as before.

`counted_flops` is the step's FLOPs counted from its jaxpr: every product and every
convolution (2 x its multiply-adds, not counting taps on padding or on the zeros of a
dilated input, as XLA's CPU cost analysis counts them). Unlike
XLA's cost analysis it does not depend on the backend: on a GPU, XLA's count leaves out
the work of the cuBLAS/cuDNN kernels it calls (18.9 GFLOP reported for cifar10_dcgan at
batch 256 on an H200, whose products alone do 107.9).

A `while_loop` body's products are listed once (its trip count is not static), and
convolutions are not products here: `count_convolutions` says how many a step has, so a
caller can tell when the floor leaves them out (gan_jax's conv layers are im2col matrix
products, so its DCGAN and ResNet steps have none).
"""

import dataclasses
import time
from typing import Callable

import jax
import jax.extend  # jax.extend.core.Jaxpr below; `import jax` alone does not load it.
import numpy as np


@dataclasses.dataclass(frozen=True)
class Product:
  """One `lax.dot_general`: operand shapes, its dimension numbers and dtype."""
  lhs_shape: tuple
  rhs_shape: tuple
  dimension_numbers: tuple  # ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))
  dtype: np.dtype

  def _rhs_free_size(self) -> int:
    """Elements of rhs's dimensions that are neither contracted nor batch."""
    (_, rhs_contract), (_, rhs_batch) = self.dimension_numbers
    return int(np.prod([d for i, d in enumerate(self.rhs_shape)
                        if i not in rhs_contract and i not in rhs_batch], dtype=np.int64))

  @property
  def flops(self) -> int:
    """2 x (output elements) x (contracted size): multiply-adds counted as two."""
    return 2 * int(np.prod(self.lhs_shape, dtype=np.int64)) * self._rhs_free_size()

  @property
  def bytes(self) -> int:
    """Memory of both operands and the result."""
    lhs_contract = self.dimension_numbers[0][0]
    lhs_rest = [d for i, d in enumerate(self.lhs_shape) if i not in lhs_contract]
    elements = (np.prod(self.lhs_shape, dtype=np.int64) + np.prod(self.rhs_shape, dtype=np.int64)
                + np.prod(lhs_rest, dtype=np.int64) * self._rhs_free_size())
    return int(elements) * self.dtype.itemsize


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


def _product_of(eqn) -> Product:
  """The `Product` of one `dot_general` equation."""
  lhs, rhs = eqn.invars[0].aval, eqn.invars[1].aval
  numbers = tuple(tuple(tuple(int(d) for d in dims) for dims in pair)
                  for pair in eqn.params['dimension_numbers'])
  return Product(tuple(lhs.shape), tuple(rhs.shape), numbers, np.dtype(lhs.dtype))


def step_products(fn: Callable, *args) -> list[Product]:
  """Every matrix product `fn(*args)` performs, once per execution (scans unrolled)."""
  products = []

  def visit(eqn, repeat):
    if eqn.primitive.name == 'dot_general':
      products.extend([_product_of(eqn)] * repeat)

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


def _taps_on_input(out_size: int, kernel: int, stride: int, padding_low: int, in_size: int,
                   lhs_dilation: int, rhs_dilation: int) -> int:
  """(output position, kernel tap) pairs of one spatial dimension that read a real input.

  Taps on padding and on the zeros that `lhs_dilation` inserts read nothing and are not
  counted, as XLA's cost analysis does not count them.
  """
  span = (in_size - 1) * lhs_dilation
  taps = 0
  for out in range(out_size):
    for tap in range(kernel):
      position = out * stride + tap * rhs_dilation - padding_low
      taps += 0 <= position <= span and position % lhs_dilation == 0
  return taps


def convolution_flops(eqn) -> int:
  """2 x multiply-adds of one `conv_general_dilated` equation that read a real input."""
  params = eqn.params
  numbers = params['dimension_numbers']
  lhs, rhs = eqn.invars[0].aval.shape, eqn.invars[1].aval.shape
  out = eqn.outvars[0].aval.shape
  spatial = len(numbers.lhs_spec) - 2
  lhs_dilation = params['lhs_dilation'] or (1,) * spatial
  rhs_dilation = params['rhs_dilation'] or (1,) * spatial
  pairs = 1
  for d in range(spatial):
    pairs *= _taps_on_input(out[numbers.out_spec[2 + d]], rhs[numbers.rhs_spec[2 + d]],
                            params['window_strides'][d], params['padding'][d][0],
                            lhs[numbers.lhs_spec[2 + d]], lhs_dilation[d], rhs_dilation[d])
  # Each output element of each (batch, output feature) sums over its group's input
  # features (the kernel's input dimension) at every tap that reads the input.
  per_pair = out[numbers.out_spec[0]] * out[numbers.out_spec[1]] * rhs[numbers.rhs_spec[1]]
  return 2 * int(pairs) * int(per_pair)


def counted_flops(fn: Callable, *args) -> int:
  """FLOPs of `fn(*args)` in its products and convolutions, counted from its jaxpr."""
  total = [0]

  def visit(eqn, repeat):
    if eqn.primitive.name == 'conv_general_dilated':
      total[0] += repeat * convolution_flops(eqn)
    elif eqn.primitive.name == 'dot_general':
      total[0] += repeat * _product_of(eqn).flops

  _walk(jax.make_jaxpr(fn)(*args).jaxpr, 1, visit)
  return total[0]


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


# Operands and results of one timed group: small beside any accelerator's memory, and
# larger than every DCGAN or MLP step's products together.
MAX_GROUP_BYTES = 4 << 30


def memory_groups(products: list[Product], max_bytes: int = MAX_GROUP_BYTES
                  ) -> list[list[Product]]:
  """`products` in order, cut into consecutive groups of at most `max_bytes` each.

  A product larger than `max_bytes` on its own is a group of one.
  """
  groups, size = [], 0
  for product in products:
    if not groups or size + product.bytes > max_bytes:
      groups.append([])
      size = 0
    groups[-1].append(product)
    size += product.bytes
  return groups


def _xla_group_milliseconds(products: list[Product], seconds: float) -> float:
  """Wall time of `products` as ONE jitted XLA program, on random operands."""
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


def xla_products_milliseconds(products: list[Product], seconds: float = 2.0,
                              max_bytes: int = MAX_GROUP_BYTES) -> float:
  """Wall time of all `products` in XLA: the sum over their `memory_groups`.

  Each group is one program timed for its share of `seconds`; its operands are freed
  before the next group's are drawn.
  """
  groups = memory_groups(products, max_bytes)
  return float(sum(_xla_group_milliseconds(group, seconds / len(groups)) for group in groups))


def torch_products_milliseconds(products: list[Product], seconds: float = 2.0,
                                device: str = 'cpu', max_bytes: int = MAX_GROUP_BYTES
                                ) -> float:
  """Wall time of the same products in eager torch, in the same dtypes, on `device`.

  `torch.tensordot` computes each product, or a batched `torch.matmul` where it has batch
  dimensions. Timed in the same `memory_groups` as in XLA, and summed.
  """
  groups = memory_groups(products, max_bytes)
  return float(sum(_torch_group_milliseconds(group, seconds / len(groups), device)
                   for group in groups))


def _torch_group_milliseconds(products: list[Product], seconds: float, device: str) -> float:
  """Wall time of `products` in eager torch, all operands resident at once."""
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
