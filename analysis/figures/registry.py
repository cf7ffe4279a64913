"""The figure kinds: a name, what it needs from a project, its default shape and its drawing function.

A kind draws on a ``matplotlib.figure.Figure`` from a plain ``data`` dict (loaded by the application)
and ``options`` (what the spec says beyond the data: normalisation, bins, ...). New kinds plug in with
``register_kind`` (the reader-study engineer's "study" data, for instance, is drawn by the built-in
"study" kind, or by a kind of their own under another name). ``render`` is the one writer everybody
uses, so every kind gets the paper defaults and the deterministic output of ``style``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectscope.analysis.figures import style

DrawFn = Callable[[Any, dict[str, Any], dict[str, Any]], None]


@dataclass(frozen=True)
class FigureKind:
    name: str
    title: str
    draw: DrawFn  # draw(fig, data, options)
    needs: tuple[str, ...] = ("run",)  # which of run / clip / study / runs the data loader needs
    aspect: float = 0.75  # default height / width
    default_width: str = "single"


_KINDS: dict[str, FigureKind] = {}
_BUILTINS_LOADED = False


def register_kind(kind: FigureKind, replace: bool = False) -> FigureKind:
    if kind.name in _KINDS and not replace:
        raise ValueError(f"figure kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        from affectscope.analysis.figures import clip_panel, continuous_traces, metric_figures, study  # noqa: F401


def kinds() -> dict[str, FigureKind]:
    _load_builtins()
    return dict(_KINDS)


def get_kind(name: str) -> FigureKind:
    _load_builtins()
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"unknown figure kind {name!r}; known: {', '.join(sorted(_KINDS))}") from None


def make_figure(
    name: str,
    data: dict[str, Any],
    options: dict[str, Any] | None = None,
    width_mm: float | None = None,
    height_mm: float | None = None,
) -> Any:
    """A drawn ``Figure`` (no pyplot, no GUI backend: safe in worker threads and on headless machines)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    kind = get_kind(name)
    width = width_mm or style.WIDTHS_MM[kind.default_width]
    with mpl.rc_context(style.PAPER_RC):
        fig = Figure(figsize=style.figure_size(width, kind.aspect, height_mm), layout="constrained")
        kind.draw(fig, data, dict(options or {}))
    return fig


def render(
    name: str,
    data: dict[str, Any],
    out: str | Path,
    options: dict[str, Any] | None = None,
    width_mm: float | None = None,
    height_mm: float | None = None,
    dpi: int = style.DEFAULT_DPI,
) -> Path:
    """Draw kind ``name`` and write it to ``out`` (.png, .svg or .pdf) with the paper defaults."""
    import matplotlib as mpl

    style.output_format(out)
    fig = make_figure(name, data, options, width_mm, height_mm)
    with mpl.rc_context(style.PAPER_RC):
        return style.save(fig, out, dpi)
