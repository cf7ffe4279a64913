"""Which data chose each recipe's rules: the ``tuning`` role of a card's ``data_records`` (issue 19).

Training code knows what it fits on and what picks its checkpoints; it cannot know which data the
people who wrote the recipe looked at while choosing its rules. Each recipe declares that here, from
the project's history (docs/models.md, "Third pass"), so a card never calls a set held out that chose
something. A retrained recipe keeps its tuning: the rules it runs were still chosen on that data.

- default-004: RAVDESS actors 1–20 chose the speech windows, the speech-share vote weights and the
  averaged EWMA decision (the product path's UAR there was the goal being met).
- default-000: the same RAVDESS actors chose the audio levelling and, with EmoDB speakers 03 and 08,
  fusical's epochs and audio learning rate (60 epochs and a 10× rate were tried and judged there).
- default-001 / 002 / 003: RAVDESS actors 17–20 (their recipe's cross-corpus test) chose the audio
  levelling and speech-only functionals; RAVDESS 1–20 was looked at through the product-path table.
- ravdess-audio-004: the same rules, chosen on RAVDESS 1–20 with the shipped network; its own test
  actors 17–20 are among them.

The declared development protocol (docs/models.md) narrows future choices to RAVDESS actors 1–12 and
EmoDB's validation speaker; recipes whose rules are chosen that way declare ``DEVELOPMENT`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from affectscope.models.training import datasets as ds

#: the declared development protocol: RAVDESS actors that may choose rules and checkpoints
DEVELOPMENT_RAVDESS = frozenset(range(1, 13))
#: RAVDESS actors reported as a test, never chosen on
REPORT_RAVDESS = frozenset(range(13, 21))
EMODB_DEVELOPMENT_SPEAKER = "emodb:09"


def _ravdess(actors: range | frozenset[int]) -> Callable[[Path], list[ds.Sample]]:
    def read(data: Path) -> list[ds.Sample]:
        root = data / "ravdess_speech"
        return ds.ravdess(root, actors=set(actors)) if root.is_dir() else []

    return read


def _emodb_speakers(*spk: str) -> Callable[[Path], list[ds.Sample]]:
    def read(data: Path) -> list[ds.Sample]:
        root = data / "emodb"
        return [s for s in ds.emodb(root) if s.speaker in spk] if root.is_dir() else []

    return read


def _both(*readers: Callable[[Path], list[ds.Sample]]) -> Callable[[Path], list[ds.Sample]]:
    return lambda data: [s for r in readers for s in r(data)]


_R1_20 = range(1, 21)
_THIRD_PASS = (
    "chosen on RAVDESS actors 1-20 while making the product path meet its goal there (third pass, "
    "1 December 2026): speech-span training windows, speech-share vote weights, averaged EWMA"
)
#: recipe -> (reader of the tuning samples under the shared data folder, what they chose)
TUNING: dict[str, tuple[Callable[[Path], list[ds.Sample]], str]] = {
    "default-004": (_ravdess(_R1_20), _THIRD_PASS),
    "ravdess-audio-004": (_ravdess(_R1_20), _THIRD_PASS),
    "research-004": (_ravdess(_R1_20), _THIRD_PASS),
    "default-000": (
        _both(_ravdess(_R1_20), _emodb_speakers("emodb:03", "emodb:08")),
        "audio levelling chosen on RAVDESS 1-20; epochs (20 against 60) and the audio rate (4e-5 against "
        "4e-4) judged on EmoDB 03+08 and RAVDESS 1-20 negative recall",
    ),
    "default-001": (
        _ravdess(_R1_20),
        "audio levelling and speech-only IS10 functionals chosen on RAVDESS 17-20 (the recipe's test); "
        "RAVDESS 1-20 looked at through the product-path table",
    ),
    "default-002": (
        _ravdess(_R1_20),
        "audio levelling chosen on RAVDESS 17-20 (the recipe's test); RAVDESS 1-20 looked at through the "
        "product-path table",
    ),
    "default-003": (
        _ravdess(_R1_20),
        "shares seeds 000-002's audio levelling, chosen on RAVDESS (never trained before issue 19)",
    ),
}
DEVELOPMENT = (
    _both(_ravdess(DEVELOPMENT_RAVDESS), _emodb_speakers(EMODB_DEVELOPMENT_SPEAKER)),
    "the declared development protocol: RAVDESS actors 1-12 and EmoDB speaker 09",
)


def development_samples(data: Path) -> list[ds.Sample]:
    """The declared development speech under ``data``: RAVDESS actors 1-12, then EmoDB speaker 09."""
    return DEVELOPMENT[0](Path(data))


def tuning_for(recipe: str, data: Path) -> tuple[list[ds.Sample], str]:
    """The samples that chose ``recipe``'s rules, and what they chose (empty for recipes not listed)."""
    read, note = TUNING.get(recipe, (lambda _d: [], ""))
    return read(Path(data)), note
