"""Qt-free application services: what the window drives, usable without a window (tests, CLI)."""
