"""The inspector: the right-hand tabs, each page in a scroll area.

A page taller or wider than the dock scrolls instead of having its widgets pressed on top of each
other (the Models and Explain tabs' text overlapped at 600 px, where the pages had been told to
ignore their minimum height so as not to set the window's) and without setting the window's minimum
size. ``addTab``, ``widget``, ``indexOf``, ``currentWidget`` and ``setCurrentWidget`` speak of the
pages themselves, so panels and tests keep using them as before.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget

MAX_MIN_WIDTH = 280  # a page wider than this scrolls sideways rather than widen the dock's minimum


class InspectorTabs(QTabWidget):
    """``QTabWidget`` whose pages sit in scroll areas (see module doc)."""

    def _wrap(self, page: QWidget) -> QScrollArea:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setProperty("inspector_page", True)
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(min(page.minimumSizeHint().width(), MAX_MIN_WIDTH) + bar)
        return scroll

    def fit_widths(self) -> None:
        """Each scroll area as wide as its page needs (up to ``MAX_MIN_WIDTH``), after pages changed."""
        for i in range(self.count()):
            holder = super().widget(i)
            if isinstance(holder, QScrollArea) and holder.property("inspector_page"):
                bar = holder.verticalScrollBar().sizeHint().width()
                holder.setMinimumWidth(min(holder.widget().minimumSizeHint().width(), MAX_MIN_WIDTH) + bar)

    def addTab(self, page: QWidget, *args: object) -> int:  # noqa: N802 - Qt override
        return super().addTab(self._wrap(page), *args)

    def insertTab(self, index: int, page: QWidget, *args: object) -> int:  # noqa: N802 - Qt override
        return super().insertTab(index, self._wrap(page), *args)

    def widget(self, index: int) -> QWidget | None:
        holder = super().widget(index)
        if isinstance(holder, QScrollArea) and holder.property("inspector_page"):
            return holder.widget()
        return holder

    def indexOf(self, page: QWidget) -> int:  # noqa: N802 - Qt override
        for i in range(self.count()):
            if self.widget(i) is page:
                return i
        return super().indexOf(page)

    def currentWidget(self) -> QWidget | None:  # noqa: N802 - Qt override
        return self.widget(self.currentIndex())

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802 - Qt override
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)
