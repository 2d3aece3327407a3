"""The FID InceptionV3: layer list and parameter count, shapes, resizing, weight mapping.

The pretrained weights cannot be downloaded here, so the network is checked against
the reference's layer definitions (transcribed below from torchvision's
`models/inception.py` and pytorch-fid's `inception.py`, independently of the module),
with random weights. Where PyTorch and pytorch-fid are installed, the last tests run
pytorch-fid's own network on the same random weights and compare outputs; elsewhere
they are skipped. `python -m gan_jax.metrics.features.check_inception --weights=PATH`
does the same comparison with the real weights.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.metrics import features
from gan_jax.metrics.features import inception

# ---------------------------------------------------------------------------------------
# The reference's convolutions (BasicConv2d: conv without bias + BatchNorm), as
# (state-dict prefix, in channels, out channels, kernel height, kernel width).


def _block_a(name, cin, pool):
  return [(f'{name}.branch1x1', cin, 64, 1, 1), (f'{name}.branch5x5_1', cin, 48, 1, 1),
          (f'{name}.branch5x5_2', 48, 64, 5, 5), (f'{name}.branch3x3dbl_1', cin, 64, 1, 1),
          (f'{name}.branch3x3dbl_2', 64, 96, 3, 3), (f'{name}.branch3x3dbl_3', 96, 96, 3, 3),
          (f'{name}.branch_pool', cin, pool, 1, 1)]


def _block_b(name, cin):
  return [(f'{name}.branch3x3', cin, 384, 3, 3), (f'{name}.branch3x3dbl_1', cin, 64, 1, 1),
          (f'{name}.branch3x3dbl_2', 64, 96, 3, 3), (f'{name}.branch3x3dbl_3', 96, 96, 3, 3)]


def _block_c(name, cin, c7):
  return [(f'{name}.branch1x1', cin, 192, 1, 1), (f'{name}.branch7x7_1', cin, c7, 1, 1),
          (f'{name}.branch7x7_2', c7, c7, 1, 7), (f'{name}.branch7x7_3', c7, 192, 7, 1),
          (f'{name}.branch7x7dbl_1', cin, c7, 1, 1), (f'{name}.branch7x7dbl_2', c7, c7, 7, 1),
          (f'{name}.branch7x7dbl_3', c7, c7, 1, 7), (f'{name}.branch7x7dbl_4', c7, c7, 7, 1),
          (f'{name}.branch7x7dbl_5', c7, 192, 1, 7), (f'{name}.branch_pool', cin, 192, 1, 1)]


def _block_d(name, cin):
  return [(f'{name}.branch3x3_1', cin, 192, 1, 1), (f'{name}.branch3x3_2', 192, 320, 3, 3),
          (f'{name}.branch7x7x3_1', cin, 192, 1, 1), (f'{name}.branch7x7x3_2', 192, 192, 1, 7),
          (f'{name}.branch7x7x3_3', 192, 192, 7, 1), (f'{name}.branch7x7x3_4', 192, 192, 3, 3)]


def _block_e(name, cin):
  return [(f'{name}.branch1x1', cin, 320, 1, 1), (f'{name}.branch3x3_1', cin, 384, 1, 1),
          (f'{name}.branch3x3_2a', 384, 384, 1, 3), (f'{name}.branch3x3_2b', 384, 384, 3, 1),
          (f'{name}.branch3x3dbl_1', cin, 448, 1, 1), (f'{name}.branch3x3dbl_2', 448, 384, 3, 3),
          (f'{name}.branch3x3dbl_3a', 384, 384, 1, 3),
          (f'{name}.branch3x3dbl_3b', 384, 384, 3, 1), (f'{name}.branch_pool', cin, 192, 1, 1)]


REFERENCE_CONVS = [
    ('Conv2d_1a_3x3', 3, 32, 3, 3), ('Conv2d_2a_3x3', 32, 32, 3, 3),
    ('Conv2d_2b_3x3', 32, 64, 3, 3), ('Conv2d_3b_1x1', 64, 80, 1, 1),
    ('Conv2d_4a_3x3', 80, 192, 3, 3),
    *_block_a('Mixed_5b', 192, 32), *_block_a('Mixed_5c', 256, 64),
    *_block_a('Mixed_5d', 288, 64), *_block_b('Mixed_6a', 288),
    *_block_c('Mixed_6b', 768, 128), *_block_c('Mixed_6c', 768, 160),
    *_block_c('Mixed_6d', 768, 160), *_block_c('Mixed_6e', 768, 192),
    *_block_d('Mixed_7a', 768), *_block_e('Mixed_7b', 1280), *_block_e('Mixed_7c', 2048),
]


def reference_state_dict(seed: int = 0) -> dict:
  """A random state dict with the reference's keys and PyTorch shapes (OIHW, (out, in))."""
  rng = np.random.default_rng(seed)
  state = {}
  for name, cin, cout, kh, kw in REFERENCE_CONVS:
    state[f'{name}.conv.weight'] = rng.normal(0, 1 / np.sqrt(cin * kh * kw),
                                              (cout, cin, kh, kw)).astype(np.float32)
    state[f'{name}.bn.weight'] = rng.uniform(0.5, 1.5, cout).astype(np.float32)
    state[f'{name}.bn.bias'] = rng.normal(0, 0.1, cout).astype(np.float32)
    state[f'{name}.bn.running_mean'] = rng.normal(0, 0.1, cout).astype(np.float32)
    state[f'{name}.bn.running_var'] = rng.uniform(0.5, 1.5, cout).astype(np.float32)
    state[f'{name}.bn.num_batches_tracked'] = np.array(0, np.int64)
  state['fc.weight'] = rng.normal(0, 0.02, (1008, 2048)).astype(np.float32)
  state['fc.bias'] = rng.normal(0, 0.1, 1008).astype(np.float32)
  return state


