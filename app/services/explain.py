"""The explanation service: a clip's signals (through ``predict.clip_signals``, the same cache or
perception that the predict path uses) joined to a model's ``models.explain.clip.ClipExplainer``.

``affectscope explain`` and the window's Explain tab both build their explainer here, so both see the
inputs the model saw when it predicted. The work itself (subset table, Shapley, saliency maps, the
clip-wide lanes) is in ``models/explain``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from affectscope.errors import UserFacingError
from affectscope.jobs import Job

if TYPE_CHECKING:  # torch is imported by the worker that builds an explainer, not by the window
    from affectscope.models.explain.clip import ClipExplainer, Explanation


def clip_explainer(
    path: str,
    model_name: str,
    weights: str | None = None,
    allow_untrained: bool = False,
    rate_hz: float = 10.0,
    more_faces: bool = False,
    job: Job | None = None,
) -> ClipExplainer:
    """The clip's explainer: the model (a weights error before any extraction), then its signals."""
    from affectscope.app.services.predict import clip_signals
    from affectscope.models.explain.clip import ClipExplainer
    from affectscope.models.inference import load_model

    spec, _ = load_model(model_name, weights, allow_untrained)
    if spec.label_set == "continuous":  # the explainers read class probabilities (softmax of outputs)
        raise UserFacingError(
            f"{model_name} gives continuous outputs ({', '.join(spec.labels)}), not class probabilities; "
            "explanation covers classifiers only"
        )
    signals = clip_signals(path, tuple(spec.modalities), rate_hz, more_faces, job=job)
    return ClipExplainer(model_name, signals, weights, allow_untrained)


def build_explainer(
    path: str,
    model_name: str,
    weights: str | None,
    job: Job | None = None,
    rate_hz: float = 10.0,
    more_faces: bool = False,
) -> tuple[ClipExplainer, Explanation]:
    """The window's worker job: the explainer (at the Perception tab's rate, as Run model used; an
    untrained model too, as the window runs one) with its subset table, and the whole-clip bars."""
    explainer = clip_explainer(path, model_name, weights, True, rate_hz, more_faces, job)
    explainer.table(job)
    return explainer, explainer.explain(None, maps=False)


def explain_at(
    explainer: ClipExplainer, t: float, target: str | None, method: str, request: int, job: Any = None
) -> Explanation:
    """Bars and maps at ``t``, tagged with the window's request number (the newest is drawn)."""
    result = explainer.explain(t, target, method, maps=True, job=job)
    result.request = request
    return result
