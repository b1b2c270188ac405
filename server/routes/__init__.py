"""Thin HTTP endpoints: parse, call one service, answer JSON. Each module lists its ``ROUTES``;
``table.ROUTES`` is all of them, in order.

The package itself imports nothing, so that a module that needs one helper (``routes.common``)
does not import every route, and the Admin API's routes, which use it, can be imported first.
"""
