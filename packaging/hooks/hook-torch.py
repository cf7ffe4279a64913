"""PyInstaller hook for torch that replaces pyinstaller-hooks-contrib's (packaging/affectscope.spec).

The contrib hook imports every torch submodule in a child process to list them; importing
``torch.testing._internal.optests`` kills that child (SIGSEGV, torch 2.14.1 + PyInstaller 6.22), which
aborts the whole build. Torch's test helpers are no part of the application, so they are skipped here;
everything else is what the contrib hook collects on Linux (CPU wheels: no CUDA libraries to infer).
"""

from PyInstaller.utils.hooks import (
    PY_DYLIB_PATTERNS,
    collect_data_files,
    collect_dynamic_libs,
    collect_submodules,
)

module_collection_mode = "pyz+py"  # torch reads its own sources (TorchScript, inspect)
warn_on_missing_hiddenimports = False

_SKIP = ("torch.testing._internal", "torch.utils.tensorboard", "torch.utils.benchmark")

datas = collect_data_files(
    "torch", excludes=["**/*.h", "**/*.hpp", "**/*.cuh", "**/*.lib", "**/*.cpp", "**/*.pyi", "**/*.cmake"]
)
hiddenimports = collect_submodules("torch", filter=lambda name: not name.startswith(_SKIP))
binaries = collect_dynamic_libs("torch", search_patterns=[*PY_DYLIB_PATTERNS, "*.so.*"])
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]
