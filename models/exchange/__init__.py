"""Models in and out of Affectscope as files: ONNX and TorchScript export of the registered systems, and
import of such files (ours or anyone's) with a spec that says what they read and what they give.

``spec`` is the versioned, validated spec; ``export`` writes a system with its spec; ``inputs`` builds a
foreign model's inputs from perception by the perception contract's names; ``runtime`` runs an imported
file as an ``EmotionSystem`` (so inference, storage, evaluation and the window use it like any system);
``store`` keeps imported files and registers them. Only ``spec`` and ``store`` are torch-free.
"""
