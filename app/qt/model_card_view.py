"""The Models tab's read-only model card: how the chosen weights were trained and what they scored."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QGroupBox, QTextBrowser, QVBoxLayout, QWidget

from affectscope.app.services.model_cards import card_html, load_card


class ModelCardView(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model card", parent)
        self.text = QTextBrowser(self)
        self.text.setReadOnly(True)
        self.text.setOpenLinks(False)
        self.text.setMinimumHeight(120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text)
        self.card: dict | None = None

    def show_weights(self, weights: str | Path | None) -> None:
        """Show the card beside ``weights`` (or say there is none)."""
        self.card = load_card(weights)
        self.text.setHtml(card_html(self.card))
