"""The built-in models: imports every module of ``affectscope.models.specs`` (each registers its specs).

Torch-free, so ``affectscope models`` lists models without importing torch.
"""

from __future__ import annotations

import importlib
import pkgutil

from affectscope.models import specs

for _info in pkgutil.iter_modules(specs.__path__):
    importlib.import_module(f"{specs.__name__}.{_info.name}")
