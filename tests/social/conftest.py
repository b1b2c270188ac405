"""Fixtures of the social login tests: the OpenID Connect provider and servers using it."""

from __future__ import annotations

from tests.social.provider import oidc_provider, social_server  # noqa: F401
