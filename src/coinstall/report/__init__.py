"""Renderers: the only code besides ``cli.py`` that knows the screen or an output format."""
