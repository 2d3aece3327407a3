"""Bad data files: a clear error naming the file, or, where the config says so, skipped and
counted. (Mixed sizes, an empty folder and the IDX magic number: tests/test_data.py.)"""

import gzip
import io
import logging

import numpy as np
from PIL import Image
import pytest

from gan_jax import data
from gan_jax.data import sources
from gan_jax.data import unpaired
from tiny_configs import tiny_config


def _config(**fields):
  return tiny_config(**{f'data.{k}': v for k, v in fields.items()}).data


def _png(size=(6, 4)) -> bytes:
  buffer = io.BytesIO()
  Image.fromarray(np.random.default_rng(0).integers(0, 256, (*size[::-1], 3), np.uint8)
                  ).save(buffer, format='PNG')
  return buffer.getvalue()


@pytest.fixture
def folder(tmp_path):
  """Three good PNGs, a text file named .png and a PNG cut in half."""
  for name in ('a.png', 'b.png', 'd.png'):
    (tmp_path / name).write_bytes(_png())
  (tmp_path / 'c.png').write_text('this is not an image')
  (tmp_path / 'e.png').write_bytes(_png()[:60])
  return tmp_path


def test_an_unreadable_image_is_an_error_naming_it(folder):
  with pytest.raises(sources.BadImageError, match=r'c.png: not a readable image.*skip_bad_images'):
    data.make_source(_config(name='folder', path=str(folder)), 0)
  (folder / 'c.png').unlink()
  with pytest.raises(sources.BadImageError, match=r'e.png: not a readable image'):
    data.make_source(_config(name='folder', path=str(folder)), 0)


def test_unreadable_images_are_skipped_and_counted_when_the_config_says_so(folder, caplog):
  with caplog.at_level(logging.WARNING):
    source = data.make_source(_config(name='folder', path=str(folder), skip_bad_images=True), 0)
  assert len(source) == 3 and [p.name for p in source.skipped_files] == ['c.png', 'e.png']
  assert 'Skipped 2 unreadable image files of 5' in caplog.text and 'c.png' in caplog.text
  for name in ('a.png', 'b.png', 'd.png'):
    (folder / name).unlink()
  with pytest.raises(ValueError, match='none of its 2 image files is readable'):
    data.make_source(_config(name='folder', path=str(folder), skip_bad_images=True), 0)


def test_an_unreadable_style_image_names_the_file(tmp_path):
  (tmp_path / 'painting.png').write_bytes(_png()[:60])
  config = _config(name='digits', domain_b='patches', path_b=str(tmp_path / 'painting.png'))
  with pytest.raises(sources.BadImageError, match='painting.png: not a readable image'):
    unpaired.make_domains(data.make_source(config, 0), config, 0, (8, 8, 3))


def _idx(magic, array):
  return (magic.to_bytes(4, 'big') + b''.join(d.to_bytes(4, 'big') for d in array.shape)
          + array.tobytes())


@pytest.mark.parametrize('content, message', [
    (_idx(2051, np.zeros((3, 2, 2), np.uint8))[:10], 'truncated IDX header'),
    (_idx(2051, np.zeros((3, 2, 2), np.uint8))[:-3], 'IDX header gives shape'),
    (gzip.compress(_idx(2051, np.zeros((3, 2, 2), np.uint8)))[:-6], 'gzip data is corrupt'),
    (b'\x00\x00\x09\x99' + bytes(20), 'IDX magic number is 2457, expected 2051'),
    (b'', 'IDX magic number is None'),
], ids=['short_header', 'short_body', 'bad_gzip', 'wrong_magic', 'empty'])
def test_a_bad_idx_file_is_an_error_naming_it(tmp_path, content, message):
  path = tmp_path / 'bad-images-idx3-ubyte'
  path.write_bytes(content)
  with pytest.raises(ValueError, match=f'bad-images-idx3-ubyte: {message}'):
    data.make_source(_config(name='idx', path=str(path)), 0)


@pytest.mark.parametrize('content', [b'garbage, not a zip archive', 'truncated'])
def test_an_unreadable_npz_is_an_error_naming_it(tmp_path, content):
  path = tmp_path / 'data.npz'
  if content == 'truncated':
    np.savez(path, x=np.zeros((4, 3, 3), np.uint8))
    content = path.read_bytes()[:100]
  path.write_bytes(content)
  with pytest.raises(ValueError, match='data.npz is not a readable .npz file'):
    data.make_source(_config(name='npz', path=str(path)), 0)