@pytest.fixture(scope='module')
def random_variables():
  """Random flax variables of the network, through the PyTorch mapping."""
  return inception.variables_from_torch(reference_state_dict())


# ---------------------------------------------------------------------------------------
# Architecture.


def test_parameter_count_matches_the_reference():
  # torchvision publishes 27,161,264 parameters for inception_v3 (the `num_params` of
  # Inception_V3_Weights.IMAGENET1K_V1), with its auxiliary classifier and 1000 classes.
  # The FID network drops AuxLogits (conv0 768->128 1x1, conv1 128->768 5x5, each with
  # BatchNorm, fc 768->1000) and has 1008 classes: 23,850,960, which is also what
  # PyTorch counts for pytorch-fid's fid_inception_v3().
  aux = (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
  expected = 27_161_264 - aux - (2048 * 1000 + 1000) + (2048 * 1008 + 1008)
  assert expected == 23_850_960
  table = sum(cin * cout * kh * kw + 2 * cout for _, cin, cout, kh, kw in REFERENCE_CONVS)
  assert len(REFERENCE_CONVS) == 94
  assert table + 2048 * 1008 + 1008 == expected

  shapes = inception.init_shapes()
  count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes['params']))
  assert count == expected
  # Running mean and variance of every BatchNorm.
  stats = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(shapes['batch_stats']))
  assert stats == 2 * sum(cout for _, _, cout, _, _ in REFERENCE_CONVS)


def test_block_output_shapes_at_full_size():
  # The sizes torchvision's comments give for a 299x299 input; costs no compute.
  model = inception.InceptionV3()
  x = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
  _, state = jax.eval_shape(
      lambda v, x: model.apply(v, x, capture_intermediates=True, mutable=['intermediates']),
      inception.init_shapes(), x)
  shape = lambda name: state['intermediates'][name]['__call__'][0].shape
  assert shape('Conv2d_1a_3x3') == (2, 149, 149, 32)
  assert shape('Conv2d_2b_3x3') == (2, 147, 147, 64)
  assert shape('Conv2d_4a_3x3') == (2, 71, 71, 192)
  assert shape('Mixed_5b') == (2, 35, 35, 256)
  assert shape('Mixed_5d') == (2, 35, 35, 288)
  assert shape('Mixed_6a') == (2, 17, 17, 768)
  assert shape('Mixed_6e') == (2, 17, 17, 768)
  assert shape('Mixed_7a') == (2, 8, 8, 1280)
  assert shape('Mixed_7c') == (2, 8, 8, 2048)


@pytest.mark.parametrize('shape', [(2, 8, 8, 1), (1, 32, 32, 3), (1, 512, 400, 3)])
def test_output_shapes_for_any_input_size(shape):
  logits, feats = jax.eval_shape(inception.InceptionV3().apply, inception.init_shapes(),
                                 jax.ShapeDtypeStruct(shape, jnp.float32))
  assert logits.shape == (shape[0], 1008)
  assert feats.shape == (shape[0], 2048)


