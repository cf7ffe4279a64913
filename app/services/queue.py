"""The relabel queue of a project: which clips to look at again, in what order, and why.

Joins the project's current labels and label history (votes), a model version's stored predictions
(whole clip, per modality, over time) and the scores of ``analysis.queue_scores``. The model version is
the one asked for, else the active one, else the newest with predictions. Label issues use
*out-of-fold* probabilities: a logistic regression over the version's stored log-probabilities (and
per-modality means where stored), cross-validated against the current labels, so no clip's label
judges itself even when the version trained on it. Votes come from every source in ``VOTE_SOURCES``
(annotators' current labels, and every reader-study answer about the clip); an item says how many of its
votes are reader answers, and ``vote_sources=("annotators",)`` leaves those out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.analysis import queue_scores as qs
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError
from affectscope.jobs import Job

ORDERS = ("uncertainty", "label-issues", "disagreement", "modality-conflict", "combined")
# A vote source: (project, label set) -> {clip id: [label values, one per voter]}.
VoteSource = Callable[[Any, str], dict[int, list[str]]]


def annotator_votes(project: Any, label_set: str) -> dict[int, list[str]]:
    with unit_of_work(project.db) as s:
        votes = lineage_rows.current_votes(s, label_set)
    out: dict[int, list[str]] = {}
    for v in votes:
        out.setdefault(v.clip_id, []).append(v.value)
    return out


def reader_votes(project: Any, label_set: str) -> dict[int, list[str]]:
    """Reader-study answers about each clip (studies in ``label_set``), one vote per answer."""
    from affectscope.app.services.studies import clip_reader_votes

    found = clip_reader_votes(project.db, label_set=label_set)
    return {clip_id: [v.label for v in votes] for clip_id, votes in found.items()}


VOTE_SOURCES: dict[str, VoteSource] = {"annotators": annotator_votes, "readers": reader_votes}


class QueueError(UserFacingError):
    pass


@dataclass(frozen=True)
class QueueItem:
    clip_id: int
    path: str
    label: str | None
    score: float
    scores: dict[str, float | None]
    reasons: tuple[str, ...]
    moment: float | None  # seconds: the window where the model is least sure
    model_label: str | None = None
    model_confidence: float | None = None
    votes: tuple[str, ...] = ()
    flagged: bool = False
    reader_votes: int = 0  # how many of ``votes`` are reader-study answers

    def to_json(self) -> dict[str, Any]:
        return {
            "clip_id": self.clip_id,
            "path": self.path,
            "label": self.label,
            "score": _num(self.score),
            "scores": {k: _num(v) for k, v in self.scores.items()},
            "reasons": list(self.reasons),
            "moment": self.moment,
            "model_label": self.model_label,
            "model_confidence": self.model_confidence,
            "votes": list(self.votes),
            "n_reader_votes": self.reader_votes,
            "flagged": self.flagged,
        }


@dataclass
class Queue:
    by: str
    weights: dict[str, float]
    label_set: str
    model_version_id: int | None
    n_candidates: int
    items: list[QueueItem] = field(default_factory=list)
    vote_sources: tuple[str, ...] = tuple(VOTE_SOURCES)

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "weights": self.weights,
            "label_set": self.label_set,
            "model_version_id": self.model_version_id,
            "n_candidates": self.n_candidates,
            "vote_sources": list(self.vote_sources),
            "items": [i.to_json() for i in self.items],
        }


def _num(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 6)


def _pick_version(project: Any, label_set: str, wanted: int | None) -> int | None:
    with unit_of_work(project.db) as s:
        if wanted is not None:
            return wanted
        active = lineage_rows.active_version(s, label_set)
        have = lineage_rows.versions_with_predictions(s, label_set)
    if active is not None and active in have:
        return active
    return have[0] if have else None


def build_queue(
    project: Any,
    by: str = "combined",
    *,
    weights: Mapping[str, float] | None = None,
    label_set: str | None = None,
    label: str | None = None,
    annotator: str | None = None,
    model_version: int | None = None,
    limit: int | None = None,
    vote_sources: tuple[str, ...] | None = None,
    clip_ids: Collection[int] | None = None,
    job: Job | None = None,
) -> Queue:
    """Score every present clip of the project (filtered) and order them by ``by``, highest first.

    ``clip_ids`` keeps only those clips (an evaluation's confusion cell sent to the queue, say); like
    the other filters it applies after scoring, so out-of-fold label issues still see every label.
    """
    from affectscope.db.clips import ClipQuery

    if by not in ORDERS:
        raise QueueError(f"unknown queue order {by!r}; choose one of {', '.join(ORDERS)}")
    label_set = label_set or project.label_set
    labels = project.labels(label_set)
    # Scores are computed over every present clip (out-of-fold fits need all labels); filters apply after.
    clips = [c for c in project.clips(ClipQuery(label_set=label_set)) if c.status == "ok"]
    keep = None
    if label is not None or annotator is not None:
        wanted = ClipQuery(label_set=label_set, label=label, annotator=annotator)
        keep = {c.id for c in project.clips(wanted)}
    if clip_ids is not None:
        keep = set(clip_ids) if keep is None else keep & set(clip_ids)
    version = _pick_version(project, label_set, model_version)
    with unit_of_work(project.db) as s:
        clip_probs = lineage_rows.version_clip_probs(s, version) if version is not None else {}
        timelines = lineage_rows.version_timelines(s, version) if version is not None else {}
        flagged = lineage_rows.flagged_clips(s, label_set)
    if model_version is not None and not clip_probs:
        raise QueueError(f"model version {model_version} has no stored predictions in this project")
    votes: dict[int, list[str]] = {}
    from_readers: Counter[int] = Counter()
    sources = tuple(VOTE_SOURCES) if vote_sources is None else tuple(vote_sources)
    for name in sources:
        if name not in VOTE_SOURCES:
            raise QueueError(f"no vote source {name!r}; known: {', '.join(VOTE_SOURCES)}")
        for clip_id, vs in VOTE_SOURCES[name](project, label_set).items():
            votes.setdefault(clip_id, []).extend(vs)
            if name == "readers":
                from_readers[clip_id] += len(vs)

    n, k = len(clips), len(labels)
    probs = np.full((n, k), np.nan)
    for i, c in enumerate(clips):
        if c.id in clip_probs and len(clip_probs[c.id][0]) == k:
            probs[i] = clip_probs[c.id][0]
    has_p = ~np.isnan(probs).any(axis=1)
    scores: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name in qs.SCORES}
    margin = np.full(n, np.nan)
    if has_p.any():
        scores["uncertainty"][has_p] = qs.entropy(probs[has_p])
        margin[has_p] = qs.margin_uncertainty(probs[has_p])

    # Label issues: out-of-fold probabilities over labelled clips with predictions.
    index = {v: j for j, v in enumerate(labels)}
    lab_idx = np.array([index.get(c.label, -1) if c.label else -1 for c in clips])
    usable = has_p & (lab_idx >= 0)
    oof = np.full((n, k), np.nan)
    if usable.sum() >= 6 and len(np.unique(lab_idx[usable])) >= 2:
        feats = _features(clips, probs, timelines)
        y = lab_idx[usable]
        classes = np.unique(y)
        remap = {c: j for j, c in enumerate(classes)}
        p_sub = qs.out_of_fold_probs(feats[usable], [remap[v] for v in y], len(classes))
        full = np.zeros((usable.sum(), k))
        full[:, classes] = p_sub
        oof[usable] = full
        scores["label-issues"][usable] = qs.label_issue_scores(y, full)

    vote_lists = [votes.get(c.id, []) for c in clips]
    scores["disagreement"] = qs.disagreement(vote_lists, n_classes=k)
    alpha = qs.item_alpha(vote_lists)

    per_mod = _modality_means(clips, timelines, k)
    pairs: list[tuple[str, str]] = [("", "")] * n
    if per_mod:
        mods = {m: arr for m, arr in per_mod.items()}
        ok = np.all([~np.isnan(a).any(axis=1) for a in mods.values()], axis=0)
        if len(mods) >= 2 and ok.any():
            conflict, pr = qs.modality_conflict({m: a[ok] for m, a in mods.items()})
            scores["modality-conflict"][ok] = conflict
            for j, i in enumerate(np.flatnonzero(ok)):
                pairs[i] = pr[j]

    w = dict(qs.DEFAULT_WEIGHTS if weights is None else weights)
    total = qs.combined(scores, w)
    chosen = total if by == "combined" else scores[by]
    order = qs.order(chosen)
    order = [i for i in order if np.isfinite(chosen[i])] + [i for i in order if not np.isfinite(chosen[i])]
    if by != "combined":  # clips with nothing to say about this score are not in its queue
        order = [i for i in order if np.isfinite(chosen[i])]
    if keep is not None:
        order = [i for i in order if clips[i].id in keep]
    n_candidates = len(keep) if keep is not None else n
    items = []
    for i in order[: limit or None]:
        c = clips[i]
        items.append(
            QueueItem(
                clip_id=c.id,
                path=c.path,
                label=c.label,
                score=float(chosen[i]),
                scores={name: _num(scores[name][i]) for name in qs.SCORES} | {"combined": _num(total[i])},
                reasons=tuple(
                    _reasons(
                        c.label,
                        labels,
                        probs[i],
                        margin[i],
                        oof[i],
                        vote_lists[i],
                        from_readers[c.id],
                        alpha[i],
                        pairs[i],
                        per_mod,
                        i,
                    )
                ),
                moment=_moment(timelines.get(c.id, {}).get("fused")),
                model_label=labels[int(np.argmax(probs[i]))] if has_p[i] else None,
                model_confidence=float(np.max(probs[i])) if has_p[i] else None,
                votes=tuple(vote_lists[i]),
                flagged=c.id in flagged,
                reader_votes=from_readers[c.id],
            )
        )
    return Queue(by, w, label_set, version, n_candidates, items, sources)


def _features(clips: list, probs: np.ndarray, timelines: dict) -> np.ndarray:
    """Log-probabilities of the fused prediction plus per-modality clip means where every clip has them."""
    parts = [np.log(np.clip(np.nan_to_num(probs, nan=1.0 / probs.shape[1]), 1e-6, 1.0))]
    for arr in _modality_means(clips, timelines, probs.shape[1]).values():
        if not np.isnan(arr).any():
            parts.append(np.log(np.clip(arr, 1e-6, 1.0)))
    return np.hstack(parts)


def _modality_means(clips: list, timelines: dict, k: int) -> dict[str, np.ndarray]:
    names = sorted({m for c in clips for m in timelines.get(c.id, {}) if m not in ("fused", "accumulated")})
    out = {}
    for m in names:
        arr = np.full((len(clips), k), np.nan)
        for i, c in enumerate(clips):
            rows = timelines.get(c.id, {}).get(m)
            if rows and len(rows[0][1]) == k:
                arr[i] = np.mean([p for _, p in rows], axis=0)
        out[m] = arr
    return out


def _moment(rows: list[tuple[float, list[float]]] | None) -> float | None:
    if not rows:
        return None
    h = qs.entropy(np.array([p for _, p in rows]))
    return float(rows[int(np.argmax(h))][0])


def _reasons(
    label: str | None,
    labels: tuple[str, ...],
    probs: np.ndarray,
    margin: float,
    oof: np.ndarray,
    votes: list[str],
    n_readers: int,
    alpha: float,
    pair: tuple[str, str],
    per_mod: dict[str, np.ndarray],
    i: int,
) -> list[str]:
    out = []
    if not np.isnan(probs).any():
        top = np.argsort(probs)[::-1]
        out.append(
            f"model: {labels[top[0]]} {probs[top[0]]:.2f}, {labels[top[1]]} {probs[top[1]]:.2f} "
            f"(margin {1 - margin:.2f})"
        )
    if label and not np.isnan(oof).any():
        j = int(np.argmax(oof))
        if labels[j] != label:
            mine = oof[labels.index(label)] if label in labels else float("nan")
            out.append(f"label {label} but held-out model says {labels[j]} ({oof[j]:.2f} vs {mine:.2f})")
    if len(votes) >= 2:
        counts = ", ".join(f"{v} {n}" for v, n in Counter(votes).most_common())
        a = "" if np.isnan(alpha) else f", item alpha {alpha:.2f}"
        whose = f" ({n_readers} from reader studies)" if n_readers else ""
        out.append(f"{len(votes)} votes{whose}: {counts}{a}")
    if pair[0]:
        a, b = (labels[int(np.argmax(per_mod[m][i]))] for m in pair)
        if a != b:
            out.append(f"{pair[0]} says {a}, {pair[1]} says {b}")
    if not label:
        out.append("unlabelled")
    return out


def flag_clip(project: Any, clip_id: int, job: Job | None = None) -> int:
    """F in the Queue tab: flag the clip for a second look (as the session's annotator); returns its id."""
    with unit_of_work(project.db, write=True) as s:
        lineage_rows.flag_clip(s, clip_id, project.label_set, project.annotator, "from the relabel queue")
    return clip_id


def queue_paths(queue: Queue) -> list[Path]:
    return [Path(i.path) for i in queue.items]


def selection_clip_ids(project: Any, selection_id: int) -> list[int]:
    """The clips of a selection an evaluation sent to the relabel queue (it stays listed until taken)."""
    from affectscope.app.services.evaluation_runs import pending_clip_selections

    for sid, _source, ids in pending_clip_selections(project, "relabel"):
        if sid == selection_id:
            return ids
    raise QueueError(f"no pending relabel selection {selection_id} in this project")
