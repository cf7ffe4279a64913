"""Affectscope: see, question and correct what multimodal emotion models say about video.

The distribution maps the repository's top-level folders onto this one import root:
``affectscope.app`` (GUI + Qt-free services + CLI), ``affectscope.models`` (PyTorch),
``affectscope.db`` (SQLAlchemy), ``affectscope.media`` (PyAV decoding) and
``affectscope.resources`` (shipped weights, icons, demo material).
"""

__version__ = "0.1.0"
