"""The Admin API's paths the console calls, as ``server/admin_api/paths.py`` spells them.

The browser gets only ``app/``, so the console keeps its own copy; ``tests/sdk/test_console.py``
checks that each template equals the server's, so they cannot drift. Standard library only.
"""

from __future__ import annotations

from urllib.parse import quote

ADMIN_PREFIX = "/api/admin/v3.0"
LOGIN = f"{ADMIN_PREFIX}/auth/providers/mongodb-cloud/login"
SESSION = f"{ADMIN_PREFIX}/auth/session"
PROFILE = f"{ADMIN_PREFIX}/auth/profile"
APPS = f"{ADMIN_PREFIX}/groups/{{group_id}}/apps"
APP = f"{APPS}/{{app_object_id}}"
USERS = f"{APP}/users"
USER_SEARCH = f"{USERS}/search"
USER = f"{USERS}/{{user_id}}"
USER_ENABLE = f"{USER}/enable"
USER_DISABLE = f"{USER}/disable"
USER_LOGOUT = f"{USER}/logout"
USER_DEVICES = f"{USER}/devices"
USER_CUSTOM_DATA = f"{USER}/custom_data"
USER_API_KEYS = f"{USER}/api_keys"
#: Latchkey's addition: DELETE removes a user's authenticator and recovery codes.
USER_FACTORS = f"{USER}/factors"
PENDING_USERS = f"{APP}/user_registrations/pending_users"
BY_EMAIL = f"{APP}/user_registrations/by_email/{{email}}"
BY_EMAIL_CONFIRM = f"{BY_EMAIL}/confirm"
BY_EMAIL_RUN_CONFIRM = f"{BY_EMAIL}/run_confirm"
#: The audit log (Latchkey's addition); a server without it answers 404 and the console hides
#: what it would show.
AUDIT_LOG = f"{APP}/audit_log"
AUDIT_STATS = f"{AUDIT_LOG}/stats"

#: The names above that are the server's too (``AUDIT_*`` may be missing on an older server).
SHARED = ("LOGIN", "SESSION", "PROFILE", "APPS", "APP", "USERS", "USER_SEARCH", "USER",
          "USER_ENABLE", "USER_DISABLE", "USER_LOGOUT", "USER_DEVICES", "USER_CUSTOM_DATA",
          "USER_API_KEYS", "USER_FACTORS", "PENDING_USERS", "BY_EMAIL", "BY_EMAIL_CONFIRM",
          "BY_EMAIL_RUN_CONFIRM", "AUDIT_LOG", "AUDIT_STATS")


def fill(template: str, **values: str) -> str:
    """A path with its parameters filled in, each quoted as one segment."""
    return template.format(**{name: quote(value, safe="@") for name, value in values.items()})
