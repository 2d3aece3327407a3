"""Executes the notebooks with few steps, so they never rot."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from xla_flags import FAST_COMPILE

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / 'notebooks'
# The translation notebook's 20 steps of a 32-channel U-Net run longer at XLA's level 0
# than they save in compilation (34 s against 28 s at the default level); the others
# are mostly compilation.
DEFAULT_LEVEL = {'translation'}


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(NOTEBOOKS.glob('*.ipynb')), ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
  monkeypatch.setenv('NOTEBOOK_STEPS', '20')
  # One real CPU device in the kernel, whatever the test process forced for itself.
  monkeypatch.setenv('XLA_FLAGS', '' if path.stem in DEFAULT_LEVEL else FAST_COMPILE)
  notebook = nbformat.read(path, as_version=4)
  NotebookClient(notebook, timeout=300, kernel_name='python3',
                 resources={'metadata': {'path': str(path.parent)}}).execute()
  outputs = [o for cell in notebook.cells if cell.cell_type == 'code' for o in cell.outputs]
  assert not [o for o in outputs if o.output_type == 'error']
  assert any('image/png' in o.get('data', {}) for o in outputs), 'no plot was shown'
