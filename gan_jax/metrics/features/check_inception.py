"""Compares gan_jax's InceptionV3 with pytorch-fid's on random images.

Needs PyTorch and pytorch-fid (`pip install torch pytorch-fid`), which gan_jax itself
never imports. With the pretrained weights:

  python -m gan_jax.metrics.features.check_inception \
      --weights=/path/to/pt_inception-2015-12-05-6726825d.pth

or, where no weights can be had, with randomly initialised reference weights whose
BatchNorm statistics are fitted to random images (so that activations keep a sensible
scale through the 94 layers), written to a legacy-format .pth and read back through
the same torch-free loader:

  python -m gan_jax.metrics.features.check_inception --random_weights

Either way the reference is pytorch-fid's own `InceptionV3` wrapper (its resize, its
[0, 1] -> [-1, 1] scaling, its blocks) fed [0, 1] images, and gan_jax's network is fed
the same images as 2x - 1. It prints the largest differences of the 2048-d pool3
features and the 1008 logits for each input size (299 and, through the resize, 32, 64
and 512), and exits non-zero on a mismatch (see `compare` for the criterion).
`--dtype=float64` runs both networks in double precision, where they agree to ~1e-13.
"""

import argparse
import importlib.util
import sys
import tempfile

import jax
import numpy as np

from gan_jax.metrics.features import inception
from gan_jax.metrics.features import torch_pickle


def fid_network(state_dict=None):
  """pytorch-fid's FID InceptionV3 (torchvision layout), holding `state_dict` if given.

  The body of `pytorch_fid.inception.fid_inception_v3`, without its download.
  """
  from pytorch_fid import inception as fid  # pylint: disable=g-import-not-at-top
  # pylint: disable-next=protected-access
  net = fid._inception_v3(num_classes=1008, aux_logits=False, weights=None)
  net.Mixed_5b = fid.FIDInceptionA(192, pool_features=32)
  net.Mixed_5c = fid.FIDInceptionA(256, pool_features=64)
  net.Mixed_5d = fid.FIDInceptionA(288, pool_features=64)
  net.Mixed_6b = fid.FIDInceptionC(768, channels_7x7=128)
  net.Mixed_6c = fid.FIDInceptionC(768, channels_7x7=160)
  net.Mixed_6d = fid.FIDInceptionC(768, channels_7x7=160)
  net.Mixed_6e = fid.FIDInceptionC(768, channels_7x7=192)
  net.Mixed_7b = fid.FIDInceptionE_1(1280)
  net.Mixed_7c = fid.FIDInceptionE_2(2048)
  if state_dict is not None:
    net.load_state_dict(state_dict)
  return net.eval()


def fid_wrapper(net, resize_input: bool = True):
  """pytorch-fid's `InceptionV3([3])` (resize, scaling, pool3 blocks) around `net`."""
  from pytorch_fid import inception as fid  # pylint: disable=g-import-not-at-top
  original = fid.fid_inception_v3
  fid.fid_inception_v3 = lambda: net
  try:
    return fid.InceptionV3([3], resize_input=resize_input).eval()
  finally:
    fid.fid_inception_v3 = original


def random_state_dict(seed: int, size: int = 299, batch: int = 8) -> dict:
  """A random FID Inception state dict whose BatchNorms normalise random images.

  The running statistics are those of `batch` uniform [-1, 1] images of `size` squared.
  """
  import torch  # pylint: disable=g-import-not-at-top
  torch.manual_seed(seed)
  net = fid_network()
  for module in net.modules():
    if isinstance(module, torch.nn.BatchNorm2d):
      # Non-trivial affine parameters, so that the mapping of both is exercised.
      torch.nn.init.uniform_(module.weight, 0.5, 1.5)
      torch.nn.init.normal_(module.bias, 0.0, 0.2)
      module.momentum = None  # Running statistics = the plain average over batches.
  with torch.no_grad():
    net.train()(2 * torch.rand(batch, 3, size, size) - 1)
  net.eval()
  return {k: v.clone() for k, v in net.state_dict().items()}


def compare(weights_path, sizes, num_images: int = 4, tolerance: float | None = None,
            dtype: str = 'float32', seed: int = 0) -> bool:
  """Runs both networks on random images of each size and prints the differences.

  `weights_path` None means random reference weights. The reference is also run in
  float64, as the ground truth. In float64 (JAX's x64 mode is switched on) the two
  networks agree to rounding, about 1e-13: that checks structure, weight mapping and
  resizing exactly. In float32 they sum in different orders, and the rounding grows
  through the 94 layers; so a float32 difference passes when it is within `tolerance`
  (default 1e-4; 1e-9 in float64) times max(1, the largest reference value), or when
  gan_jax's result is no further from the float64 truth than 1.5 times the reference's
  own float32 result is.
  """
  with jax.enable_x64(True):  # For the float64 runs; the float32 ones pass float32 arrays.
    return _compare(weights_path, sizes, num_images, tolerance, dtype, seed)


