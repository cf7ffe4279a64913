"""Seed 004, lightweight streaming (Yakaew et al. 2021): registry entry (torch-free)."""

from affectscope.models.registry import ModelSpec, register

SPEC = register(
    ModelSpec(
        name="lightweight-streaming",
        title="Lightweight streaming sentiment (mouth-routed face / audio-visual CNNs + EWMA)",
        seed="004",
        factory="affectscope.models.systems.lightweight:build",
        modalities=("face", "mouth", "audio"),
        label_set="sentiment3",
        input_rates={"face": 4.0, "mouth": 4.0, "audio": 16000.0},
        weights="seed004_lightweight.safetensors",
        config={
            "num_classes": 3,
            "window_seconds": 1.0,
            "hop_seconds": 0.25,
            "ewma_alpha": 0.1,
            "mouth_threshold": 0.5,
            # Paper values (section 3.1), kept for the record; the STFT keeps their durations at 16 kHz.
            "stft_window": 1400,
            "stft_overlap": 250,
            "stft_rate": 48000,
            "face_size": 96,
            "mouth_size": 28,
            "spectrogram_size": 400,
        },
        description=(
            "Mouth CNN 28x28x3 (1,252,571 params), face CNN 96x96x3 (136,259), spectrogram CNN 400x400x3 "
            "(2,509,827), audio-visual late fusion (2,646,107); 4,034,937 in all. Routing: mouth closed -> "
            "face CNN, open -> audio-visual; EWMA alpha 0.1 over time. Stand-ins: face crops are grey x3 "
            "(FER-2013 faces), spectrogram from 16 kHz audio with the paper's window/hop durations; shipped "
            "weights: face on FER-2013 (3 classes), audio on EmoDB, mouth on dlib-landmark labels."
        ),
    )
)
