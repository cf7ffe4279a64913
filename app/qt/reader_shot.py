"""``affectscope screenshot --reader-session``: the screen exactly as a reader sees it in their session
(the kiosk at the given screen size, on the reader's next case), rendered offscreen to a PNG. A preview
session records nothing: no sitting, no answer.
"""

from __future__ import annotations

from pathlib import Path

from affectscope.errors import UserFacingError


def reader_session_screenshot(
    project_dir: str | Path, study: str, reader: str, out: str | Path, size: tuple[int, int] = (1920, 1080)
) -> dict:
    from affectscope.app.qt.application import ensure_app
    from affectscope.app.qt.reader_kiosk import ReaderKiosk
    from affectscope.app.services.project import Project
    from affectscope.app.services.reading import ReadingSession

    app = ensure_app()
    with Project.open(Path(project_dir)) as project:
        session = ReadingSession(project.db, study, reader, preview=True)
        kiosk = ReaderKiosk(session, audio_check=False)
        try:
            kiosk.resize(*size)
            kiosk.show()
            app.processEvents()
            view = kiosk.view
            if view.media is not None and view.media.has_picture and view.frame.frame is None:
                view._on_position(view.media.range[0])  # the first frame, without waiting for the clock
            app.processEvents()
            out = Path(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            if not kiosk.grab().save(str(out), "PNG"):
                raise UserFacingError(f"could not write {out}: check the folder exists and is writable")
            page = {kiosk.view: "case", kiosk.break_page: "break", kiosk.done_page: "done"}.get(
                kiosk.pages.currentWidget(), "other"
            )
            st = view.stimulus
            return {
                "output": str(out.resolve()),
                "width": kiosk.width(),
                "height": kiosk.height(),
                "study": session.study.name,
                "reader": session.reader,
                "page": page,
                "progress": view.progress.text() if page == "case" else None,
                "presentation": st.presentation if st else None,
                "assisted": bool(st and st.assistance is not None),
                "skipped": len(session.skipped),
            }
        finally:
            kiosk.close()
