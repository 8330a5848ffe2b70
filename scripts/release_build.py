"""Build a release of nbops: the sdist, then the wheel from the sdist, and check both.

    python scripts/release_build.py [--outdir dist] [SOURCE]

SOURCE (default: this checkout) is a git checkout; the version comes from its tags (tag
``v1.2.0`` first for a release: docs/packaging.md). The JupyterLab extension is built with
npm unless ``src/nbops/labextension`` is prebuilt; a release must carry it, so this script
fails when the wheel has none. Checks: ``twine check`` (the metadata and the README render on
PyPI), LICENSE in both artifacts, the lab extension and the server extension's config in the
wheel, and no ``*.orig`` files or screenshots in either. Prints the artifacts and the version
(``--json`` as JSON). Needs ``build`` and ``twine`` (the test extra) and PyPI for the build
requirements. Exit 0 ok, 1 a check failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = "share/jupyter/labextensions/@nbops/labextension/"
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d/nbops.json"


def _names(artifact: Path) -> list[str]:
    if artifact.suffix == ".whl":
        with zipfile.ZipFile(artifact) as archive:
            return archive.namelist()
    with tarfile.open(artifact) as archive:
        # drop the top folder (nbops-1.2.0/)
        return [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]


def problems(wheel: Path, sdist: Path) -> list[str]:
    """What is wrong with the two artifacts (empty when the release is good)."""
    found: list[str] = []
    for artifact in (wheel, sdist):
        names = _names(artifact)
        if not any(name.rsplit("/", 1)[-1] == "LICENSE" for name in names):
            found.append(f"{artifact.name}: no LICENSE")
        for name in names:
            if name.endswith(".orig") or "screenshots/" in name:
                found.append(f"{artifact.name}: should not ship {name}")
    wheel_names = _names(wheel)
    data = [name.split(".data/data/", 1)[1] for name in wheel_names if ".data/data/" in name]
    for wanted in (LAB + "package.json", LAB + "install.json", SERVER_CONFIG):
        if wanted not in data:
            found.append(f"{wheel.name}: no {wanted}")
    if not any(name.startswith(LAB + "static/") for name in data):
        found.append(f"{wheel.name}: the JupyterLab extension has no static/ files (was it built?)")
    return found


def build(source: Path, outdir: Path) -> tuple[Path, Path]:
    """``python -m build`` (the sdist, then the wheel from it) into an empty ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    old = [p for p in outdir.iterdir() if p.suffix in (".whl", ".gz")]
    if old:
        raise SystemExit(f"error: {outdir.name}/ already holds {old[0].name}: pass an empty --outdir")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(outdir), str(source)], check=True)
    wheels = sorted(outdir.glob("*.whl"))
    sdists = sorted(outdir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"error: expected one wheel and one sdist in {outdir.name}/")
    return wheels[0], sdists[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", type=Path, default=ROOT,
                        help="the git checkout to build (default: this one)")
    parser.add_argument("--outdir", type=Path, default=None,
                        help="where the artifacts go (default: SOURCE/dist; must hold none)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    if not (source / "pyproject.toml").is_file():
        print(f"error: {args.source} holds no pyproject.toml: pass an nbops checkout", file=sys.stderr)
        return 2
    outdir = (args.outdir or source / "dist").resolve()
    try:
        wheel, sdist = build(source, outdir)
    except subprocess.CalledProcessError as exc:
        print(f"error: python -m build failed (exit {exc.returncode}): see its output above",
              file=sys.stderr)
        return 1
    twine = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                           check=False)
    found = problems(wheel, sdist)
    if twine.returncode != 0:
        found.append("twine check failed: see its output above")
    version = wheel.name.split("-")[1]
    if args.json:
        print(json.dumps({"version": version, "wheel": str(wheel), "sdist": str(sdist),
                          "problems": found}, indent=2))
    else:
        print(f"nbops {version}: {wheel.name}, {sdist.name} in {outdir}")
        for problem in found:
            print(f"  problem: {problem}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
