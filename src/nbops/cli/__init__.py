"""The command-line front: argument parsing and rendering only, over the capabilities."""