def test_rejects_images_that_are_not_nhwc_gray_or_rgb():
  with pytest.raises(ValueError, match='1 or 3 channels'):
    jax.eval_shape(inception.InceptionV3().apply, inception.init_shapes(),
                   jax.ShapeDtypeStruct((1, 32, 32, 4), jnp.float32))


@pytest.mark.slow
def test_forward_pass_and_extractor(random_variables):
  # The full-size forward passes of the suite: 28x28 images, resized to 299x299 inside
  # the network, gray and as RGB copies (which must give the same outputs).
  extractor = inception.make_extractor(random_variables, sha256='ab' * 32)
  gray = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
  out = extractor.extract(gray)
  assert out['features'].shape == (2, 2048) and out['logits'].shape == (2, 1008)
  assert np.all(np.isfinite(out['features'])) and np.all(out['features'] >= 0)  # After ReLU.
  rgb = extractor.extract(np.tile(gray, (1, 1, 1, 3)))
  for key in out:
    np.testing.assert_array_equal(out[key], rgb[key])
  # The fc layer: logits = features @ W^T + b with the PyTorch (out, in) weight.
  state = reference_state_dict()
  np.testing.assert_allclose(out['logits'], out['features'] @ state['fc.weight'].T
                             + state['fc.bias'], rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(out['logits_unbiased'], out['features'] @ state['fc.weight'].T,
                             rtol=1e-4, atol=1e-4)
  assert extractor.cache_key == 'inception_v3-' + 'ab' * 8
  assert extractor.input_shape == (299, 299, 3)


# ---------------------------------------------------------------------------------------
# Resizing.


def _torch_bilinear_1d(row: np.ndarray, out_size: int) -> np.ndarray:
  """One row resized as ATen's upsample_bilinear2d (align_corners=False), element-wise."""
  in_size = len(row)
  out = np.empty(out_size)
  for i in range(out_size):
    src = max((i + 0.5) * in_size / out_size - 0.5, 0.0)
    lo = int(src)
    hi = lo + 1 if lo < in_size - 1 else lo
    frac = src - lo
    out[i] = (1 - frac) * row[lo] + frac * row[hi]
  return out


@pytest.mark.parametrize('in_size,out_size', [(8, 299), (28, 299), (299, 299), (512, 299),
                                              (7, 3)])
def test_bilinear_matrix_is_pytorchs_formula(in_size, out_size):
  row = np.random.default_rng(in_size).normal(size=in_size)
  matrix = inception.bilinear_matrix(in_size, out_size)
  np.testing.assert_allclose(matrix @ row, _torch_bilinear_1d(row, out_size), atol=1e-12)
  np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize('size', [8, 28])
def test_upsampling_equals_jax_image_resize(size):
  # jax.image.resize's bilinear is the same half-pixel interpolation; its antialiasing
  # only acts when downsampling.
  images = jax.random.uniform(jax.random.key(size), (2, size, size, 3), minval=-1, maxval=1)
  ours = inception.resize_bilinear(images, 299, 299)
  theirs = jax.image.resize(images, (2, 299, 299, 3), 'bilinear')
  np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_downsampling_is_not_antialiased():
  # pytorch-fid's F.interpolate does not antialias, so neither does resize_bilinear; an
  # alternating pattern survives a 512 -> 299 resize instead of averaging out to ~0.
  images = jnp.tile(jnp.array([-1.0, 1.0]), 256)[None, None, :, None] * jnp.ones((1, 4, 1, 1))
  ours = inception.resize_bilinear(images, 4, 299)
  antialiased = jax.image.resize(images, (1, 4, 299, 1), 'bilinear')
  assert float(jnp.abs(ours).max()) > 0.9
  assert float(jnp.abs(antialiased).mean()) < float(jnp.abs(ours).mean())


# ---------------------------------------------------------------------------------------
# Weights: mapping from the PyTorch state dict, finding and checking the file.


def test_state_dict_maps_onto_the_flax_variables(random_variables):
  state = reference_state_dict()
  assert jax.tree.map(np.shape, random_variables) == jax.tree.map(
      lambda s: s.shape, inception.init_shapes())
  params, stats = random_variables['params'], random_variables['batch_stats']
  # Convolutions OIHW -> HWIO, including the 1x7 / 7x1 kernels.
  kernel = params['Mixed_6b']['branch7x7_2']['conv']['kernel']
  assert kernel.shape == (1, 7, 128, 128)
  np.testing.assert_array_equal(kernel[0, 5, 3, 9],
                                state['Mixed_6b.branch7x7_2.conv.weight'][9, 3, 0, 5])
  np.testing.assert_array_equal(params['Mixed_7c']['branch_pool']['bn']['scale'],
                                state['Mixed_7c.branch_pool.bn.weight'])
  np.testing.assert_array_equal(params['Conv2d_1a_3x3']['bn']['bias'],
                                state['Conv2d_1a_3x3.bn.bias'])
  np.testing.assert_array_equal(stats['Mixed_5b']['branch5x5_2']['bn']['mean'],
                                state['Mixed_5b.branch5x5_2.bn.running_mean'])
  np.testing.assert_array_equal(stats['Mixed_5b']['branch5x5_2']['bn']['var'],
                                state['Mixed_5b.branch5x5_2.bn.running_var'])
  np.testing.assert_array_equal(params['fc']['kernel'], state['fc.weight'].T)


def test_mapped_convolution_computes_what_pytorch_does(random_variables):
  # One BasicConv2d of the flax network against the same layer written directly in
  # PyTorch's conventions: NCHW input, OIHW weight, eval-mode BatchNorm, eps 0.001.
  state = reference_state_dict()
  name = 'Mixed_6e.branch7x7dbl_2'  # a 7x1 kernel with (3, 0) padding
  x = np.random.default_rng(1).normal(size=(2, 192, 17, 17)).astype(np.float32)
  y = jax.lax.conv_general_dilated(x, state[f'{name}.conv.weight'], (1, 1), ((3, 3), (0, 0)),
                                   dimension_numbers=('NCHW', 'OIHW', 'NCHW'),
                                   precision=jax.lax.Precision.HIGHEST)
  per_channel = lambda key: state[f'{name}.bn.{key}'][None, :, None, None]
  y = (y - per_channel('running_mean')) / np.sqrt(per_channel('running_var') + 1e-3)
  expected = np.maximum(y * per_channel('weight') + per_channel('bias'), 0)

  block = random_variables['params']['Mixed_6e']['branch7x7dbl_2']
  stats = random_variables['batch_stats']['Mixed_6e']['branch7x7dbl_2']
  ours = inception.BasicConv2d(192, (7, 1), padding=(3, 0)).apply(
      {'params': block, 'batch_stats': stats}, x.transpose(0, 2, 3, 1))
  np.testing.assert_allclose(np.asarray(ours).transpose(0, 3, 1, 2), expected, atol=1e-4)


def test_mapping_reports_missing_unexpected_and_misshapen_keys():
  state = reference_state_dict()
  del state['Mixed_5b.branch1x1.conv.weight']
  state['AuxLogits.fc.weight'] = np.zeros((1000, 768), np.float32)
  state['fc.bias'] = np.zeros(1000, np.float32)  # torchvision's 1000 classes
  with pytest.raises(ValueError) as error:
    inception.variables_from_torch(state)
  message = str(error.value)
  assert 'missing params Mixed_5b/branch1x1/conv/kernel' in message
  assert 'unexpected params AuxLogits/fc/kernel' in message
  assert 'params fc/bias has shape (1000,), expected (1008,)' in message


def test_missing_weights_say_where_to_put_them(tmp_path, monkeypatch):
  monkeypatch.setenv(inception.CACHE_ENV, str(tmp_path / 'cache'))
  monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
  with pytest.raises(inception.WeightsNotFoundError) as error:
    inception.find_weights(download=False)
  message = str(error.value)
  assert str(tmp_path / 'cache' / inception.FID_WEIGHTS_FILENAME) in message
  assert inception.FID_WEIGHTS_URL in message and inception.FID_WEIGHTS_SHA256 in message
  with pytest.raises(inception.WeightsNotFoundError, match='No file at that path'):
    features.get_extractor('inception_v3', weights_path=str(tmp_path / 'nothing.pth'))


def test_weights_file_is_checked_against_its_sha256(tmp_path):
  # The file name's 6726825d is the start of the full SHA-256 (torch.hub's convention).
  assert inception.FID_WEIGHTS_FILENAME.endswith(f'-{inception.FID_WEIGHTS_SHA256[:8]}.pth')
  wrong = tmp_path / inception.FID_WEIGHTS_FILENAME
  wrong.write_bytes(b'not the weights')
  with pytest.raises(ValueError, match='SHA-256'):
    inception.find_weights(wrong)


def test_download_goes_to_the_cache_once_and_is_verified(tmp_path, monkeypatch):
  # A file:// URL stands in for GitHub; its SHA-256 stands in for the real file's.
  served = tmp_path / 'served.pth'
  served.write_bytes(b'pretend weights')
  monkeypatch.setattr(inception, 'FID_WEIGHTS_URL', served.as_uri())
  monkeypatch.setattr(inception, 'FID_WEIGHTS_SHA256',
                      hashlib.sha256(b'pretend weights').hexdigest())
  monkeypatch.setenv(inception.CACHE_ENV, str(tmp_path / 'cache'))
  monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
  path = inception.find_weights()
  assert path == tmp_path / 'cache' / inception.FID_WEIGHTS_FILENAME
  assert path.read_bytes() == b'pretend weights'
  served.unlink()  # A second call finds the cached file and downloads nothing.
  assert inception.find_weights() == path
  assert [p.name for p in path.parent.iterdir()] == [path.name]  # No partial files left.

  path.unlink()
  served.write_bytes(b'tampered')
  with pytest.raises(ValueError, match='not kept'):
    inception.find_weights()
  assert not any(path.parent.iterdir())


def test_get_extractor_loads_a_verified_weights_file(tmp_path, monkeypatch):
  # The whole loading path of get_extractor('inception_v3'): find, checksum, read, map.
  # The reader is replaced (it has its own tests), so the file here is a stand-in whose
  # SHA-256 takes the place of the real file's.
  path = tmp_path / 'weights.pth'
  path.write_bytes(b'stand-in')
  sha = hashlib.sha256(b'stand-in').hexdigest()
  monkeypatch.setattr(inception, 'FID_WEIGHTS_SHA256', sha)
  monkeypatch.setattr(inception.torch_pickle, 'load_torch_state_dict',
                      lambda p: reference_state_dict() if p == path else None)
  extractor = features.get_extractor('inception_v3', weights_path=str(path))
  assert extractor.cache_key == f'inception_v3-{sha[:16]}'
  assert extractor.any_size and extractor.batch_size == 64
  np.testing.assert_array_equal(extractor.variables['params']['fc']['bias'],
                                reference_state_dict()['fc.bias'])


# ---------------------------------------------------------------------------------------
# Against pytorch-fid itself, where PyTorch and pytorch-fid are installed.


def test_matches_pytorch_fid_in_float64(tmp_path):
  torch = pytest.importorskip('torch')
  pytest.importorskip('pytorch_fid')
  from gan_jax.metrics.features import check_inception  # pylint: disable=g-import-not-at-top
  # Random weights with BatchNorm statistics of random 75x75 images (75 is the smallest
  # input the network takes); written as the published file is (legacy format), read
  # back through the torch-free loader.
  state = check_inception.random_state_dict(seed=0, size=75, batch=4)
  torch.save(state, tmp_path / 'random.pth', _use_new_zipfile_serialization=False)
  reference = check_inception.fid_wrapper(check_inception.fid_network(state).double(),
                                          resize_input=False)
  net = check_inception.fid_network(state).double()
  images = np.random.default_rng(0).random((2, 75, 75, 3))
  with torch.no_grad():
    expected = reference(torch.from_numpy(images.transpose(0, 3, 1, 2)))[0].flatten(1)
    expected_logits = net.fc(expected).numpy()
  variables = inception.variables_from_torch(
      features.load_torch_state_dict(tmp_path / 'random.pth'))
  with jax.enable_x64(True):
    variables = jax.tree.map(lambda a: np.asarray(a, np.float64), variables)
    logits, feats = jax.jit(inception.InceptionV3(resize_input=False).apply)(
        variables, 2 * images - 1)
    np.testing.assert_allclose(feats, expected.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(logits, expected_logits, rtol=0, atol=1e-10)


@pytest.mark.parametrize('size', [28, 64, 512])
def test_resize_matches_torch_interpolate(size):
  torch = pytest.importorskip('torch')
  # In float64, where ATen computes its source coordinates in float64 too (in float32 it
  # uses float32 coordinates, which are up to ~3e-5 off near x = 510).
  images = np.random.default_rng(size).random((2, 3, size, size))
  expected = torch.nn.functional.interpolate(torch.from_numpy(images), size=(299, 299),
                                             mode='bilinear', align_corners=False).numpy()
  with jax.enable_x64(True):
    ours = inception.resize_bilinear(jnp.asarray(images.transpose(0, 2, 3, 1)), 299, 299)
    np.testing.assert_allclose(np.asarray(ours).transpose(0, 3, 1, 2), expected, atol=1e-12)
