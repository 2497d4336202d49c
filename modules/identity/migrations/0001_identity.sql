-- Identity: accounts (players and operators), credentials, MFA factors, sign-in throttling,
-- challenges, refresh-token families, password resets and token signing keys.
-- Personal data is only ever stored encrypted (`*_enc`, field-level envelope encryption under the
-- account's own data key) and found through keyed hashes (`*_hash`).

create table identity.accounts (
  id                  uuid primary key,
  kind                text not null check (kind in ('player', 'operator')),
  email_hash          text not null unique check (email_hash ~ '^[0-9a-f]{64}$'),
  email_enc           text not null check (length(email_enc) <= 2000),
  password_hash       text not null check (password_hash like '$argon2id$%'),
  status              text not null default 'active' check (status in ('active', 'suspended', 'closed')),
  created_at          timestamptz not null default clock_timestamp(),
  password_changed_at timestamptz not null default clock_timestamp()
);

create table identity.players (
  account_id        uuid primary key references identity.accounts (id),
  legal_name_enc    text not null check (length(legal_name_enc) <= 2000),
  date_of_birth_enc text not null check (length(date_of_birth_enc) <= 500),
  address_enc       text not null check (length(address_enc) <= 4000),
  -- The jurisdiction the player registered in: routes regulation (age, limits, tax) and is not
  -- identifying on its own, so it stays in clear; the postal address (with its country) is encrypted.
  country           text not null check (country ~ '^[A-Z]{2}$'),
  registered_at     timestamptz not null default clock_timestamp()
);

create table identity.operators (
  account_id       uuid primary key references identity.accounts (id),
  display_name_enc text not null check (length(display_name_enc) <= 2000),
  roles            text[] not null check (cardinality(roles) between 1 and 16),
  -- The audit actor who created it (`operator:<sub>`, possibly of an external issuer); `system` for bootstrap.
  created_by       text not null check (length(created_by) <= 300),
  created_at       timestamptz not null default clock_timestamp()
);

create table identity.mfa_factors (
  id             uuid primary key,
  account_id     uuid not null references identity.accounts (id),
  secret_enc     text not null check (length(secret_enc) <= 500),
  status         text not null check (status in ('pending', 'active')),
  -- The TOTP time step of the last accepted code: codes of that step or earlier are replays.
  last_used_step bigint,
  created_at     timestamptz not null default clock_timestamp(),
  activated_at   timestamptz
);
create unique index mfa_factors_one_active on identity.mfa_factors (account_id) where status = 'active';
create unique index mfa_factors_one_pending on identity.mfa_factors (account_id) where status = 'pending';

-- Keyed by the email's keyed hash whether or not an account has it: locking out reveals nothing.
create table identity.sign_in_throttle (
  key_hash        text primary key check (key_hash ~ '^[0-9a-f]{64}$'),
  -- Attempts not yet followed by a success (counted before the secret is checked).
  failures        int not null default 0 check (failures >= 0),
  locked_until    timestamptz,
  last_attempt_at timestamptz not null
);

-- Cognito-style challenge sessions between a verified password and a verified second factor.
create table identity.challenges (
  id           uuid primary key,
  session_hash text not null unique check (session_hash ~ '^[0-9a-f]{64}$'),
  account_id   uuid not null references identity.accounts (id),
  throttle_key text not null,
  name         text not null check (name in ('MFA_REQUIRED', 'MFA_SETUP_REQUIRED')),
  auth_time    timestamptz not null,
  attempts     int not null default 0,
  expires_at   timestamptz not null,
  completed_at timestamptz
);
create index challenges_expires_at on identity.challenges (expires_at);

-- A family is one sign-in: every rotated refresh token of it shares its amr and auth_time.
create table identity.token_families (
  id             uuid primary key,
  account_id     uuid not null references identity.accounts (id),
  amr            text[] not null,
  auth_time      timestamptz not null,
  created_at     timestamptz not null default clock_timestamp(),
  expires_at     timestamptz not null,
  revoked_at     timestamptz,
  revoked_reason text check (revoked_reason in ('logout', 'reuse-detected', 'password-reset', 'account-inactive'))
);
create index token_families_account_live on identity.token_families (account_id) where revoked_at is null;
create index token_families_expires_at on identity.token_families (expires_at);

create table identity.refresh_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  family_id  uuid not null references identity.token_families (id) on delete cascade,
  issued_at  timestamptz not null default clock_timestamp(),
  used_at    timestamptz
);
create index refresh_tokens_family on identity.refresh_tokens (family_id);

create table identity.password_resets (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  account_id uuid not null references identity.accounts (id),
  created_at timestamptz not null default clock_timestamp(),
  expires_at timestamptz not null,
  used_at    timestamptz
);
create index password_resets_account on identity.password_resets (account_id);

-- Token signing keys: the private half encrypted with the field crypto (master key / KMS).
create table identity.signing_keys (
  kid             text primary key,
  alg             text not null check (alg in ('EdDSA')),
  public_jwk      jsonb not null,
  private_key_enc text not null,
  created_at      timestamptz not null default clock_timestamp(),
  retired_at      timestamptz
);
