"""Explanation of registered models, Qt-free: why a model said what it said.

``shapley``: exact modality Shapley values, leave-one-out deltas and live ablation from one batched
table of every modality subset; ``saliency``: captum maps (Grad-CAM, IG, SmoothGrad, Occlusion) on
images, spectrograms and named feature vectors, mapped back to their crop boxes in the frame;
``architecture``: a system's own weights (gates, attention, fusion and voting weights);
``keras``: tf-keras-vis Grad-CAM on original Keras models (the ``keras`` extra).
"""
