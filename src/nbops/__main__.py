"""``python -m nbops``: the same as the ``nbops`` command."""

from nbops.cli.main import run

if __name__ == "__main__":
    run()