def _compare(weights_path, sizes, num_images, tolerance, dtype, seed) -> bool:
  import torch  # pylint: disable=g-import-not-at-top
  tolerance = tolerance or {'float32': 1e-4, 'float64': 1e-9}[dtype]
  with tempfile.TemporaryDirectory() as tmp:
    if weights_path is None:
      state = random_state_dict(seed)
      path = f'{tmp}/random_inception.pth'
      # The legacy layout, as the published file was written before PyTorch 1.6.
      torch.save(state, path, _use_new_zipfile_serialization=False)
    else:
      path = inception.find_weights(weights_path, download=False)  # Checks the SHA-256.
      state = torch.load(path, map_location='cpu', weights_only=True)  # Tensors only.
    variables = inception.variables_from_torch(torch_pickle.load_torch_state_dict(path))
  variables = jax.tree.map(lambda a: np.asarray(a, dtype), variables)
  nets = {d: fid_network(state).to(getattr(torch, d)) for d in {dtype, 'float64'}}
  apply = jax.jit(inception.InceptionV3().apply)
  rng = np.random.default_rng(seed)
  ok = True
  for size in sizes:
    images = rng.random((num_images, size, size, 3))  # [0, 1], NHWC, float64
    refs = {}
    for d, net in nets.items():
      with torch.no_grad():
        x = torch.from_numpy(images.astype(d).transpose(0, 3, 1, 2))
        features = fid_wrapper(net)(x)[0].flatten(1)
        # torchvision's head: average pool, dropout (off in eval), fc.
        refs[d] = {'features': features.numpy(), 'logits': net.fc(features).numpy()}
    logits, features = apply(variables, (2 * images - 1).astype(dtype))
    ours = {'features': np.asarray(features, np.float64), 'logits': np.asarray(logits, np.float64)}
    for what in ('features', 'logits'):
      ref, truth = refs[dtype][what], refs['float64'][what]
      diff = float(np.max(np.abs(ours[what] - ref)))
      scale = float(np.max(np.abs(ref)))
      our_error = float(np.max(np.abs(ours[what] - truth)))
      ref_error = float(np.max(np.abs(ref - truth)))
      good = diff <= tolerance * max(1.0, scale) or our_error <= 1.5 * ref_error
      ok &= good
      print(f'{size:4d}x{size:<4d} {dtype} {what:8s} max |ours - ref| {diff:.2e} '
            f'(max |ref| {scale:.2e}); from float64: ours {our_error:.2e}, '
            f'ref {ref_error:.2e}  {"ok" if good else "MISMATCH"}')
  return ok


def main(argv: list[str]) -> int:
  """Parses the options, compares, and returns the exit status (0 when all agree)."""
  parser = argparse.ArgumentParser(prog='python -m gan_jax.metrics.features.check_inception',
                                   description=__doc__.split('\n')[0])
  which = parser.add_mutually_exclusive_group(required=True)
  which.add_argument('--weights', help='path of pt_inception-2015-12-05-6726825d.pth')
  which.add_argument('--random_weights', action='store_true',
                     help='use random reference weights instead')
  parser.add_argument('--sizes', default='299,32,64,512',
                      help='input sizes to compare, each resized to 299 by both networks')
  parser.add_argument('--num_images', type=int, default=4, help='random images per size')
  parser.add_argument('--dtype', default='float32', choices=['float32', 'float64'],
                      help='precision of both networks')
  parser.add_argument('--tolerance', type=float,
                      help='largest allowed relative difference (default 1e-4 in float32, '
                      '1e-9 in float64)')
  parser.add_argument('--seed', type=int, default=0, help='seeds images and random weights')
  args = parser.parse_args(argv)
  missing = [m for m in ('torch', 'pytorch_fid') if importlib.util.find_spec(m) is None]
  if missing:
    print(f'check_inception needs PyTorch and pytorch-fid (missing: {", ".join(missing)}): '
          f'pip install torch pytorch-fid', file=sys.stderr)
    return 2
  ok = compare(args.weights, [int(s) for s in args.sizes.split(',')], args.num_images,
               args.tolerance, args.dtype, args.seed)
  print('all within tolerance' if ok else 'MISMATCH')
  return 0 if ok else 1


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
