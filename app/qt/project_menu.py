"""The Project menu: New project…, Open project… (a folder, or a PostgreSQL URL), Open Recent, the demo
project, and exporting and importing labels (CSV / JSON / ELAN) without the command line.

Everything goes through the window's existing paths: ``open_path`` lists a folder's clips, the Labels
panel opens (or creates) the project and its worker thread does the database work; export and import
use ``app/services/interop.py`` (the same code as ``affectscope export labels`` / ``import labels``)
in ``window.workers`` with the status bar's progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMainWindow, QMenu

from affectscope.errors import UserFacingError

EXPORT_FILTERS = {
    "csv": "CSV manifest (*.csv)",
    "json": "JSON manifest (*.json)",
    "eaf": "ELAN files, one per clip (*.eaf)",
}


def export_target(name: str, selected_filter: str | None) -> tuple[str, Path]:
    """What Export labels writes for a typed ``name`` under the dialog's filter: the format follows a
    known extension (``labels.eaf`` under the CSV filter is ELAN), else the filter (which then names
    the file). ELAN writes one ``.eaf`` per clip, so it gets a folder named without the extension."""
    path = Path(name)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FILTERS:
        fmt = next((k for k, v in EXPORT_FILTERS.items() if v == selected_filter), "csv")
        if fmt != "eaf":
            path = path.with_name(path.name + "." + fmt)
    if fmt == "eaf" and path.suffix.lower() == ".eaf":
        path = path.with_suffix("")
    return fmt, path


def renamed_for_filter(name: str, selected_filter: str) -> str:
    """The file name the dialog shows once another filter is chosen: its extension follows."""
    fmt = next((k for k, v in EXPORT_FILTERS.items() if v == selected_filter), None)
    if fmt is None or not name:
        return name
    path = Path(name)
    stem = path.stem if path.suffix.lstrip(".").lower() in EXPORT_FILTERS else path.name
    return f"{stem}.{fmt}"


def export_labels(project: Any, fmt: str, out: str, job: Any = None) -> str:
    """Worker-thread job: write the project's current labels; returns a sentence for the status bar."""
    from affectscope.app.services import interop

    path = Path(out)
    if fmt == "eaf":
        files = interop.export_eaf(project.db, path, job=job)
        return f"Exported labels of {len(files)} clip(s) as ELAN files into {path}"
    write = interop.export_csv if fmt == "csv" else interop.export_json
    n = write(project.db, path, job=job)
    return f"Exported {n} labels to {path}"


def assign_speakers(project: Any, pattern: str | None, csv_path: str | None, job: Any = None) -> Any:
    """Worker-thread job: ``app/services/speakers.assign_speakers`` (the CLI's ``project speakers``)."""
    from affectscope.app.services import speakers

    return speakers.assign_speakers(project, pattern=pattern, csv_path=csv_path)


def import_labels(project: Any, path: str, job: Any = None) -> str:
    """Worker-thread job: read a CSV/JSON manifest or ELAN file(s) into the project (appended)."""
    from affectscope.app.services import interop

    report = interop.import_labels(project, Path(path), annotator=project.annotator, job=job)
    text = f"Imported {report.imported} labels from {Path(path).name}"
    if report.duplicates:
        text += f", {report.duplicates} already there"
    if report.skipped:
        text += f", {len(report.skipped)} skipped ({report.skipped[0][1]})"
    return text


