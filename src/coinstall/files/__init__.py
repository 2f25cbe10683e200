"""File classifiers: which runtimes can use one file (bytecode, extension module, script,
source, ``.pth``, metadata).  They import only :mod:`coinstall.runtimes`."""
