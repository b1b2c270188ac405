"""Running in production: metrics (Prometheus), health checks and JSON log lines.

``middleware.Observe`` times and counts every request and sets the request's client address for
the audit log; ``metrics`` holds the Prometheus metrics and renders ``/metrics``;
``routes`` serves ``/metrics``, ``/health/live`` and ``/health/ready``; ``jsonlog`` formats log
records as one JSON object per line. The audit log itself is a service
(``server.services.audit``). Nothing here imports the routes or services of the API.
"""
