"""``affectscope explain``: why a model said what it said about a clip (docs/cli.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from affectscope import strict_json
from affectscope.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "explain", help="saliency maps, modality Shapley / leave-one-out / gate bars for a clip"
    )
    p.add_argument("clip", help="video clip (or audio file / face image)")
    p.add_argument("--model", default="lightweight-streaming", help="registered model name")
    p.add_argument("--weights", help="safetensors weights instead of the shipped ones")
    p.add_argument(
        "--keras", metavar="MODEL.h5", help="explain a Keras face model with tf-keras-vis Grad-CAM"
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", type=float, metavar="SECONDS", help="explain the window nearest this time")
    when.add_argument("--all-windows", action="store_true", help="bars for every window (no maps)")
    p.add_argument("--method", default="gradcam", choices=("gradcam", "ig", "smoothgrad", "occlusion"))
    p.add_argument("--target", help="class to explain (default: the predicted one)")
    p.add_argument("-o", "--output", metavar="DIR", help="write maps (.npy, .png overlays) here")
    p.add_argument("--allow-untrained", action="store_true", help="run a model without weights (plumbing)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_explain)


def _dump(doc: Any) -> None:
    print(strict_json.dumps(doc, indent=2, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def _frame(clip: Path, t: float | None) -> Any:
    if t is None:
        return None
    try:
        from affectscope.media.reader import VideoReader

        with VideoReader(clip) as reader:
            return reader.frame_at(t)[1]
    except Exception:  # an audio file or an image: maps are written without the frame
        return None


def cmd_explain(args: argparse.Namespace) -> int:
    clip = Path(args.clip)
    if not clip.exists():
        raise UserFacingError(f"clip not found: {args.clip}")
    if args.keras:
        return _keras(args, clip)
    from affectscope.app.services.explain import clip_explainer

    ex = clip_explainer(str(clip), args.model, args.weights, args.allow_untrained)
    result = ex.explain(args.at, args.target, args.method, maps=args.at is not None)
    doc = result.to_json(args.output, _frame(clip, result.time) if args.output else None)
    if args.all_windows:
        doc["windows"] = [
            {
                k: v
                for k, v in ex.explain(float(t), args.target, args.method, maps=False).to_json().items()
                if k in ("time", "target", "modalities", "fused_all", "fused_none")
            }
            for t in ex.times
        ]
    if args.json:
        _dump(doc)
        return 0
    when = f"at {doc['time']:.2f} s" if doc["time"] is not None else "over the whole clip"
    print(
        f"{clip.name}: {doc['model']} on '{doc['target']}' {when}: "
        f"p(all) {doc['fused_all']:.3f}, p(none) {doc['fused_none']:.3f}"
    )
    for m, row in doc["modalities"].items():
        gate = "-" if row["gate"] is None else f"{row['gate']:.3f}"
        print(
            f"  {m:<12} shapley {row['shapley']:+.4f}  leave-one-out {row['leave_one_out']:+.4f}  gate {gate}"
        )
    for key, m in doc["maps"].items():
        print(
            f"  map {key}: {m['kind']} {m['method']} {m['shape']} box {m['box']} -> {', '.join(m['paths'])}"
        )
    return 0


def _keras(args: argparse.Namespace, clip: Path) -> int:
    """Grad-CAM of a Keras face model (tf-keras-vis) on the clip's largest face at ``--at``."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import numpy as np

    from affectscope.app.services.predict import clip_signals
    from affectscope.models.explain import frames
    from affectscope.models.explain.keras import keras_gradcam, load_keras

    model = load_keras(args.keras)
    signals = clip_signals(str(clip), ("face",))
    crops = signals.track("face_crop64")
    if len(crops) == 0:
        raise UserFacingError(f"no face found in {clip.name}: nothing for the Keras model to explain")
    t = 0.0 if args.at is None else args.at
    i = int(np.argmin(np.abs(np.asarray(crops.times) - t)))
    face = np.asarray(crops.values[i : i + 1])
    probs = model.predict(face[..., None].astype(np.float32) / 255 * 2 - 1, verbose=0)[0]
    from affectscope.models.finite import check_outputs

    check_outputs(Path(args.keras).name, {"face": probs})
    labels = [f"class{k}" for k in range(len(probs))]
    if len(probs) == 7:
        from affectscope.models.signals import EXPRESSIONS

        labels = list(EXPRESSIONS)
    c = labels.index(args.target) if args.target in labels else int(np.argmax(probs))
    cam = keras_gradcam(model, face, c)[0]
    time = float(crops.times[i])
    box = frames.face_box(signals, time)
    doc: dict[str, Any] = {
        "model": Path(args.keras).name,
        "labels": labels,
        "target": labels[c],
        "time": time,
        "method": "gradcam",
        "modalities": {"face": {"shapley": None, "leave_one_out": None, "gate": None}},
        "fused_all": round(float(probs[c]), 6),
        "fused_none": None,
        "keypoints": None,
        "maps": {
            "face": {
                "kind": "image",
                "method": "gradcam",
                "shape": list(cam.shape),
                "box": [round(float(v), 2) for v in box] if box else None,
                "convergence_delta": None,
                "paths": [],
            }
        },
    }
    if args.output:
        from affectscope.models.explain.render import overlay_png

        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        npy = out / f"face_keras_gradcam_{time:.2f}s.npy"
        np.save(npy, cam)
        png = overlay_png(npy.with_suffix(".png"), cam, _frame(clip, time), box)
        doc["maps"]["face"]["paths"] = [str(npy), str(png)]
    if args.json:
        _dump(doc)
    else:
        print(f"{clip.name}: {doc['model']} says {doc['target']} ({doc['fused_all']:.3f}) at {time:.2f} s")
    return 0
