"""Perception: faces, landmarks, mouth, expression, pose, voice activity, laughter, audio features.

Each extractor is a plain function taking an ``affectscope.jobs.Job``; ``pipeline.extract_clip``
runs them over a clip and returns ``ClipSignals``. Heavy libraries (torch, dlib, mediapipe) are
imported by the modules that need them, not here, so importing this package stays cheap.
"""
