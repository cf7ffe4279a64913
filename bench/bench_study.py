"""Reader studies at scale and in the hand.

1. Statistics on the CREMA-D import (~212,000 anonymous responses, 3 arms, 7,442 clips) with 2,000
   bootstrap resamples, against the baseline of one pass computing accuracy per arm on the same arrays.
2. Reading session: keystroke (Return) to the next case on screen, against the baseline of one frame
   step (decode the next frame and show it) in the same run, on made clips.

    QT_QPA_PLATFORM=offscreen python bench/bench_study.py [--resamples 2000] [--skip-crema]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def bench_stats(folder: Path, resamples: int) -> None:
    from affectscope.app.services import study_stats
    from affectscope.app.services.crema_votes import import_crema_d
    from affectscope.app.services.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp) / "p")
        t0 = time.perf_counter()
        import_crema_d(project.db, folder)
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = study_stats.load_study(project.db, "crema-d")
        t_load = time.perf_counter() - t0
        truth = data.case_truth[data.case]
        t0 = time.perf_counter()
        acc = [
            float((data.answer[data.arm == i] == truth[data.arm == i]).mean()) for i in range(len(data.arms))
        ]
        t_acc = time.perf_counter() - t0
        t0 = time.perf_counter()
        stats = study_stats.study_stats(project.db, "crema-d", n_resamples=resamples)
        t_stats = time.perf_counter() - t0
        project.close()
    print(f"CREMA-D: {len(data.answer)} responses, import {t_import:.1f} s, load {t_load:.2f} s")
    print(f"  accuracy one pass (baseline): {t_acc * 1000:.2f} ms -> {[round(a, 4) for a in acc]}")
    ratio, ratio_no_load = t_stats / t_acc, (t_stats - t_load) / t_acc
    print(f"  study stats, {resamples} resamples (load + 3 arms + CIs): {t_stats:.2f} s")
    print(f"  = {ratio:.0f}x the one-pass accuracy; minus loading: {ratio_no_load:.0f}x")
    print("  " + " ".join(f"{a}: {r['accuracy']['value']:.3f}" for a, r in stats["arms"].items()))


def bench_latency(n: int = 12) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from affectscope.app.qt.frame_view import FrameView
    from affectscope.app.qt.reader_mode import ReaderView
    from affectscope.app.services import studies
    from affectscope.app.services.project import Project
    from affectscope.media import VideoReader
    from tests.clipfactory import make_clip

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp) / "clips"
        for i in range(n):
            make_clip(clips / f"c{i}.mp4", n_frames=50, fps=25.0, size=(320, 240), audio="tone")
        project = Project.init(Path(tmp) / "p")
        project.import_clips(clips)
        sid = studies.create_study(
            project.db, "bench", "sentiment3", [studies.ArmSpec("av", "audiovisual")],
            [studies.CaseSpec(i + 1, f"c{i}") for i in range(n)], readers=["r"],
            allow_mismatch=True,  # unlabelled cases: timing only, nothing is scored
        )  # fmt: skip
        view = ReaderView(studies.ReadingSession(project.db, sid, "r"))
        view.show()
        app.processEvents()
        next_case = []
        for _ in range(n - 1):
            QTest.keyClick(view, "1")
            t0 = time.perf_counter()
            QTest.keyClick(view, Qt.Key.Key_Return)  # commit + load and show the next case
            app.processEvents()
            next_case.append(time.perf_counter() - t0)
        view.close()
        fv = FrameView()
        fv.resize(640, 480)
        fv.show()
        reader = VideoReader(clips / "c0.mp4")
        steps = []
        for i in range(1, 40):
            t0 = time.perf_counter()
            fv.set_frame(reader.frame(i), i, float(reader.times[i]))
            fv.repaint()
            steps.append(time.perf_counter() - t0)
        reader.close()
        project.close()
    med_case, med_step = statistics.median(next_case), statistics.median(steps)
    print(
        f"Keystroke to next case: median {med_case * 1000:.1f} ms "
        f"(p90 {np.percentile(next_case, 90) * 1000:.1f})"
    )
    print(f"Frame step (baseline): median {med_step * 1000:.2f} ms -> ratio {med_case / med_step:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--skip-crema", action="store_true")
    ap.add_argument("--crema", type=Path, default=REPO.parent / "shared" / "data" / "crema_d_ratings")
    args = ap.parse_args()
    bench_latency()
    if not args.skip_crema:
        bench_stats(args.crema, args.resamples)


if __name__ == "__main__":
    main()
