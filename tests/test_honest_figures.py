"""Issue 19, items 2-4: the shipped weights' honest figures (product path, whole sets, CIs, a status
that says test only for data that chose nothing), the docs generated from them, and pins on them.

The pins hold what is true of the shipped weights today. When the weights are retrained (issue 19,
item 5), ``python packaging/honest_cards.py`` rewrites the figures and these tests then check the new
ones: the bars below (≥ 0.45, no collapse, CI above chance) stay; a model that falls short is named
in SHORT with its measured figure and why, never by loosening the bar."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from affectscope.models import provenance as pv
from affectscope.models.registry import get
from affectscope.models.training import datasets as ds
from affectscope.models.weights import read_card

REPO = Path(__file__).resolve().parents[1]
SHIPPED = (
    "lightweight-streaming",
    "fusical",
    "temporal-fusion",
    "skeleton-fusion",
    "crossmodal-attention",
    "egemaps-linear",
)
SETS = ("ravdess_1_20", "ravdess_13_20", "emodb_03_08", "fer_test")
#: developed under the declared protocol (RAVDESS 1-12 and EmoDB 09 chose): RAVDESS 13-20 is a test
DEVELOPED = ("crossmodal-attention", "egemaps-linear")
#: (system, set) pairs below the bar today, with the reason; every other figure must meet it
SHORT: dict[tuple[str, str], str] = {
    ("fusical", "emodb_03_08"): "collapsed: 'negative' recalled 0.08 (angry and sad speech heard as positive "
    "or neutral; its audio branch hears arousal), UAR 0.553 [0.46, 0.63]; a validation figure besides "
    "(EmoDB 03+08 judged its epochs); declared in docs/models.md, to be fixed by the retraining of item 5",
}


def _honest_cards():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("honest_cards", REPO / "packaging" / "honest_cards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _figures(name: str) -> dict[str, dict]:
    card = read_card(get(name).weights_path())
    return {f["set"]: f for f in card["honest"]["figures"]}


def test_docs_tables_are_generated_from_the_cards() -> None:
    """docs/models.md's honest and recipe tables are exactly what the cards give (one command)."""
    doc = (REPO / "docs" / "models.md").read_text()
    assert _honest_cards().render_docs(doc) == doc, "run: python packaging/honest_cards.py --docs-only"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_card_reports_whole_sets_with_cis_and_an_honest_status(name: str) -> None:
    figures = _figures(name)
    faces = any(m in get(name).modalities for m in ("face", "visual"))
    assert set(figures) == {k for k in SETS if faces or k != "fer_test"}
    assert figures["ravdess_1_20"]["n"] == 1040 and figures["ravdess_13_20"]["n"] == 416  # whole sets
    for f in figures.values():
        lo, hi = f["ci"]["uar"]
        assert lo <= f["uar"] <= hi and all(k in f["ci"] for k in ("accuracy", "macro_f1"))
        assert (f["status"] == "test") == (not pv.is_contaminated(f["contamination"])), f
    # Recipes whose rules were chosen on RAVDESS 1-20 (every shipped one today): no RAVDESS figure of
    # theirs may be called a test; one developed on actors 1-12 only may call 13-20 a test.
    tuned = set(pv.records_of(read_card(get(name).weights_path()))["tuning"]["speakers"])
    if {f"ravdess:{a}" for a in range(13, 21)} <= tuned:
        for key in ("ravdess_1_20", "ravdess_13_20"):
            assert figures[key]["status"].startswith("validation") and figures[key]["contamination"]["tuning"]
    recipe = read_card(get(name).weights_path())["honest"]["recipe_figures"]
    if name == "lightweight-streaming":
        assert recipe["fusion_synthetic_pairs"].startswith("validation")  # its own early-stopping pairs
    elif name in DEVELOPED:  # chose on actors 1-12: 13-20 is held out, 1-20 holds the chosen actors
        assert figures["ravdess_13_20"]["status"] == "test"
        assert figures["ravdess_1_20"]["status"].startswith("validation")
    else:
        assert recipe["ravdess_cross_corpus"].startswith("validation")


@pytest.mark.parametrize("name", SHIPPED)
def test_honest_figures_meet_the_bar_or_are_declared_short(name: str) -> None:
    """UAR ≥ 0.45, no class recalled < 0.2 (no collapse), 95 % CI above chance (1/3): issue 8's bar,
    which commit 0508b77 dropped from the short training test, on every honest figure."""
    for key, f in _figures(name).items():
        meets = f["uar"] >= 0.45 and not f["collapsed"] and f["ci"]["uar"][0] > 1 / 3
        assert meets == ((name, key) not in SHORT), (name, key, f["uar"], f["ci"]["uar"], f["warnings"])


