-- Web console sessions (SPEC §9): an API token exchanged for a cookie. Only the SHA-256 of
-- the session secret is stored; a session ends at its expiry, at sign-out, or with its token.
CREATE TABLE console_sessions (
    id_hash    bytea PRIMARY KEY,
    token_id   uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (octet_length(id_hash) = 32),
    CHECK (expires_at > created_at)
);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
