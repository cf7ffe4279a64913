"""Shipped weights (safetensors) and their licences; a package so that wheels include them."""
