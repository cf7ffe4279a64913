"""The Explain tab: modality bars (Shapley / leave-one-out / gate), live ablation, saliency overlay.

After a model run (``ModelsPanel.predicted``) a worker builds the clip's ``ClipExplainer`` from the
cached signals and its subset table; from then on ticking a modality box re-fuses by table lookup
(no model, no extraction) and the playhead asks a worker for the maps and bars at its time. Only the
newest request is drawn: a result for an older playhead position is dropped, never painted.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.analysis_panel import perception_settings
from affectscope.app.qt.explain_lanes import CONTRIBUTION, ExplainLanes
from affectscope.app.qt.models_panel import ProbabilityBars
from affectscope.app.services.explain import build_explainer, explain_at

log = logging.getLogger(__name__)
# ``affectscope`` with no command sets this: opening a demo clip runs the default model (and so its
# explanation) in the background, so a new user sees predictions and bars without knowing a shortcut.
AUTORUN_DEMO = False
KINDS = ("shapley", "leave_one_out", "gate")
KIND_COLOURS = {"shapley": QColor("#42a5f5"), "leave_one_out": QColor("#ffa726"), "gate": QColor("#9e9e9e")}


class ModalityBars(QWidget):
    """Per modality, three signed bars side by side: Shapley, leave-one-out and the gate."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, dict[str, float | None]] = {}
        self.setMinimumHeight(60)

    def set_rows(self, rows: dict[str, dict[str, float | None]]) -> None:
        self.rows = {m: dict(v) for m, v in rows.items()}
        self.setMinimumHeight(18 + 44 * max(len(self.rows), 1))
        self.update()

    def values(self) -> dict[str, dict[str, float | None]]:
        return self.rows

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(32, 32, 36))
        if not self.rows:
            p.setPen(QColor(170, 170, 170))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no explanation yet")
            return
        scale = (
            max((abs(v) for r in self.rows.values() for v in r.values() if v is not None), default=1.0) or 1.0
        )
        label_w, w = 70, self.width() - 70 - 60
        mid = label_w + w / 2
        x = 4
        for kind in KINDS:  # legend
            p.fillRect(QRectF(x, 3, 10, 10), KIND_COLOURS[kind])
            p.setPen(QColor(210, 210, 210))
            p.drawText(int(x + 13), 12, kind.replace("_", "-"))
            x += 100
        y = 18
        for m, row in self.rows.items():
            p.setPen(QColor(230, 230, 230))
            p.drawText(4, int(y + 24), m)
            for i, kind in enumerate(KINDS):
                v = row.get(kind)
                top = y + 2 + i * 13
                if v is None:
                    p.setPen(QColor(120, 120, 120))
                    p.drawText(int(mid + 4), int(top + 10), "–")
                    continue
                length = v / scale * (w / 2)
                p.fillRect(QRectF(min(mid, mid + length), top, abs(length), 11), KIND_COLOURS[kind])
                p.setPen(QColor(220, 220, 220))
                p.drawText(int(label_w + w + 4), int(top + 10), f"{v:+.3f}")
            y += 44
        p.setPen(QPen(QColor(200, 200, 200), 1))
        p.drawLine(int(mid), 16, int(mid), int(y))


