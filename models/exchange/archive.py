"""Inspect a TorchScript archive before ``torch.jit.load`` sees it: imported files are never unpickled.

A TorchScript ``.pt`` is a zip holding ``PREFIX/data.pkl`` and ``PREFIX/constants.pkl`` (pickles of
modules and tensors), ``PREFIX/code/`` (TorchScript source, run by TorchScript's interpreter, not by
Python) and a few small records. TorchScript's C++ unpickler already refuses Python globals (checked:
``posix.system`` in data.pkl is "Unknown type name"), but its refusal depends on torch's version and its
message spans lines, and ``torch.load`` of the same bytes would run them. So the archive is read here
first, as data: every pickle in it is walked opcode by opcode with ``pickletools`` (which never builds
an object) and may name only the globals a TorchScript archive holds; a plain ``torch.save`` pickle, a
zip with a crafted pickle, a truncated or damaged zip and random bytes are refused with one line.
"""

from __future__ import annotations

import pickletools
import zipfile
from pathlib import Path

from affectscope.errors import UserFacingError

# (module, name) globals TorchScript archives hold; "*" allows any name of that module.
_ALLOWED = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch.jit._pickle", "*"),  # build_intlist, restore_type_tag, ...: TorchScript's own helpers
}
# Opcodes that import by other routes than GLOBAL (its argument is checked) or run an extension hook.
_REFUSED_OPS = {"STACK_GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4"}


class ArchiveError(UserFacingError):
    """A file that is not a TorchScript archive Affectscope will load."""


def _global_allowed(module: str, name: str) -> bool:
    if module == "__torch__" or module.startswith("__torch__."):
        return True  # TorchScript class types: rebuilt from the archive's TorchScript code, not imported
    if module == "torch" and name.endswith("Storage"):
        return True
    return (module, name) in _ALLOWED or (module, "*") in _ALLOWED


def check_pickle(data: bytes, where: str) -> None:
    """Walk one pickle's opcodes without running it; refuse any global outside TorchScript's own."""
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in _REFUSED_OPS:
                raise ArchiveError(
                    f"{where} uses the pickle opcode {op.name}, which TorchScript never writes"
                )
            if op.name == "GLOBAL":
                module, _, name = str(arg).partition(" ")
                if not _global_allowed(module, name):
                    raise ArchiveError(
                        f"{where} would import the Python object {module}.{name}: refused (a TorchScript "
                        "archive holds only tensors and TorchScript types)"
                    )
    except ArchiveError:
        raise
    except Exception as exc:  # noqa: BLE001 - genops raises ValueError and others on damaged pickles
        raise ArchiveError(f"{where} is a damaged pickle ({' '.join(str(exc).split())})") from None


def check_torchscript_archive(path: str | Path) -> None:
    """Refuse ``path`` unless it is a whole TorchScript zip whose pickles name only TorchScript's globals."""
    path = Path(path)
    name = path.name
    if not zipfile.is_zipfile(path):
        raise ArchiveError(
            f"{name} is not a TorchScript archive (not a whole zip file: truncated, damaged, or another "
            "format); save the model with torch.jit.script(model).save(FILE) or torch.jit.trace"
        )
    try:
        with zipfile.ZipFile(path) as z:
            entries = z.namelist()
            prefixes = {e.split("/", 1)[0] for e in entries}
            if len(prefixes) != 1 or any("/" not in e for e in entries):
                raise ArchiveError(
                    f"{name}: a TorchScript archive holds one folder; this zip holds {len(prefixes)}"
                )
            prefix = prefixes.pop()
            if f"{prefix}/data.pkl" not in entries:
                raise ArchiveError(f"{name} is a zip without {prefix}/data.pkl: not a TorchScript archive")
            if f"{prefix}/constants.pkl" not in entries or not any(
                e.startswith(f"{prefix}/code/") for e in entries
            ):
                raise ArchiveError(
                    f"{name} holds a pickle but no TorchScript code: it looks like torch.save of a Python "
                    "object, which would run code when loaded; export it with torch.jit.script or trace"
                )
            bad = z.testzip()  # every member's CRC: a cut or altered archive stops here
            if bad is not None:
                raise ArchiveError(f"{name} is damaged ({bad} fails its checksum)")
            for entry in entries:
                if entry.endswith(".pkl") or entry.endswith(".debug_pkl"):
                    check_pickle(z.read(entry), f"{name}: {entry}")
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{name} is not a readable zip ({' '.join(str(exc).split())})") from None
