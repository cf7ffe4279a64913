"""Map the repository's top-level folders onto one import root, ``affectscope``.

The product's layout keeps ``app/``, ``models/``, ``analysis/``, ``db/``, ``media/`` and ``resources/``
at the top of the repository, but they must install as ``affectscope.app`` and so on, never as bare ``app`` or
``models`` in site-packages. pyproject.toml holds the metadata; this file only computes the mapping.
"""

from pathlib import Path

from setuptools import setup

ROOTS = {
    "affectscope": "affectscope",
    "affectscope.app": "app",
    "affectscope.models": "models",
    "affectscope.db": "db",
    "affectscope.media": "media",
    "affectscope.analysis": "analysis",
    "affectscope.resources": "resources",
}


def _packages() -> tuple[list[str], dict[str, str]]:
    here = Path(__file__).parent
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for name, folder in ROOTS.items():
        package_dir[name] = folder
        for init in sorted((here / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(here / folder)
            sub = ".".join((name, *rel.parts)) if rel.parts else name
            packages.append(sub)
            if rel.parts:
                package_dir[sub] = str(Path(folder, *rel.parts))
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
