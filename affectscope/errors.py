"""Errors that carry a message a person can act on (STYLE.md §10).

Every layer raises a subclass of ``UserFacingError`` for bad input; the CLI prints ``str(exc)``
and exits non-zero, the window shows it in a dialog and the status bar. Programming errors stay
ordinary exceptions.
"""


class UserFacingError(Exception):
    """Something went wrong with the user's input or environment; the message says what to do."""


class MediaError(UserFacingError):
    """A file that cannot be decoded as the video/audio we expected (corrupt, empty, not media)."""


class WeightsError(UserFacingError):
    """Model weights missing, of the wrong architecture, or not safetensors."""


class StorageError(UserFacingError):
    """The project database is locked, read-only, newer than this code, or unreachable."""
