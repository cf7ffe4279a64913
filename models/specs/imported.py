"""Imported model files (``affectscope models import``) join the registry: the newest version of each name.

An imported export of a built-in system reads that system's spec (its modalities), so the built-in
spec modules are imported first, whatever order the catalog walks this package in.
"""

import importlib
import pkgutil

from affectscope.models import specs
from affectscope.models.exchange.store import imported_specs
from affectscope.models.registry import register

for _info in pkgutil.iter_modules(specs.__path__):
    if _info.name != __name__.rsplit(".", 1)[-1]:
        importlib.import_module(f"{specs.__name__}.{_info.name}")

for _spec in imported_specs():
    register(_spec)
