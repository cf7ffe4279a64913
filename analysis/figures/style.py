"""Paper defaults and a deterministic writer: the same data gives the same bytes of PNG, SVG and PDF.

Sizes follow journal columns (89 mm single, 120 mm one-and-a-half, 183 mm double: Nature's and
most IEEE/ACM templates' widths to within a millimetre). Colours are Okabe & Ito's colour-blind-safe
set; sequential maps are ``cividis`` (designed to read the same with colour-vision deficiency).
Fonts: DejaVu Sans ships with matplotlib, so every machine draws the same glyphs; PDF embeds them
as TrueType (Type 42, which journals' checkers accept, unlike Type 3); SVG keeps text as ``<text>``
elements so labels stay editable and searchable. Metadata carries no dates and SVG ids are salted
with a constant, so regeneration is byte-stable (and PNGs pixel-identical).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MM_PER_INCH = 25.4
WIDTHS_MM = {"single": 89.0, "onehalf": 120.0, "double": 183.0}
DEFAULT_DPI = 300
FORMATS = ("png", "svg", "pdf")

#: Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies, and in grey.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
SEQUENTIAL_CMAP = "cividis"

PAPER_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 7.0,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7.0,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "affectscope",
    "figure.dpi": 100,
    "savefig.bbox": "standard",  # "tight" would make the size depend on the text drawn
    "image.cmap": SEQUENTIAL_CMAP,
}

# No dates, no version strings: nothing that changes when the data did not.
_METADATA = {
    "png": {"Software": "Affectscope"},
    "svg": {"Date": None, "Creator": "Affectscope"},
    "pdf": {"Creator": "Affectscope", "Producer": "Affectscope", "CreationDate": None, "ModDate": None},
}


def palette(n: int) -> list[str]:
    """``n`` colour-blind-safe colours (cycled past eight)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


def figure_size(width_mm: float, aspect: float, height_mm: float | None = None) -> tuple[float, float]:
    """(width, height) in inches for a width in millimetres and a height/width ratio."""
    if not 20.0 <= width_mm <= 500.0:
        raise ValueError(f"width {width_mm} mm is outside 20-500 mm")
    height = height_mm if height_mm is not None else width_mm * aspect
    return width_mm / MM_PER_INCH, height / MM_PER_INCH


def output_format(path: str | Path) -> str:
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{Path(path).name}: figures are written as .png, .svg or .pdf")
    return fmt


def save(fig: Any, path: str | Path, dpi: int = DEFAULT_DPI) -> Path:
    """Write ``fig`` deterministically in the format its suffix names."""
    path = Path(path)
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt, dpi=dpi, metadata=_METADATA[fmt])
    return path
