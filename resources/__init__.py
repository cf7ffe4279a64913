"""Shipped material: icons, demo sources, trained weights (safetensors) and their licences."""

from importlib.resources import files
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource file (works for editable and wheel installs)."""
    return Path(str(files(__name__).joinpath(*parts)))
