"""coinstall: know every Python runtime, check packages for parallel installability, plan
transitions, share packages.

:data:`__version__` is the one place of the version: the build writes it into the package
metadata (pyproject.toml, ``[tool.setuptools.dynamic]``) and ``coinstall --version`` prints it
(:mod:`coinstall.__main__`).
"""

__version__ = "0.1.0"
