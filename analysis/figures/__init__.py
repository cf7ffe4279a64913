"""Publication figures drawn with matplotlib from plain data (no database, no Qt).

``registry`` holds the figure kinds (confusion, per-class metrics, reliability, modality bars, clip
panel, reader-study results, run comparison); ``style`` the paper defaults and the deterministic
writer. Loading a kind's data from a project is the application's job (app/services/figures.py).
"""

from affectscope.analysis.figures.registry import FigureKind, get_kind, kinds, register_kind, render

__all__ = ["FigureKind", "get_kind", "kinds", "register_kind", "render"]
