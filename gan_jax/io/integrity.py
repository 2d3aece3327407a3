"""Integrity records of checkpoint directories: each file's size and SHA-256.

Orbax's atomic rename guarantees that a checkpoint directory appears whole or not at
all, but nothing checks it afterwards: a file truncated by a full disk, deleted by a
clean-up script or overwritten by garbage would be read back as if it were the state.
`write_manifest` records every file of a finished checkpoint in `MANIFEST`, inside the
directory and before orbax renames it into place, so the record and the checkpoint
appear together; `check_manifest` compares a directory with its record and says what
differs, naming the file.
"""

import hashlib
import json
import os
import uuid

MANIFEST = 'integrity.json'
_FORMAT = 1
# Bytes read at a time while hashing: large enough to be fast, small enough for any host.
_CHUNK = 1 << 22


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    while chunk := f.read(_CHUNK):
      digest.update(chunk)
  return digest.hexdigest()


def _item_files(directory: str) -> list[str]:
  """Paths, relative to `directory`, of the files inside its item subfolders.

  Files at the top level are left out: orbax rewrites its own step metadata there after
  the items are final, and the items are what a restore reads.
  """
  files = []
  for root, _, names in os.walk(directory):
    if os.path.samefile(root, directory):
      continue
    files.extend(os.path.relpath(os.path.join(root, name), directory) for name in names)
  return sorted(files)


def write_manifest(directory: str) -> None:
  """Writes `directory/MANIFEST`: size and SHA-256 of every file in its item subfolders.

  Written under a temporary name and renamed, so the record is never half written.
  """
  files = {name: {'size': os.path.getsize(os.path.join(directory, name)),
                  'sha256': _sha256(os.path.join(directory, name))}
           for name in _item_files(directory)}
  temporary = os.path.join(directory, f'.{MANIFEST}.{uuid.uuid4().hex}.tmp')
  with open(temporary, 'w', encoding='utf-8') as f:
    json.dump({'format': _FORMAT, 'files': files}, f, indent=1, sort_keys=True)
  os.replace(temporary, os.path.join(directory, MANIFEST))


def has_manifest(directory: str) -> bool:
  """Whether `directory` holds an integrity record (checkpoints written before them do not)."""
  return os.path.exists(os.path.join(directory, MANIFEST))


def check_manifest(directory: str) -> str | None:
  """None when every file recorded in `directory/MANIFEST` is there, unchanged; else what
  is wrong, naming the file (a missing, unreadable or garbled record is wrong too).

  Files the record does not list are not checked (see `_item_files`).
  """
  path = os.path.join(directory, MANIFEST)
  try:
    with open(path, encoding='utf-8') as f:
      record = json.load(f)
    files = record['files']
    if record.get('format') != _FORMAT or not isinstance(files, dict):
      raise ValueError(f'unknown format {record.get("format")!r}')
  except FileNotFoundError:
    return f'{path} is missing'
  except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
    return f'{path} is unreadable ({error})'
  for name, expected in sorted(files.items()):
    file = os.path.join(directory, name)
    if not os.path.isfile(file):
      return f'{file} is missing'
    size = os.path.getsize(file)
    if size != expected['size']:
      return f'{file} holds {size} bytes, {expected["size"]} were written'
    if _sha256(file) != expected['sha256']:
      return f'{file} differs from what was written (SHA-256 mismatch)'
  return None
