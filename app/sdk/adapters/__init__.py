"""Adapters: the runtime-specific ``Transport`` and ``Storage`` implementations.

``browser`` (Pyodide: ``fetch`` and ``localStorage``) is the only SDK module that imports
``js``/``pyodide``; ``native`` (CPython: ``urllib`` in a thread and a JSON file) uses the standard
library. Neither is imported here, so importing the package costs nothing in either runtime.
"""
