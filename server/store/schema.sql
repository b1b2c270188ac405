-- Latchkey store schema, version 1. Statements are separated by ';' lines and are idempotent.
-- One text serves SQLite and PostgreSQL, so only portable types: DOUBLE PRECISION for times
-- (REAL affinity in SQLite, where PostgreSQL's REAL is only single precision), INTEGER 0/1 for
-- flags, and JSON kept as TEXT. Tables added later (rate_events) appear on the next open of an
-- existing database, since every statement is IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL DEFAULT 'normal',
    disabled INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL DEFAULT '{}',
    created_at DOUBLE PRECISION NOT NULL,
    last_login_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS identities (
    provider_type TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (provider_type, id)
);
CREATE INDEX IF NOT EXISTS identities_user ON identities(user_id, position);
CREATE TABLE IF NOT EXISTS userpass_accounts (
    email TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    email_key TEXT
);
-- The normalised address (server/emails.py), one account per address; NULL only for an account
-- that collided with an older one when a store made before this column was migrated
-- (server/store/email_keys.py adds the column to such a store before this file runs).
CREATE UNIQUE INDEX IF NOT EXISTS userpass_email_key ON userpass_accounts(email_key);
CREATE TABLE IF NOT EXISTS userpass_tokens (
    token_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    kind TEXT NOT NULL,
    password_hash TEXT,
    expires_at DOUBLE PRECISION NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS userpass_tokens_email ON userpass_tokens(email);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    api_key_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    UNIQUE (user_id, name)
);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
-- Rate limit events (login failures, login attempts, mails), counted across processes. A row
-- may go once its window has passed (expires_at); the stores purge such rows as they go.
CREATE TABLE IF NOT EXISTS rate_events (
    key TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events(key, at);
CREATE INDEX IF NOT EXISTS rate_events_expiry ON rate_events(expires_at);
-- Admin API keys (server/admin_api): the private key is kept only as its SHA-256; sessions of
-- the Admin API are apart from users' sessions and go with their key.
CREATE TABLE IF NOT EXISTS admin_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS admin_sessions (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES admin_keys(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_sessions_key ON admin_sessions(key_id);
-- Passkeys (issue 14): one row per WebAuthn credential, beside its 'passkey' identity.
CREATE TABLE IF NOT EXISTS passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    transports TEXT NOT NULL DEFAULT '[]',
    aaguid TEXT NOT NULL DEFAULT '',
    backed_up INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL,
    last_used_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys(user_id, created_at);
-- Ceremonies in progress (WebAuthn challenges, logins waiting for a second factor).
CREATE TABLE IF NOT EXISTS auth_challenges (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT,
    challenge TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_challenges_expiry ON auth_challenges(expires_at);
-- Second factors: a TOTP secret per user and its recovery codes (SHA-256 hashes).
CREATE TABLE IF NOT EXISTS totp_factors (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
-- Security events (server/services/audit.py): who did what, when, from where. ``id`` sorts by
-- time (microseconds in hex, then random bits), so paging newest first is by id alone. Rows
-- older than [audit] retention_days are pruned by every server process in the background.
CREATE TABLE IF NOT EXISTS audit_events (
    id TEXT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    provider TEXT,
    address TEXT,
    device_id TEXT,
    reason TEXT,
    actor TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at);
CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events(user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events(kind, at);
-- What a user sees of their sessions beside the sessions row: the provider of the login, the
-- approximate client address (IPv4 /24, IPv6 /48) and when it was last refreshed. Kept apart
-- from ``sessions`` (written after the login, in the audit writer's batch) and without a
-- foreign key, since a session may end before its row is written; rows whose session is gone
-- are pruned with the audit events.
CREATE TABLE IF NOT EXISTS session_info (
    session_id TEXT PRIMARY KEY,
    provider TEXT,
    address TEXT NOT NULL DEFAULT '',
    last_used_at DOUBLE PRECISION NOT NULL
);
