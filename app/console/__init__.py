"""The admin console (``admin.html``): Python in the browser over the Admin API v3.0.

``client`` talks to the Admin API (admin key login, tokens in ``sessionStorage``, refresh once
on 401); ``paths`` holds its paths; ``listing`` the users table's paging state; ``chart`` draws
the audit log's counts as SVG; ``view`` renders; ``main`` is the page's entry point. Only
``view`` and ``main`` touch the page; the rest runs under CPython too, and is tested there.
"""
