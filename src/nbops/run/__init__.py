"""Run notebooks and generated pipelines with parameters (papermill)."""
