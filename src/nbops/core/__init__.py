"""The notebook core: model, IPython syntax translation, per-cell symbols, cross-cell data flow.

Pure: depends on the standard library and nbformat only, so every capability can build on it.
"""