class SaliencyOverlay:
    """Frame-view overlay: the newest explanation's picture maps at their crop boxes, and pose
    joints coloured by attribution."""

    name = "saliency"

    def __init__(self) -> None:
        self.visible = True
        self.opacity = 0.5
        self.hold = 0.6  # seconds a map stays on screen around its window's centre
        self.images: list[tuple[QRectF, QImage]] = []
        self.time: float | None = None
        self.joints: list[tuple[float, float, QColor, float]] = []

    def set_explanation(self, result: Any, signals: Any = None) -> None:
        from affectscope.models.explain.render import colourise

        self.images, self.joints, self.time = [], [], result.time
        for m in result.maps.values():
            if m.kind == "image" and m.box is not None:
                rgba = (colourise(m.values) * 255).astype(np.uint8)
                h, w = rgba.shape[:2]
                img = QImage(rgba.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
                x0, y0, x1, y1 = m.box
                self.images.append((QRectF(x0, y0, x1 - x0, y1 - y0), img))
            if m.kind == "keypoints" and signals is not None and result.time is not None:
                pose = signals.track("pose").at(result.time)
                if pose is not None:
                    top = float(np.max(m.values)) or 1.0
                    for (x, y, *_), v in zip(np.asarray(pose), m.values, strict=False):
                        if np.isfinite(x) and np.isfinite(y):
                            c = QColor.fromHsvF(0.66 * (1 - v / top), 1.0, 1.0)
                            self.joints.append((float(x), float(y), c, float(v)))

    def clear(self) -> None:
        self.images, self.joints, self.time = [], [], None

    def paint(self, painter: QPainter, t: float, frame_index: int) -> None:
        if self.time is None or abs(t - self.time) > self.hold:
            return
        painter.setOpacity(self.opacity)
        for rect, img in self.images:
            painter.drawImage(rect, img)
        painter.setOpacity(1.0)
        for x, y, colour, _v in self.joints:
            painter.setPen(QPen(colour, 2))
            painter.setBrush(colour)
            painter.drawEllipse(QRectF(x - 5, y - 5, 10, 10))


class ExplainPanel(QWidget):
    """The inspector's Explain tab (see module doc)."""

    explained = Signal(object)  # the Explanation drawn
    ready = Signal()  # explainer and subset table built

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.workers = window.workers
        self.explainer: Any = None
        self.path: str | None = None
        self.request = 0
        self.dropped = 0
        self.current: Any = None
        self.overlay = SaliencyOverlay()
        # Sound saliency, modality contribution and attention lanes on the window's timeline.
        timeline = getattr(window, "timeline", None)
        self.lanes = ExplainLanes(timeline, self.workers, self) if timeline is not None else None

        self.method = QComboBox(self)
        for key, title in (
            ("gradcam", "Grad-CAM"),
            ("ig", "Integrated Gradients"),
            ("smoothgrad", "SmoothGrad"),
            ("occlusion", "Occlusion"),
        ):
            self.method.addItem(title, key)
        self.target = QComboBox(self)
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.scale = QLabel("colour map: jet, low → high (signed maps: blue − / red +)", self)
        self.scale.setWordWrap(True)
        self.status = QLabel("Run a model (Models tab) to explain it.", self)
        self.status.setWordWrap(True)
        self.checks_box = QGroupBox("Modalities used (untick to ablate)", self)
        self.checks_row = QHBoxLayout(self.checks_box)
        self.checks: dict[str, QCheckBox] = {}
        self.ablated_label = QLabel("Fused, whole clip: –", self)
        self.ablated_bars = ProbabilityBars(self)
        self.at_label = QLabel("At playhead: –", self)
        self.at_bars = ModalityBars(self)
        self.clip_bars = ModalityBars(self)
        self.details = QLabel("", self)
        self.details.setWordWrap(True)
        self.sound_label = QLabel("", self)
        # Their sentences ("Fused, whole clip: negative (the clip decision, as in the Models tab)") made the
        # page 428 px wide unwrapped: the tab scrolled sideways and cut the bars and the third checkbox.
        for label in (self.ablated_label, self.at_label, self.sound_label):
            label.setWordWrap(True)
        self.sound = QLabel(self)  # the spectrogram saliency of the playhead's window

        form = QFormLayout()
        form.addRow("Method", self.method)
        form.addRow("Class", self.target)
        form.addRow("Opacity", self.opacity)
        form.addRow(self.scale)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.checks_box)
        layout.addWidget(self.ablated_label)
        layout.addWidget(self.ablated_bars)
        moved = QLabel("Whole clip: how much each modality moved the decision", self)
        moved.setWordWrap(True)  # a one-line label set the inspector's minimum width (and overlapped)
        layout.addWidget(moved)
        layout.addWidget(self.clip_bars)
        layout.addWidget(self.at_label)
        layout.addWidget(self.at_bars)
        layout.addWidget(self.details)
        layout.addWidget(self.sound_label)
        layout.addWidget(self.sound)
        layout.addStretch(1)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(120)
        self.debounce.timeout.connect(self.request_at_playhead)
        self.method.currentIndexChanged.connect(self.request_at_playhead)
        self.method.currentIndexChanged.connect(self._on_method)
        self.target.currentIndexChanged.connect(self._on_target)
        self.opacity.valueChanged.connect(self._on_opacity)
        window.clock.position_changed.connect(self._on_position)

    # ------------------------------------------------------------------ explainer
    def explain_clip(self, path: str, model_name: str, weights: str | None = None) -> None:
        """Build the clip's explainer in a worker (after a model run, or on demand)."""
        self.path, self.explainer = path, None
        self.overlay.clear()
        self.status.setText(f"Explaining {model_name} on {Path(path).name}: every modality subset…")
        self.workers.start(
            build_explainer,
            (path, model_name, weights),
            perception_settings(self.window_),
            title=f"Explaining {model_name}",
            on_finished=lambda result, path=path: self._on_built(path, result),
            on_failed=self._on_failed,
        )

    def set_explainer(self, explainer: Any, clip: Any) -> None:
        """Show a built explainer (the worker's result; tests give one directly)."""
        self.explainer = explainer
        self._offer_methods(getattr(explainer, "has_gradients", True))
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItem("predicted", None)
        for label in explainer.labels:
            self.target.addItem(label, label)
        self.target.blockSignals(False)
        for box in self.checks.values():
            box.deleteLater()
        self.checks = {}
        for m in explainer.modalities:
            box = QCheckBox(m, self.checks_box)
            box.setChecked(True)
            box.toggled.connect(self._on_ablation)
            self.checks_row.addWidget(box)
            self.checks[m] = box
        self.ablated_bars.set_labels(tuple(explainer.labels))
        self.clip_bars.set_rows(clip.modalities)
        self.status.setText(
            f"{explainer.spec.name}: p({clip.target}) all {clip.fused_all:.2f}, none {clip.fused_none:.2f}"
        )
        self._on_ablation()
        if self.lanes is not None:
            self.lanes.show(explainer, self.target.currentData(), self.method.currentData())
            models = getattr(self.window_, "models", None)
            if models is not None and self.lanes.contribution is not None:
                models.lanes.reveal_with([CONTRIBUTION])  # the model's lanes and what moved them
        self.ready.emit()
        self.request_at_playhead()

    def _offer_methods(self, gradients: bool) -> None:
        """An imported ONNX file gives no gradients: only Occlusion is offered (the rest greyed out)."""
        items = self.method.model()
        for i in range(self.method.count()):
            items.item(i).setEnabled(gradients or self.method.itemData(i) == "occlusion")
        self.method.setToolTip("" if gradients else "an ONNX file gives no gradients: occlusion only")
        if not gradients and self.method.currentData() != "occlusion":
            self.method.blockSignals(True)  # set_explainer asks for the playhead's maps itself
            self.method.setCurrentIndex(self.method.findData("occlusion"))
            self.method.blockSignals(False)

    def _on_built(self, path: str, result: tuple[Any, Any]) -> None:
        if path != self.path:
            return  # built for a clip no longer shown
        explainer, clip = result
        self.set_explainer(explainer, clip)

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(f"Cannot explain: {exc}")

    @Slot(str)
    def on_clip_changed(self, path: str) -> None:
        """Another clip (or none): the old clip's explanation, bars, overlay and lanes go, and any
        answer still in flight for it is dropped (its request number is no longer the newest)."""
        if self.explainer is None and self.path is None:
            return
        if self.path == path and self.explainer is not None:
            return
        self.explainer, self.path, self.current = None, None, None
        self.request += 1
        self.overlay.clear()
        self.clip_bars.set_rows({})
        self.at_bars.set_rows({})
        self.ablated_probs = None
        self.ablated_label.setText("Fused, whole clip: –")
        self.ablated_bars.set_labels(())
        for box in self.checks.values():
            box.deleteLater()
        self.checks = {}
        self.at_label.setText("At playhead: –")
        self.details.setText("")
        self.sound.clear()
        self.sound_label.setText("")
        self.status.setText("Run a model (Models tab) to explain it.")
        if self.lanes is not None:
            self.lanes.clear("not explained yet: run a model on this clip")
        self._repaint_frame()

    @Slot(str)
    def autorun_demo(self, path: str) -> None:
        """On a demo clip (a ``clips/`` file beside the demo manifest), run the default model."""
        from affectscope.app.services.demo import MANIFEST

        models = getattr(self.window_, "models", None)
        if not AUTORUN_DEMO or models is None or not (Path(path).parent.parent / MANIFEST).is_file():
            return
        if models.handle is None and models.path == path:
            models.run()

    # ------------------------------------------------------------------ live ablation
    def present(self) -> list[str]:
        return [m for m, box in self.checks.items() if box.isChecked()]

    @Slot()
    def _on_ablation(self, *_: Any) -> None:
        if self.explainer is None:
            return
        from affectscope.models.inference import clip_decision

        fused = self.explainer.fused(self.present())  # a table lookup: no model runs
        self.ablated_probs = fused
        models = getattr(self.window_, "models", None)
        result = getattr(models, "result", None)
        if result is not None and self.path is not None and result.path != self.path:
            result = None  # the Models tab shows another clip
        # The clip decision the Models tab shows (EWMA and speech weights where the model has them),
        # so with every box ticked both tabs give one number for the whole clip.
        votes = getattr(getattr(result, "analysis", None), "vote_weights", None)
        if votes is not None and len(votes) != len(fused):
            votes = None
        clip = clip_decision(getattr(self.explainer, "model", None), fused, votes)[0]
        gone = [m for m, box in self.checks.items() if not box.isChecked()]
        without = f" without {', '.join(gone)}" if gone else ""
        best = int(np.argmax(clip))
        self.ablated_label.setText(
            f"Fused, whole clip{without}: <b>{self.explainer.labels[best]}</b> (the clip decision, as in "
            "the Models tab)"
        )
        self.ablated_bars.set_probs(clip)
        if result is not None:
            models.lanes.show_ablated(np.asarray(self.explainer.times), fused, gone)  # the timeline too

    # ------------------------------------------------------------------ playhead
    @Slot(float)
    def _on_position(self, _t: float) -> None:
        if self.explainer is not None:
            self.debounce.start()

    def _on_target(self, *_: Any) -> None:
        if self.explainer is None:
            return
        clip = self.explainer.explain(None, self.target.currentData(), maps=False)
        self.clip_bars.set_rows(clip.modalities)
        if self.lanes is not None:
            self.lanes.show_contribution(self.explainer, self.target.currentData())
            self.lanes.request_sound(self.explainer, self.target.currentData(), self.method.currentData())
        self.request_at_playhead()

    def _on_method(self, *_: Any) -> None:
        if self.explainer is not None and self.lanes is not None:
            self.lanes.request_sound(self.explainer, self.target.currentData(), self.method.currentData())

    @Slot()
    def request_at_playhead(self, *_: Any) -> int:
        """Ask a worker for the explanation at the playhead; returns the request number."""
        if self.explainer is None:
            return self.request
        self.request += 1
        t = float(self.window_.clock.position)
        self.at_label.setText(f"At playhead {t:.2f} s: computing…")
        self.workers.start(
            explain_at,
            (self.explainer, t, self.target.currentData(), self.method.currentData(), self.request),
            title="Explaining the playhead",
            on_finished=self.show_result,
            on_failed=self._on_failed,
        )
        return self.request

    @Slot(object)
    def show_result(self, result: Any) -> None:
        """Draw an explanation unless a newer request was made since (then it is dropped)."""
        if result.request != self.request:
            self.dropped += 1
            return
        self.current = result
        self.at_label.setText(f"At playhead (window {result.time:.2f} s), class <b>{result.target}</b>:")
        self.at_bars.set_rows(result.modalities)
        self.overlay.set_explanation(result, self.explainer.signals if self.explainer else None)
        lines = []
        for key, m in result.maps.items():
            if m.kind in ("features", "signal", "keypoints"):
                top = ", ".join(f"{n} {v:+.3f}" for n, v in m.ranked(5))
                lines.append(f"<b>{key}</b> ({m.kind}): {top}")
            elif m.convergence_delta is not None:
                lines.append(f"<b>{key}</b>: IG convergence delta {m.convergence_delta:.2e}")
        for key, a in result.attention.items():
            peak = int(np.argmax(a)) if len(a) else 0
            lines.append(f"<b>attention</b> over {key}: peak at step {peak} of {len(a)}")
        self.details.setText("<br>".join(lines))
        self._show_sound(result)
        self._repaint_frame()
        self.explained.emit(result)

    def _show_sound(self, result: Any) -> None:
        from PySide6.QtGui import QPixmap

        from affectscope.models.explain.render import colourise

        spec = next((m for m in result.maps.values() if m.kind == "spectrogram"), None)
        if self.lanes is not None and self.lanes.sound is not None:
            span = None if spec is None else (spec.extra.get("t0", 0.0), spec.extra.get("t1", 0.0))
            self.lanes.sound.set_window(span)
        if spec is None:
            self.sound.clear()
            self.sound_label.setText("")
            return
        rgba = np.ascontiguousarray((colourise(spec.values) * 255).astype(np.uint8))
        h, w = rgba.shape[:2]
        img = QImage(rgba.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        # 240 px: narrower than the inspector's page width (inspector.MAX_MIN_WIDTH)
        self.sound.setPixmap(QPixmap.fromImage(img).scaled(240, 110))
        t0, t1 = spec.extra.get("t0", 0.0), spec.extra.get("t1", 0.0)
        note = " (not used: mouth closed)" if spec.extra.get("unused") else ""
        self.sound_label.setText(
            f"Sound saliency {t0:.2f}–{t1:.2f} s, 0–8 kHz (high frequencies at the top){note}:"
        )

    def _on_opacity(self, value: int) -> None:
        self.overlay.opacity = value / 100
        self._repaint_frame()

    def _repaint_frame(self) -> None:
        view = getattr(getattr(self.window_, "player", None), "view", None)
        if view is not None:
            view.update()


def install_explain(window: Any) -> ExplainPanel:
    """Add the Explain tab and the saliency overlay; explain each model run when it finishes."""
    panel = ExplainPanel(window, window)
    window.inspector.addTab(panel, "Explain")
    window.player.add_overlay(panel.overlay)
    models = getattr(window, "models", None)
    window.current_clip_changed.connect(panel.on_clip_changed)
    window.current_clip_changed.connect(panel.autorun_demo)
    window.clip_failed.connect(lambda _path: panel.on_clip_changed(""))
    if models is not None:
        models.predicted.connect(
            lambda result: panel.explain_clip(result.path, result.analysis.model, models.weights)
        )
    return panel
