"""The HTML page of a run, rendered while the run opens: the same page a render of the final
notebook gives, its title naming the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow

NOTEBOOK = """
# %% tags=parameters
n = 2
# %%
print(n * 21)
"""


def test_the_page_is_the_render_of_the_final_notebook(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.tracking import MlflowClient
    from nbconvert import HTMLExporter

    from nbops.run.runner import RunSettings, run_notebook

    for key in [k for k in os.environ if k.startswith(("MLFLOW_", "NBOPS_RUN"))]:
        monkeypatch.delenv(key)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps())
    settings = RunSettings(tmp_path, tmp_path / "nbops-runs", "toy")
    outcome = run_notebook(tmp_path / "toy.ipynb", {"n": 3}, settings)
    assert outcome.status == "FINISHED" and outcome.output is not None
    final = outcome.output
    assert final.stem.endswith(outcome.run_id[:8])
    page = final.with_suffix(".html").read_text(encoding="utf-8")
    assert page == HTMLExporter().from_filename(str(final))[0]
    assert f"<title>{final.stem}</title>" in page and ">63<" in page.replace("\n", "")
    client = MlflowClient(tracking_uri=settings.store_uri)
    recorded = {a.path for a in client.list_artifacts(outcome.run_id, "notebook")}
    assert recorded == {f"notebook/{final.name}", f"notebook/{final.stem}.html"}
    environment = {a.path for a in client.list_artifacts(outcome.run_id, "environment")}
    assert environment == {"environment/requirements.txt"}
