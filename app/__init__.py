"""Latchkey's browser-side Python: the SDK (``app.sdk``) and the page (``app.main``, ``app.ui``)."""
