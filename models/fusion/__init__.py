"""Fusion methods usable by any system's per-modality outputs (seeds 000 and 001, and the rest).

Late fusion of scores (``voting``: soft, hard, weighted, mean, max, weights chosen on validation),
early fusion of hidden features (``early``: FC fusion of frozen branches; ``moddrop``: ModDrop with
the off-diagonal block weight decay; ``score_tree``: score trees; ``vae``: VAE latent fusion). Systems
build on these; modality ablation, which runs a whole system, is ``systems/ablation.py``.
"""
