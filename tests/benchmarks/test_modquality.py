"""benchmarks/_modquality.py: issue 13's module measures, on small sources of both shapes."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mq() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_modquality", ROOT / "benchmarks" / "_modquality.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_modquality", mod)
    spec.loader.exec_module(mod)
    return mod


def test_literal_constants_read_later(mq: ModuleType) -> None:
    cells = [
        textwrap.dedent(
            """
            SEED = 42  # read later
            DATA = Path("data/sales.csv")
            COLS = ["a", "b"]
            RATE: float = -0.5
            NOTE = None            # not a literal parameter
            ACC = []               # an accumulator
            TOTAL = 0              # rebound below
            LOOKUP = [1, 2]        # changed in place below
            SAME_CELL = 3
            print(SAME_CELL)
            GLOBAL_ONE = 1
            """
        ),
        textwrap.dedent(
            """
            x = SEED + RATE + len(COLS)
            df = read(DATA)
            for TOTAL in range(3):
                pass
            LOOKUP.append(3)
            ACC.append(NOTE)
            def bump():
                global GLOBAL_ONE
                GLOBAL_ONE += 1
            """
        ),
        "%%% not python",
    ]
    assert mq.literal_constants_read_later(cells) == ["SEED", "DATA", "COLS", "RATE"]


def test_analyze_module_today_shape(mq: ModuleType) -> None:
    src = textwrap.dedent(
        '''
        PARAMETERS = {"SEED": 0}

        def loading_the_data_and_looking_at_its_columns_first(show: bool = False):
            """Load.

            Notebook cells 2, 3.
            """
            df = 1
            if show:
                print(df)
            return df, 2, 3

        def step_2(df, show: bool = False):
            return None

        def run():
            a, b, c = loading_the_data_and_looking_at_its_columns_first()
            step_2(a)
        '''
    )
    plan = {"steps": [{"name": "step_2", "cells": [4]}], "parameters": []}
    info = mq.analyze_module(src, None, {"df", "a", "b", "c"})
    steps = {s["name"]: s for s in info["steps"]}
    assert list(steps) == ["loading_the_data_and_looking_at_its_columns_first", "step_2"]
    first = steps["loading_the_data_and_looking_at_its_columns_first"]
    assert (first["returns"], first["one_cell"], first["cells"]) == (3, False, [2, 3])
    assert first["lines"] == 9 and first["code_lines"] == 5
    assert steps["step_2"]["step_n"] and steps["step_2"]["returns"] == 0
    assert info["if_show"] == 1
    assert info["show_params"] == ["loading_the_data_and_looking_at_its_columns_first", "step_2"]
    assert info["identifiers_over_30"] == ["loading_the_data_and_looking_at_its_columns_first"]
    assert mq.proposed_parameters(plan, info) == ["SEED"]
    # with a plan, its steps are the steps (and their cells)
    only = mq.analyze_module(src, plan, set())["steps"]
    assert [(s["name"], s["one_cell"]) for s in only] == [("step_2", True)]


def test_analyze_module_second_generation_shape(mq: ModuleType) -> None:
    src = textwrap.dedent(
        """
        from dataclasses import dataclass
        from dataclasses import dataclass as _nb_dataclass

        @_nb_dataclass(frozen=True)
        class TrainResult:
            model: object
            accuracy: float

        @dataclass(frozen=True)
        class Parameters:
            test_size: float = 0.25

        def train_model(features, target, test_size: float = 0.25) -> TrainResult:
            model = fit(features, target)
            return TrainResult(model, 0.9)

        def run(params: Parameters) -> TrainResult:
            return train_model(load(), None, params.test_size)
        """
    )
    info = mq.analyze_module(src, {"steps": []}, {"features", "target", "model", "load", "fit"})
    (step,) = info["steps"]
    assert step["name"] == "train_model"
    assert (step["returns"], step["returns_dataclass"]) == (1, True)
    assert info["show_params"] == [] and info["if_show"] == 0
    assert info["dataclasses"] == ["Parameters", "TrainResult"]
    assert mq.proposed_parameters({"steps": []}, info) == ["test_size"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """benchmarks/modularize.py, imported as its scripts are run (its folder on sys.path)."""
    # under its own name: `modularize` may already be tests/modularize in sys.modules
    folder = str(ROOT / "benchmarks")
    spec = importlib.util.spec_from_file_location(
        "nbops_bench_modularize", f"{folder}/modularize.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(mod)
    finally:
        if added:
            sys.path.remove(folder)
    return mod


def test_report_keeps_the_baseline_section_of_another_label(bench: ModuleType) -> None:
    def section(label: str, body: str) -> str:
        slug = bench.label_slug(label)
        return (
            "\n".join([bench.ISSUE13_BEGIN.format(slug=slug), f"## {label}", body, "", ""])
            + bench.ISSUE13_END.format(slug=slug)
            + "\n"
        )

    report = bench.splice_issue13("# Report\n\nissue 4\n", section("Baseline", "old"))
    report = bench.splice_issue13(report, section("Issue 13 numbers", "v1"))
    report = bench.splice_issue13(report, section("Issue 13 numbers", "v2"))  # same label: replaced
    assert report.count("## Issue 13 numbers") == 1 and "v2" in report and "v1" not in report
    # a full run rewrites the report from scratch: the baseline comes back, once
    rewritten = bench.keep_issue13_sections(report, "# Report\n\nissue 4, again\n")
    assert rewritten.startswith("# Report\n\nissue 4, again\n")
    assert rewritten.count("## Baseline") == 1 and "old" in rewritten
    assert rewritten.count("## Issue 13 numbers") == 1
