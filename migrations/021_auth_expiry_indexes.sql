-- Expiry indexes for the authorization server's short-lived rows (020_auth.sql): every clean-up is
-- `delete … where expires_at < now()`, run on the hot path (each client assertion records its jti),
-- so it must be an index range scan, not a scan of every jti of the last five minutes.
create index if not exists used_jti_expires on auth.used_jti (expires_at);
create index if not exists revocations_expires on auth.revocations (expires_at);
create index if not exists codes_expires on auth.codes (expires_at);
create index if not exists pending_expires on auth.pending (expires_at);
create index if not exists launch_contexts_expires on auth.launch_contexts (expires_at);
create index if not exists sessions_last_seen on auth.sessions (last_seen);
