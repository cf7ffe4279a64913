"""Model cards as a person reads them: the card JSON beside a weights file, summarised as HTML.

The Models tab shows this read-only; the headline is UAR with its 95 % CI, then accuracy and
macro-F1, per-class recall, cross-corpus results, training data and licence, split, collapse-guard
warnings, known limits and the command that reproduces the weights. Works on any card: keys it
does not know are left out rather than guessed. Cards of the multi-branch systems (seeds 000–003)
also say which branches were trained on real data, which are pretrained and used as is, and which
stayed untrained (switched off): ``branch_summary`` and ``metric_summary`` give that in one line each.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def load_card(weights: str | Path | None) -> dict[str, Any] | None:
    """The card beside ``weights`` (None when there is none or it cannot be read)."""
    if weights is None:
        return None
    from affectscope.errors import UserFacingError
    from affectscope.models.weights import read_card

    try:
        return read_card(weights)
    except UserFacingError:
        return None


def _ci(v: Any) -> str:
    return f" [{v[0]:.2f}, {v[1]:.2f}]" if isinstance(v, list | tuple) and len(v) == 2 else ""


def metric_line(name: str, m: dict[str, Any]) -> str:
    """``name: UAR 0.61 [0.55, 0.67] · acc … · macro-F1 … · recall pos 0.70 …`` from a headline or report."""
    ci = m.get("ci", {}) if isinstance(m.get("ci"), dict) else {}
    uar_ci = m.get("uar_ci", ci.get("uar"))
    acc_ci = m.get("accuracy_ci", ci.get("accuracy"))
    f1_ci = m.get("macro_f1_ci", ci.get("macro_f1"))
    parts = [f"<b>UAR {m['uar']:.2f}</b>{_ci(uar_ci)}"] if m.get("uar") is not None else []
    if m.get("accuracy") is not None:
        parts.append(f"acc {m['accuracy']:.2f}{_ci(acc_ci)}")
    if m.get("macro_f1") is not None:
        parts.append(f"macro-F1 {m['macro_f1']:.2f}{_ci(f1_ci)}")
    recall = m.get("per_class_recall") or {k: v.get("recall") for k, v in m.get("per_class", {}).items()}
    if recall:
        parts.append("recall " + ", ".join(f"{k} {v:.2f}" for k, v in recall.items() if v is not None))
    n = f" (n = {m['n']})" if m.get("n") else ""
    return f"{html.escape(name)}{n}: " + " · ".join(parts)


def card_html(card: dict[str, Any] | None) -> str:
    if not card:
        return "<i>No model card: these weights say nothing about how they were trained or tested.</i>"
    out: list[str] = []
    collapse = card.get("collapse_guard")
    if isinstance(collapse, dict) and collapse:
        items = "".join(
            f"<li>{html.escape(k)}: {html.escape('; '.join(v))}</li>" for k, v in collapse.items()
        )
        out.append(f"<p style='color:#b00'><b>Collapse guard:</b></p><ul>{items}</ul>")
    branches = branch_summary(card)
    if branches:
        out.append(f"<p><b>Branches:</b> {html.escape(branches)}</p>")
    part = card.get("part_retrain")
    if isinstance(part, dict):
        init = card.get("init") or {}
        kept = f"the earlier {init.get('weights', 'weights')} (sha256 {str(init.get('sha256_16', '?'))[:8]})"
        out.append(
            f"<p><b>Retrained alone:</b> the {html.escape(str(part.get('modality')))} branch; everything "
            f"else kept from {html.escape(kept)} (speech-only decisions unchanged)</p>"
        )
    out += honest_html(card)
    tests = card.get("tests") if isinstance(card.get("tests"), dict) else {}
    metrics = {**card.get("metrics", {}), **tests}
    judged = (card.get("honest") or {}).get("recipe_figures", {})
    lines = [
        metric_line(k.replace("_", " "), v) + _status(judged.get(k))
        for k, v in metrics.items()
        if isinstance(v, dict) and v.get("uar") is not None
    ]
    if lines:
        out.append(
            "<p><b>The recipe's own figures</b> (95 % bootstrap CIs)</p><ul>"
            + "".join(f"<li>{x}</li>" for x in lines)
            + "</ul>"
        )
    for key, title in (
        ("training_data", "Training data"),
        ("licences", "Licence"),
        ("split", "Split"),
        ("normalisation", "Normalisation"),  # e.g. per-speaker statistics from the project's clips
    ):
        val = card.get(key)
        if isinstance(val, dict):
            val = "; ".join(f"{k}: {v}" for k, v in val.items())
        if val:
            out.append(f"<p><b>{title}:</b> {html.escape(str(val))}</p>")
    limits = card.get("known_limits")
    if limits:
        out.append(
            "<p><b>Known limits</b></p><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in limits) + "</ul>"
        )
    if card.get("command"):
        out.append(f"<p><b>Reproduce:</b> <code>{html.escape(card['command'])}</code></p>")
    meta = ", ".join(str(card[k]) for k in ("date", "code_version") if card.get(k))
    if meta:
        out.append(f"<p style='color:#666'>{html.escape(meta)}</p>")
    return "".join(out)


def _status(status: str | None) -> str:
    if not status:
        return ""
    colour = "#666" if status.startswith("test") else "#b00"
    return f" <span style='color:{colour}'>({html.escape(status)})</span>"


def honest_html(card: dict[str, Any]) -> list[str]:
    """Issue 19: the product path's whole-set figures, each called test or validation, and what
    trained, validated and tuned the weights (``data_records``), so a figure cannot pass for held out."""
    out = []
    honest = card.get("honest") or {}
    if honest.get("figures"):
        items = "".join(
            f"<li>{metric_line(f['what'], f)}{_status(f['status'])}</li>" for f in honest["figures"]
        )
        how = html.escape(honest["command"])
        out.append(f"<p><b>Honest figures</b> (product path, whole sets; {how})</p><ul>{items}</ul>")
    if honest.get("goals"):
        goals = "".join(_goal(g) for g in honest["goals"])
        out.append(f"<p><b>Goals</b> (issue 19)</p><ul>{goals}</ul>")
    rec = card.get("data_records")
    if isinstance(rec, dict) and "train" in rec:
        roles = ", ".join(
            f"{role} {rec[role]['n']} items ({len(rec[role]['speakers'])} speakers)"
            for role in ("train", "validation", "tuning")
        )
        how = " — reconstructed from the recipe afterwards" if rec.get("reconstructed") else ""
        out.append(f"<p><b>Trained, validated and tuned on:</b> {html.escape(roles + how)}</p>")
    init = card.get("init") if isinstance(card.get("init"), dict) else {}
    for code, what in (
        (card.get("code"), "Trained"),
        (init.get("code"), "The parts kept from --init were trained"),
    ):
        if isinstance(code, dict) and code.get("dirty"):
            out.append(
                f"<p style='color:#b00'><b>{what} from uncommitted code</b>"
                f"{': ' + html.escape(code['note']) if code.get('note') else ''}</p>"
            )
    return out


def _goal(g: dict[str, Any]) -> str:
    """One goal: met, not met (red, with the measured number), or not measurable here (and why)."""
    text = html.escape(str(g.get("goal")))
    if g.get("met") is None:
        return f"<li>{text}: <i>cannot be measured here ({html.escape(str(g.get('status')))})</i></li>"
    measured = f"UAR {g['uar']:.3f}, lowest recall {g['lowest_recall']:.2f} on {html.escape(str(g['set']))}"
    if g["met"]:
        return f"<li>{text}: met ({measured})</li>"
    return f"<li>{text}: <span style='color:#b00'><b>not met</b> ({measured})</span></li>"


def read_card(weights: str | Path | None) -> dict[str, Any] | None:
    """The card beside a weights file, or None (no file, no card, unreadable card)."""
    return load_card(weights)


def branch_summary(card: dict[str, Any] | None) -> str:
    """ "trained: audio, face · pretrained, used as is: laughter · untrained (off): scene" ("" if none)."""
    if not card or "trained_branches" not in card:
        return ""
    parts = [f"trained: {', '.join(card['trained_branches'])}"]
    if card.get("pretrained_branches"):
        parts.append(f"pretrained, used as is: {', '.join(card['pretrained_branches'])}")
    if card.get("untrained_branches"):
        parts.append(f"untrained (off): {', '.join(card['untrained_branches'])}")
    return " · ".join(parts)


def metric_summary(card: dict[str, Any] | None) -> str:
    """ "emodb_test UAR 0.62 [0.55, 0.69]; fer_test UAR 0.71 [...]" with COLLAPSED where the guard fired."""
    if not card or not isinstance(card.get("tests"), dict):
        return ""
    out = []
    for key, test in card["tests"].items():
        if not isinstance(test, dict) or "uar" not in test:
            continue
        lo, hi = (test.get("ci") or {}).get("uar", [None, None])
        ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
        flag = " COLLAPSED" if test.get("collapsed") else ""
        out.append(f"{key} UAR {test['uar']:.2f}{ci}{flag}")
    return "; ".join(out)
