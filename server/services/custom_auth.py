"""Custom authentication: the ``custom-token`` (external JWT) and ``custom-function`` providers.

``custom-token`` verifies a JWT from another issuer with PyJWT: HS256 with a shared secret, or
RS256/ES256 with a PEM public key or the keys at a JWKS URL. Only the configured algorithm is
accepted (so ``alg: none`` and algorithm confusion are refused before any key is tried); ``exp``
and ``sub`` are required, ``nbf`` and ``iat`` are checked when present, ``aud`` when an audience
is configured. ``sub`` becomes the identity id; ``metadata_fields`` copy claims into the profile.

``custom-function`` runs the app's authentication function with the login payload; it returns
the external user's id (a string) or ``{"id": ..., "name": ...}``, and raises to refuse.

Every refusal is 401 ``AuthError`` with the reason, never the token itself. Both providers only
prove an identity; ``users.login_identity`` creates the user at first login. HTTP-free: nothing
here sees a request; ``routes.auth`` reaches these providers through ``providers.prove``.
"""

from __future__ import annotations

from typing import Any

import jwt
from bson import ObjectId

from app.sdk import routes
from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError
from ..nul_text import holds_nul
from ..runtime import FunctionError, FunctionNotFound
from ..settings import CustomTokenSettings, MetadataField
from . import users
from .context import FunctionContext, Services
from .jwks import JwksCache, KeysUnavailable
from .providers import Proof, provider, string_field

MAX_ID = 512
_MISSING = object()
_JWKS = "custom-token:jwks"


def _refused(reason: str) -> ApiError:
    return ApiError(ErrorCode.AUTH_ERROR, 401, f"invalid custom auth token: {reason}")


# PyJWT's exceptions, most specific first, and the reason a client gets for each.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "token is for another audience"),
    (jwt.MissingRequiredClaimError, "token lacks a required claim"),
    (jwt.InvalidSignatureError, "signature verification failed"),
    (jwt.DecodeError, "malformed token"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the '{exc.claim}' claim"
    return next((text for kind, text in _REASONS if isinstance(exc, kind)), "invalid token")


def _jwks(services: Services, cfg: CustomTokenSettings) -> JwksCache:
    cache = services.extras.get(_JWKS)
    if not isinstance(cache, JwksCache):
        cache = JwksCache(cfg.jwks_url, max_age=cfg.jwks_cache_seconds,
                          min_refetch=cfg.jwks_min_refetch_seconds)
        services.extras[_JWKS] = cache
    return cache


async def _candidate_keys(services: Services, cfg: CustomTokenSettings, kid: Any) -> list[Any]:
    if cfg.algorithm == "HS256":
        return list(cfg.signing_keys)
    if cfg.public_key:
        return [cfg.public_key]
    try:
        found = await _jwks(services, cfg).keys_for(kid if isinstance(kid, str) else None)
    except KeysUnavailable as exc:
        raise ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 502,
                       "could not fetch the signing keys of the custom token issuer") from exc
    return [k.key for k in found if k.algorithm_name == cfg.algorithm]


def _decode(token: str, key: Any, cfg: CustomTokenSettings) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=[cfg.algorithm],
        audience=list(cfg.audience) or None, leeway=cfg.leeway_seconds,
        options={"require": ["exp", "sub"], "verify_aud": bool(cfg.audience),
                 "enforce_minimum_key_length": True},
    )
    return claims


async def verify_token(services: Services, token: str) -> dict[str, Any]:
    """The claims of a custom JWT that passes every check, or 401 ``AuthError``."""
    cfg = services.settings.custom_token
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _refused("malformed token") from exc
    if header.get("alg") != cfg.algorithm:
        raise _refused(f"tokens must be signed with {cfg.algorithm}")
    keys = await _candidate_keys(services, cfg, header.get("kid"))
    error: jwt.PyJWTError = jwt.InvalidSignatureError("no key for this token")
    for key in keys:
        try:
            return _decode(token, key, cfg)
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError) as exc:
            error = exc  # Another configured key may match: issuers rotate keys.
        except jwt.PyJWTError as exc:
            raise _refused(_reason(exc)) from exc
    raise _refused(_reason(error)) from error


def _claim(claims: dict[str, Any], path: str) -> Any:
    # A claim named with dots ("https://example.com/roles") wins over a path into nested claims.
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def metadata(claims: dict[str, Any], fields: tuple[MetadataField, ...]) -> dict[str, Any]:
    """The profile data that ``metadata_fields`` copy from a token's claims."""
    data: dict[str, Any] = {}
    for spec in fields:
        value = _claim(claims, spec.name)
        if value is _MISSING or value is None:
            if spec.required:
                raise _refused(f"required metadata field '{spec.name}' is missing")
            continue
        data[spec.field_name] = value
    return data


@provider(routes.CUSTOM_TOKEN)
async def custom_token(services: Services, payload: dict[str, Any], address: str) -> Proof:
    """A verified external JWT: ``sub`` is the identity, metadata fields its profile data."""
    claims = await verify_token(services, string_field(payload, "token"))
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_ID:
        raise _refused("'sub' must be a non-empty string")
    data = metadata(claims, services.settings.custom_token.metadata_fields)
    if holds_nul(subject) or holds_nul(data):
        raise _refused("the token's claims hold a NUL character")
    return Proof(users.make_identity(services, routes.CUSTOM_TOKEN, subject, data))


def _function_refused(reason: str) -> ApiError:
    return ApiError(ErrorCode.AUTH_ERROR, 401, f"custom function authentication failed: {reason}")


def _external_user(result: Any) -> tuple[str, dict[str, Any]]:
    name: Any = None
    if isinstance(result, dict):
        result, name = result.get("id"), result.get("name")
    if isinstance(result, ObjectId):
        result = str(result)
    if not isinstance(result, str) or not result or len(result) > MAX_ID:
        raise _function_refused("the function returned no user id")
    if holds_nul(result) or holds_nul(name):
        raise _function_refused("the function returned a user id or name with a NUL character")
    return result, ({"name": name} if isinstance(name, str) and name else {})


async def _run_auth_function(services: Services, payload: dict[str, Any]) -> Any:
    name = str(services.settings.providers.get(routes.CUSTOM_FUNCTION, {}).get("function_name"))
    context = FunctionContext(services.settings.app_id, None, services)
    try:
        text = await services.functions.call(name, [ejson.to_python(payload)], context,
                                             public=False)
    except FunctionNotFound as exc:
        raise ApiError(ErrorCode.FUNCTION_NOT_FOUND, 404, f"function not found: '{name}'") from exc
    except FunctionError as exc:
        raise _function_refused(str(exc)) from exc
    return ejson.loads(text)


@provider(routes.CUSTOM_FUNCTION)
async def custom_function(services: Services, payload: dict[str, Any], address: str) -> Proof:
    """The app's authentication function names the external user; same id, same user."""
    ident_id, data = _external_user(await _run_auth_function(services, payload))
    return Proof(users.make_identity(services, routes.CUSTOM_FUNCTION, ident_id, data))
