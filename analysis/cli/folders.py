"""The output folder a command writes to, checked before it runs anything."""
from __future__ import annotations

from pathlib import Path

from ..artifacts.cache import writable_folder


def usable_folder(path: Path) -> Path:
    """``--out``, checked before any run."""
    return writable_folder(path, f"--out {path}", "an output folder", "give a folder you can write to")
