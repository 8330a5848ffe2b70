"""ipywidgets front end of nbops for notebooks without the JupyterLab extension: ``panel()``.

ipywidgets is imported only when a panel is built, so this package imports without it.
"""

from nbops.widgets.panel import Panel, panel

__all__ = ["Panel", "panel"]