def _set(key: str, shared_data: Path) -> list[ds.Sample]:
    if key == "ravdess_13_20":
        return ds.ravdess(shared_data / "ravdess_speech", actors=set(range(13, 21)))
    return [s for s in ds.emodb(shared_data / "emodb") if s.speaker in ("emodb:03", "emodb:08")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "key"),
    [(n, "emodb_03_08") for n in SHIPPED] + [("lightweight-streaming", "ravdess_13_20")],
)
def test_the_product_path_reproduces_the_cards_figures(
    name: str, key: str, shared_data: Path, tmp_path: Path
) -> None:
    """``evaluate --manifest`` as shipped (not the recipe's path) gives the card's honest figure: on the
    held-out EmoDB speakers for every system, and on RAVDESS 13-20 for the default model (the other
    systems' RAVDESS figures cost minutes of openSMILE; their pins are the card checks above)."""
    from affectscope.models.evaluation import evaluate_manifest

    labels = ("positive", "neutral", "negative")
    samples = _set(key, shared_data)
    manifest = tmp_path / "m.csv"
    manifest.write_text("".join(f"{s.path},{labels[s.label]}\n" for s in samples))
    got = evaluate_manifest(name, str(manifest))
    want = _figures(name)[key]
    assert got["n"] == want["n"] == len(samples)
    assert abs(got["uar"] - want["uar"]) < 0.005, (got["uar"], want["uar"])
    assert got["contamination"] == want["contamination"]


def test_the_models_tab_card_calls_each_figure_test_or_validation() -> None:
    """The read-only card in the Models tab leads with the honest figures and their status, says what
    trained the weights (reconstructed for the shipped ones) and that they came from uncommitted code."""
    from affectscope.app.services.model_cards import card_html

    text = card_html(read_card(get("lightweight-streaming").weights_path()))
    assert text.index("Honest figures") < text.index("The recipe's own figures")
    assert "(validation: the set overlaps the weights&#x27; tuning data)" in text and "(test)" in text
    assert "validation: the fusion&#x27;s own early-stopping pairs" in text
    assert "reconstructed from the recipe afterwards" in text  # it warm-started from those weights
    # Seed 004's face and fusion retrain (issue 19, item 5) ran from committed code; fusical's face head
    # was retrained alone from committed code too, but the rest of it was kept from weights trained from
    # uncommitted code, and its tab says so.
    assert "Trained from uncommitted code" not in text
    fusical = card_html(read_card(get("fusical").weights_path()))
    assert "Trained from uncommitted code" not in fusical
    assert "The parts kept from --init were trained from uncommitted code" in fusical
    assert "Retrained alone:</b> the face branch; everything else kept from" in fusical


def test_each_card_says_which_goals_its_figures_reach() -> None:
    """ "Where a goal is not reached, the card and docs say so with the measured number": every shipped
    card's ``honest.goals`` is what ``models.goals`` makes of its own figures (the docs table too, see
    above), and the Models tab shows a goal not met in red with its number."""
    from affectscope.app.services.model_cards import card_html
    from affectscope.models.goals import GOALS, assess

    for name in SHIPPED:
        card = read_card(get(name).weights_path())
        assert card["honest"]["goals"] == assess(name, card["honest"]["figures"]), name
        assert len(card["honest"]["goals"]) == len(GOALS.get(name, ()))
    goals = {g["goal"]: g for g in read_card(get("lightweight-streaming").weights_path())["honest"]["goals"]}
    speech = goals["speech: UAR >= 0.60 on unseen English speakers, every class recall >= 0.25"]
    assert speech["met"] is (speech["uar"] >= 0.60 and speech["lowest_recall"] >= 0.25)
    assert speech["uar"] == _figures("lightweight-streaming")["ravdess_13_20"]["uar"]
    assert [g["met"] for g in goals.values() if g["set"] is None] == [None, None]  # no data here
    text = card_html(read_card(get("lightweight-streaming").weights_path()))
    if not speech["met"]:
        assert f"<b>not met</b> (UAR {speech['uar']:.3f}" in text
    assert "cannot be measured here (one labelled real audio-visual clip here)" in text


def test_a_goal_is_met_only_when_the_uar_and_every_recall_clear_it() -> None:
    from affectscope.models.goals import assess

    def figure(uar: float, recalls: tuple[float, float, float]) -> dict:
        per_class = dict(zip(("positive", "neutral", "negative"), recalls, strict=True))
        return {"set": "ravdess_13_20", "uar": uar, "n": 416, "per_class_recall": per_class, "status": "test"}

    assert assess("fusical", [figure(0.50, (0.5, 0.5, 0.16))])[0]["met"] is True
    assert assess("fusical", [figure(0.50, (0.5, 0.5, 0.14))])[0]["met"] is False  # a class below 0.15
    assert assess("fusical", [figure(0.44, (0.5, 0.5, 0.5))])[0]["met"] is False
    missing = assess("fusical", [figure(0.50, (0.5, 0.5, 0.5))])[1]  # no EmoDB figure: not measured
    assert missing["met"] is None and missing["uar"] is None
    assert assess("egemaps-linear", [figure(0.9, (0.9, 0.9, 0.9))]) == []  # the reference has no goal
