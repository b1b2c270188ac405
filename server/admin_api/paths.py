"""The Admin API's paths (App Services Admin API v3.0, under ``/api/admin/v3.0``), as templates.

The server builds its routes from these and the OpenAPI table documents them from these, so the
two cannot drift; an admin console imports them too. Standard library only. Path parameters are
``{group_id}``, ``{app_object_id}`` (the app's ``_id``, not its client App ID), ``{user_id}``,
``{key_id}`` and ``{email}``; ``fill`` puts values in, quoted.
"""

from __future__ import annotations

from urllib.parse import quote

ADMIN_PREFIX = "/api/admin/v3.0"
#: The provider App Services' CLI logs in with: a programmatic API key pair.
LOGIN = f"{ADMIN_PREFIX}/auth/providers/mongodb-cloud/login"
SESSION = f"{ADMIN_PREFIX}/auth/session"
PROFILE = f"{ADMIN_PREFIX}/auth/profile"
APPS = f"{ADMIN_PREFIX}/groups/{{group_id}}/apps"
APP = f"{APPS}/{{app_object_id}}"
USERS = f"{APP}/users"
#: Latchkey's own: users by email prefix or id.
USER_SEARCH = f"{USERS}/search"
USER = f"{USERS}/{{user_id}}"
USER_ENABLE = f"{USER}/enable"
USER_DISABLE = f"{USER}/disable"
USER_LOGOUT = f"{USER}/logout"
USER_DEVICES = f"{USER}/devices"
#: Latchkey's own: one user's custom user data.
USER_CUSTOM_DATA = f"{USER}/custom_data"
#: Latchkey's own: one user's API keys.
USER_API_KEYS = f"{USER}/api_keys"
USER_API_KEY = f"{USER_API_KEYS}/{{key_id}}"
USER_API_KEY_ENABLE = f"{USER_API_KEY}/enable"
USER_API_KEY_DISABLE = f"{USER_API_KEY}/disable"
#: Latchkey's own: one user's second factors (DELETE removes its authenticator and recovery
#: codes, as ``serve.py users reset-factors`` does).
USER_FACTORS = f"{USER}/factors"
PENDING_USERS = f"{APP}/user_registrations/pending_users"
BY_EMAIL = f"{APP}/user_registrations/by_email/{{email}}"
BY_EMAIL_CONFIRM = f"{BY_EMAIL}/confirm"
BY_EMAIL_RUN_CONFIRM = f"{BY_EMAIL}/run_confirm"
#: The app's API keys (App Services' server keys): what ``appservices users create --type
#: api-key`` makes.
API_KEYS = f"{APP}/api_keys"
API_KEY = f"{API_KEYS}/{{key_id}}"
API_KEY_ENABLE = f"{API_KEY}/enable"
API_KEY_DISABLE = f"{API_KEY}/disable"


def fill(template: str, **values: str) -> str:
    """A path with its parameters filled in, each quoted as one segment.

    ```python
    fill(USER, group_id=g, app_object_id=a, user_id=u)
    ```
    """
    return template.format(**{name: quote(value, safe="@") for name, value in values.items()})
#: Latchkey's own: the audit log, and its counts for the console's charts.
AUDIT_LOG = f"{APP}/audit_log"
AUDIT_STATS = f"{AUDIT_LOG}/stats"
