"""The only package that imports PySide6 or pyqtgraph.

Triton is kept out of the window's process. torchvision's import pulls in ``torch._dynamo``, which
probes ``import triton``; loading ``libtriton`` (it bundles its own LLVM) after Qt has loaded its
OpenGL stack segfaults the process (seen when "Run model" built crossmodal-attention). The window
never JIT-compiles kernels, so torch is told there is no triton package: a ``None`` entry in
``sys.modules`` makes that import fail cleanly with ImportError, which torch handles. The Models tab
also makes torchvision's first import on the GUI thread (a first import inside a worker thread left
a joinable C++ thread behind that aborted the process at exit).
"""

import sys

sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
