"""PyTorch side: extractors, the five published systems, fusion, explanation, training, registry.

Never imports Qt, never imports ``affectscope.db``; the application joins the two.
"""
