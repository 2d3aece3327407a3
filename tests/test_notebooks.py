"""Executes the notebooks with few steps, so they never rot."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from xla_flags import FAST_COMPILE

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / 'notebooks'
# Five steps: enough for every notebook's loop to print, evaluate and plot; with more,
# the translation notebook's 32-channel U-Net costs more in running than in compiling.
NOTEBOOK_STEPS = '5'


@pytest.mark.slow
@pytest.mark.parametrize('path', sorted(NOTEBOOKS.glob('*.ipynb')), ids=lambda p: p.stem)
def test_notebook_executes(path, monkeypatch):
  monkeypatch.setenv('NOTEBOOK_STEPS', NOTEBOOK_STEPS)
  # One real CPU device in the kernel, whatever the test process forced for itself.
  monkeypatch.setenv('XLA_FLAGS', FAST_COMPILE)
  notebook = nbformat.read(path, as_version=4)
  NotebookClient(notebook, timeout=300, kernel_name='python3',
                 resources={'metadata': {'path': str(path.parent)}}).execute()
  outputs = [o for cell in notebook.cells if cell.cell_type == 'code' for o in cell.outputs]
  assert not [o for o in outputs if o.output_type == 'error']
  assert any('image/png' in o.get('data', {}) for o in outputs), 'no plot was shown'
