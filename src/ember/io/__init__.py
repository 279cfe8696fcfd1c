"""Saving and loading (``ember.io``).

- ``checkpoint.py``: ``save`` / ``load`` (exported as ``ember.save`` / ``ember.load``) —
  tensors, state dicts and nested training state in one safetensors file, no pickle
- ``safetensors.py``: the safetensors format itself (``save_safetensors``,
  ``load_safetensors``), atomic writes, and ``CheckpointError`` for corrupt files

See docs/checkpoints.md.
"""

from .checkpoint import load, save
from .safetensors import CheckpointError, load_safetensors, save_safetensors

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "CheckpointError"]
