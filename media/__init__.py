"""Frame-accurate video and audio decoding by timestamps (PyAV). Never imports Qt."""
