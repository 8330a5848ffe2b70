"""Where the library ``nbops modularize`` generates for a notebook lives.

One answer for every layer: modularize writes its files at these paths, and the pipeline run
(``nbops run --pipeline``), the review gate's library check and ``nbops submit`` find them
here, without planning or generating anything.

DIR is ``--out``, else the folder of the notebook's project (the nearest ``pyproject.toml``),
else the notebook's folder. In it: ``src/<package>/<module>.py`` (and the package's
``__init__.py``), ``tests/test_<module>.py``, and the slim notebook ``<stem>_slim.ipynb``
beside the notebook (at DIR's top when the notebook is outside DIR). The module is named
after the notebook; the package is ``--package``, else the project's ``[tool.nbops.modularize]
package`` or ``[project] name``, else the module's name (see :func:`library_layout`).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nbops.config import project_root
from nbops.core.sections import step_name
from nbops.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["Layout", "check_out_folder", "library_layout", "module_name_for"]


@dataclass(frozen=True)
class Layout:
    """The generated library's place: ``out`` is DIR (absolute), ``notebook`` as given."""

    notebook: Path
    out: Path
    package: str
    module: str
    # why the package is not named after the project (a name that would clash)
    notes: tuple[str, ...] = ()

    @property
    def notebook_dir(self) -> Path:
        return self.notebook.resolve().parent

    @property
    def src_dir(self) -> Path:
        """The folder to put on ``sys.path`` to import the package (``DIR/src``)."""
        return self.out / "src"

    @property
    def module_path(self) -> Path:
        return self.src_dir.joinpath(*self.package.split("."), f"{self.module}.py")

    @property
    def init_path(self) -> Path:
        return self.module_path.parent / "__init__.py"

    @property
    def tests_dir(self) -> Path:
        return self.out / "tests"

    @property
    def tests_path(self) -> Path:
        return self.tests_dir / f"test_{self.module}.py"

    @property
    def slim_dir(self) -> Path:
        """Beside the notebook when it is under DIR, else DIR's top: every file is under DIR."""
        return self.notebook_dir if self.notebook_dir.is_relative_to(self.out) else self.out

    @property
    def slim_path(self) -> Path:
        return self.slim_dir / f"{self.notebook.stem}_slim.ipynb"

    @property
    def import_name(self) -> str:
        """``package.module``, as ``import`` spells it."""
        return f"{self.package}.{self.module}"

    @property
    def label(self) -> str:
        """The notebook as the generated files name it: relative to DIR, else its file name."""
        path = self.notebook.resolve()
        return path.relative_to(self.out).as_posix() if path.is_relative_to(self.out) else path.name


def module_name_for(stem: str) -> str:
    """The module name for a notebook file stem (``Churn Model v2`` -> ``churn_model_v2``)."""
    return step_name(stem) or "notebook"


def check_out_folder(out: Path, shown: Path) -> None:
    """``--out`` (``shown`` as given) must be a folder, or not exist yet."""
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == out else f"is inside a file ({existing.name})"
        raise UsageError(f"the --out folder {where}", path=shown, hint="pass a folder for --out")


def library_layout(notebook: Path, *, package: str | None = None, out: Path | None = None) -> Layout:
    """Where the library of ``notebook`` lives, for ``--package`` and ``--out`` (None: the
    defaults). Reads only the project's ``pyproject.toml``, never the notebook. A
    :class:`~nbops.errors.UsageError` for a package name that is not a Python name or an
    ``--out`` that is a file."""
    notebook = Path(notebook)
    if out is not None:
        folder = Path(out).resolve()
        check_out_folder(folder, Path(out))
    else:
        root, has_pyproject = project_root(notebook.resolve().parent)
        folder = root if has_pyproject else notebook.resolve().parent
    notes: list[str] = []
    name = _package_for(notebook, package, folder, notes)
    return Layout(notebook, folder, name, module_name_for(notebook.stem), tuple(notes))


def _valid_package(name: str) -> bool:
    """A dotted Python name none of whose parts is a keyword (``team.models``)."""
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split("."))


def _identifier(name: str) -> str | None:
    """A project name as a package name (``Churn-Models.v2`` -> ``churn_models_v2``)."""
    text = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
    if text[:1].isdigit():
        text = f"p{text}"
    return text if text and _valid_package(text) else None


def _project_names(start: Path) -> tuple[Path, str | None, str | None]:
    """The project ``start`` belongs to (``config.project_root``): its folder, its
    ``[tool.nbops.modularize] package`` and its ``[project] name`` as an identifier."""
    root, has_pyproject = project_root(start)
    if not has_pyproject:
        return root, None, None
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return root, None, None
    configured = data.get("tool", {}).get("nbops", {}).get("modularize", {}).get("package")
    name = data.get("project", {}).get("name")
    return (
        root,
        configured if isinstance(configured, str) else None,
        _identifier(name) if isinstance(name, str) else None,
    )


def _hides_another(package: str, src_dir: Path) -> bool:
    """True when ``package`` is importable from somewhere other than ``src_dir`` (an installed
    package, the project's own package while DIR is elsewhere, a standard module): a package
    of that name in ``src_dir`` would hide it, or be hidden by it."""
    top = package.split(".")[0]
    if top in sys.stdlib_module_names or top == "nbops":
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    places = [Path(p) for p in (spec.submodule_search_locations or [])] or (
        [Path(spec.origin).parent] if spec.origin else []
    )
    return not any(p.resolve().is_relative_to(src_dir.resolve()) for p in places)


def _package_for(path: Path, package: str | None, out: Path, notes: list[str]) -> str:
    """The package: ``--package``; else the ``[tool.nbops.modularize] package`` or ``[project]
    name`` of the project DIR belongs to, else of the notebook's project; else the notebook's
    name. Never the folder's name. A name taken from the project or the notebook that another
    importable package already has (``nbops``, ``json``, the project's own package when DIR
    is elsewhere) is passed over, with a note."""
    if package is not None:
        if not _valid_package(package):
            raise UsageError(
                f"--package {package!r} is not a Python package name"
                + (" (a Python keyword)" if any(keyword.iskeyword(p) for p in package.split(".")) else ""),
                path=path,
                hint="pass a dotted Python name that is not a keyword, like wine_models or team.models",
            )
        return package
    seen: set[Path] = set()
    for start in (out, path.resolve().parent):
        root, configured, project = _project_names(start)
        if root in seen:
            continue
        seen.add(root)
        if configured is not None:  # the project asked for it: taken as it is
            if not _valid_package(configured):
                raise UsageError(
                    f"[tool.nbops.modularize] package {configured!r} is not a Python package name",
                    path=root / "pyproject.toml",
                    hint="set it to a dotted Python name that is not a keyword",
                )
            return configured
        if project is not None:
            # DIR's own project names its package; elsewhere it must not clash with it
            if root == out or not _hides_another(project, out / "src"):
                return project
            notes.append(
                f"the package is not named `{project}` after the project: a package of that name "
                "is importable from elsewhere and would clash; pass --package to choose"
            )
    name = module_name_for(path.stem)
    return name if not _hides_another(name, out / "src") else f"{name}_lib"
