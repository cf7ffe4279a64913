"""``affectscope models export NAME`` and ``affectscope models import FILE --spec SPEC.json`` (issue 20).

Sub-commands of ``models`` (plain ``models`` still lists). Contracts in docs/cli.md; heavy imports in
the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectscope import strict_json


def register_model_files(models_parser: argparse.ArgumentParser) -> None:
    sub = models_parser.add_subparsers(dest="models_action", metavar="ACTION")
    e = sub.add_parser(
        "export", help="write a system with its weights as ONNX or TorchScript, spec beside it"
    )
    e.add_argument("name", help="registered system (see: affectscope models)")
    e.add_argument("--format", choices=("onnx", "torchscript"), required=True)
    e.add_argument("-o", "--output", type=Path, required=True, help="FILE to write; FILE.spec.json beside it")
    e.add_argument("--weights", help="safetensors weights instead of the shipped ones")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(handler=cmd_models_export)

    i = sub.add_parser("import", help="add an ONNX or TorchScript model file described by a spec")
    i.add_argument("file", type=Path, help="model file (.onnx, or TorchScript .pt)")
    i.add_argument("--spec", type=Path, required=True, help="its spec (docs/byo.md)")
    i.add_argument("--name", help="the name it is listed and chosen by (default: the spec's name)")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.set_defaults(handler=cmd_models_import)


def cmd_models_export(args: argparse.Namespace) -> int:
    from affectscope.models.exchange.export import export_system

    result = export_system(args.name, args.format, args.output, args.weights)
    if args.json:
        print(strict_json.dumps(result))
    else:
        print(
            f"{result['model']} -> {result['output']} ({result['format']}; spec {result['spec']}; "
            f"largest difference to PyTorch {result['max_abs_diff']:.1e})"
        )
    return 0


def cmd_models_import(args: argparse.Namespace) -> int:
    from affectscope.models.exchange.importing import import_model

    result = import_model(args.file, args.spec, args.name)
    if args.json:
        print(strict_json.dumps(result))
    else:
        state = "imported" if result["new"] else "already imported"
        print(
            f"{result['name']} version {result['version']} {state} "
            f"({result['format']}, {result['label_set']})"
        )
    return 0
