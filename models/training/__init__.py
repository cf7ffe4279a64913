"""Training: corpus readers and splits, the trainer (early stopping, Job progress) and recipes."""