class ProjectMenu:
    """Builds the menu on ``window`` and keeps Open Recent in step with the settings."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.menu: QMenu = window.menuBar().addMenu("&Project")
        self.actions: dict[str, QAction] = {}
        for key, text, slot in (
            ("new", "&New project…", self.new_project),
            ("open", "&Open project…", self.open_project),
            ("open_url", "Open project on a &PostgreSQL server…", self.open_url),
            ("demo", "Open the &demo project", self.open_demo),
        ):
            action = QAction(text, window)
            action.triggered.connect(lambda _=False, s=slot: s())
            self.menu.addAction(action)
            self.actions[key] = action
        self.recent = self.menu.addMenu("Open &recent")
        self.recent.aboutToShow.connect(self.fill_recent)
        self.menu.addSeparator()
        for key, text, slot in (
            ("export", "&Export labels…", self.export),
            ("import", "&Import labels…", self.import_),
            ("speakers", "&Speakers from file names or a CSV…", self.speakers),
        ):
            action = QAction(text, window)
            action.triggered.connect(lambda _=False, s=slot: s())
            self.menu.addAction(action)
            self.actions[key] = action
        self.fill_recent()

    # ------------------------------------------------------------------ opening
    def new_project(self, folder: str | None = None, db_url: str | None = None) -> None:
        """Create a project in ``folder`` (asked for when None) from the clips found in it."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "New project: the folder of clips")
            if not folder:
                return
        self.window.open_path(folder)
        if db_url:
            self.window.session.open_project_on(Path(folder), db_url)
        else:
            self.window.session.open_project(Path(folder), create=True)

    def open_project(self, folder: str | None = None) -> None:
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "Open a project folder")
            if not folder:
                return
        from affectscope.app.services.project import PROJECT_FILE

        if not (Path(folder) / PROJECT_FILE).is_file():
            self.window.show_error(
                "Not a project",
                f"{folder} holds no {PROJECT_FILE}. Project ▸ New project… creates one from its clips.",
            )
            return
        self.window.open_path(folder)
        self.window.session.open_project(Path(folder))

    def open_url(self, url: str | None = None, folder: str | None = None) -> None:
        """A team project: a PostgreSQL URL plus a local folder of the clips (the project file goes there)."""
        if url is None:
            url, ok = QInputDialog.getText(
                self.window,
                "Open project on a PostgreSQL server",
                "Database URL (password from PGPASSWORD or ~/.pgpass):",
                QLineEdit.EchoMode.Normal,
                "postgresql://user@host/database",
            )
            if not ok or not url.strip():
                return
        if not url.strip().startswith("postgresql"):
            self.window.show_error("Not a PostgreSQL URL", f"{url} does not start with postgresql://")
            return
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "The folder holding the project's clips")
            if not folder:
                return
        self.new_project(folder, url.strip())

    def open_demo(self) -> None:
        from affectscope.app.services.demo import demo_project

        try:
            folder = demo_project()
        except (UserFacingError, OSError) as exc:
            self.window.show_error("Cannot open the demo project", str(exc))
            return
        self.window.open_path(folder)

    def fill_recent(self) -> None:
        from affectscope.app.services.settings import readable_recent

        self.recent.clear()
        paths = readable_recent(list(self.window.settings.recent_paths))
        for path in paths:
            action = self.recent.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.window.open_path(p))
        self.recent.setEnabled(bool(paths))

    # ------------------------------------------------------------------ labels in and out
    def _project(self) -> Any:
        project = self.window.session.project
        if project is None:
            self.window.show_error("No project open", "Open or create a project first (Project menu).")
        return project

    def export(self, fmt: str | None = None, out: str | None = None) -> Any:
        project = self._project()
        if project is None:
            return None
        if out is None:
            if fmt == "eaf":
                out = QFileDialog.getExistingDirectory(
                    self.window, "Export labels: a folder for the .eaf files"
                )
            else:
                dialog = self.export_dialog(project)
                if not dialog.exec() or not dialog.selectedFiles():
                    return None
                fmt, target = export_target(dialog.selectedFiles()[0], dialog.selectedNameFilter())
                out = str(target)
            if not out:
                return None
        if fmt is None:
            fmt, target = export_target(str(out), None)
            out = str(target)
        return self.window.workers.start(
            export_labels,
            (project, fmt, str(out)),
            title="Exporting labels",
            on_finished=lambda text: self.window.statusBar().showMessage(text, 15000),
            on_failed=lambda exc: self.window.show_error("Labels not exported", str(exc)),
        )

    def export_dialog(self, project: Any) -> QFileDialog:
        """The Save dialog of Export labels; choosing a filter renames the typed file to match."""
        dialog = QFileDialog(self.window, "Export labels", str(project.folder))
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # the rename needs Qt's own dialog
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(EXPORT_FILTERS.values()))
        dialog.selectFile("labels.csv")
        name_edit = dialog.findChild(QLineEdit, "fileNameEdit")

        def _on_filter(selected: str) -> None:
            if name_edit is not None:
                name_edit.setText(renamed_for_filter(name_edit.text(), selected))

        dialog.filterSelected.connect(_on_filter)
        return dialog

    def speakers(self, source: str | None = None) -> Any:
        """Record each clip's speaker from a file-name pattern or a CSV (asked for when None)."""
        project = self._project()
        if project is None:
            return None
        if source is None:
            source, ok = QInputDialog.getText(
                self.window,
                "Speakers",
                "A regular expression over the file names whose first group is the speaker\n"
                "(e.g. ^(\\d{4})_ for CREMA-D), or the path of a CSV with path and speaker columns:",
            )
            if not ok or not source.strip():
                return None
        source = source.strip()
        is_csv = source.lower().endswith(".csv") and Path(source).expanduser().is_file()
        return self.window.workers.start(
            assign_speakers,
            (project, None if is_csv else source, str(Path(source).expanduser()) if is_csv else None),
            title="Speakers",
            on_finished=self._on_speakers,
            on_failed=lambda exc: self.window.show_error("Speakers not recorded", str(exc)),
        )

    def _on_speakers(self, report: Any) -> None:
        self.window.statusBar().showMessage(
            f"{report.assigned} clips given a speaker ({len(report.speakers)} speakers), "
            f"{len(report.unmatched)} not matched",
            15000,
        )
        self.window.session.reload()  # the browser's Speaker column

    def import_(self, path: str | None = None) -> Any:
        project = self._project()
        if project is None:
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window, "Import labels", str(project.folder), "Labels (*.csv *.json *.eaf)"
            )
            if not path:
                return None

        def done(text: str) -> None:
            self.window.statusBar().showMessage(text, 15000)
            self.window.session.reload()

        return self.window.workers.start(
            import_labels,
            (project, str(path)),
            title="Importing labels",
            on_finished=done,
            on_failed=lambda exc: self.window.show_error("Labels not imported", str(exc)),
        )


def install_project_menu(window: QMainWindow) -> ProjectMenu:
    menu = ProjectMenu(window)
    window.project_menu = menu
    return menu
