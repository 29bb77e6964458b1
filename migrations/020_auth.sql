-- The SMART authorization server's own state (SMART App Launch 2.2, RFC 6749/7636/7662/7009/7523).
-- Not clinical data: schema `auth`, used by the connecting role directly (never by request roles).
-- Secrets, codes and tokens are stored as SHA-256 hashes (passwords as scrypt), never in clear.

create schema if not exists auth;
revoke all on schema auth from public;

create table auth.clients (
  tenant        text not null,
  id            text not null,
  secret_hash   text,                -- scrypt of the client secret (confidential symmetric)
  jwks          jsonb,               -- registered JWK Set (confidential asymmetric / backend)
  jwks_url      text,                -- or a JWKS URL fetched at use
  redirect_uris text[] not null default '{}',
  scopes        text not null default '',
  role          text,                -- null: system when keys + system/ scopes, else the user's role
  created_at    timestamptz not null default now(),
  primary key (tenant, id)
);

create table auth.users (
  tenant        text not null,
  id            text not null,       -- stable subject (id_token sub)
  username      text not null,
  password_hash text not null,
  role          text not null check (role in ('clinician','patient','researcher','auditor','admin')),
  fhir_user     text,                -- Patient/ID or Practitioner/ID
  totp_secret   text,
  created_at    timestamptz not null default now(),
  primary key (tenant, id),
  unique (tenant, username)
);

-- Failed sign-ins per (tenant, username): slowed after a few, locked for a while after more.
create table auth.login_attempts (
  tenant       text not null,
  username     text not null,
  failures     integer not null default 0,
  last_failure timestamptz,
  locked_until timestamptz,
  primary key (tenant, username)
);

-- Browser sessions (cookie = random id; the table keeps its hash). 15 minutes idle, then gone.
create table auth.sessions (
  id_hash    text primary key,
  tenant     text not null,
  user_id    text not null,
  created_at timestamptz not null default now(),
  last_seen  timestamptz not null default now()
);

-- Authorization requests between /auth/authorize and the code: the sign-in pages' state.
create table auth.pending (
  id_hash    text primary key,
  tenant     text not null,
  browser    text not null,          -- hash of the browser-binding cookie that started it
  request    jsonb not null,         -- the validated authorize request
  state      jsonb not null default '{}'::jsonb, -- progress: user, patient, federation
  expires_at timestamptz not null
);

-- EHR launch contexts minted by `fhirgate launch` or the launcher page.
create table auth.launch_contexts (
  id_hash    text primary key,
  tenant     text not null,
  patient    text not null,
  encounter  text,
  username   text,
  expires_at timestamptz not null
);

create table auth.codes (
  code_hash  text primary key,
  tenant     text not null,
  client_id  text not null,
  grant_data jsonb not null,          -- what the code will become: scopes, user, patient, PKCE, nonce
  expires_at timestamptz not null,
  used_at    timestamptz,
  grant_id   text                     -- set on exchange, so a replayed code can revoke what it produced
);

-- One grant = one authorization (user + client + scopes); access and refresh tokens hang off it.
create table auth.grants (
  id         text primary key,
  tenant     text not null,
  client_id  text not null,
  data       jsonb not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

create table auth.refresh_tokens (
  token_hash text primary key,
  grant_id   text not null references auth.grants(id) on delete cascade,
  scopes     text not null,
  expires_at timestamptz not null,
  rotated_at timestamptz
);
create index refresh_tokens_grant on auth.refresh_tokens (grant_id);

-- Revoked grant ids and access-token ids, kept until the tokens they cover would have expired.
create table auth.revocations (
  id         text primary key,
  expires_at timestamptz not null
);

-- client_assertion jti values seen (RFC 7523 §3: a jti is used once), until the assertion expires.
create table auth.used_jti (
  client_id  text not null,
  jti        text not null,
  expires_at timestamptz not null,
  primary key (client_id, jti)
);

-- Signing keys: `current` signs, `previous` is still published in the JWKS, `retired` is not.
create table auth.signing_keys (
  kid         text primary key,
  alg         text not null,
  private_jwk jsonb not null,
  public_jwk  jsonb not null,
  status      text not null check (status in ('current','previous','retired')),
  created_at  timestamptz not null default now()
);
create unique index signing_keys_one_current on auth.signing_keys (status) where status = 'current';
