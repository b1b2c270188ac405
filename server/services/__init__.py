"""Services: the server's logic, free of HTTP. They see settings, a ``Store`` and plain values."""
