-- Operator lifecycle and key rotation: temporary passwords (set by an admin, changed at first
-- sign-in through NEW_PASSWORD_REQUIRED), disabled operators, multi-step sign-in challenges, and
-- signing keys that are superseded, still published while their tokens live, then retired.

-- Null: a permanent password. Set: a temporary one, refused after this time.
alter table identity.accounts add column password_expires_at timestamptz;
alter table identity.accounts drop constraint accounts_status_check;
alter table identity.accounts add constraint accounts_status_check check (status in ('active', 'suspended', 'closed', 'disabled'));

alter table identity.challenges drop constraint challenges_name_check;
alter table identity.challenges add constraint challenges_name_check check (name in ('MFA_REQUIRED', 'MFA_SETUP_REQUIRED', 'NEW_PASSWORD_REQUIRED'));
-- A sign-in of several steps: true once a TOTP code was verified in it, so its tokens carry `otp`.
alter table identity.challenges add column mfa_verified boolean not null default false;
create index challenges_account_open on identity.challenges (account_id) where completed_at is null;

alter table identity.token_families drop constraint token_families_revoked_reason_check;
alter table identity.token_families add constraint token_families_revoked_reason_check check (revoked_reason in (
  'logout', 'reuse-detected', 'password-reset', 'account-inactive', 'account-disabled', 'mfa-reset', 'password-reissued'
));

-- When a newer key took over signing. Null for the one current key.
alter table identity.signing_keys add column superseded_at timestamptz;
create unique index signing_keys_one_current on identity.signing_keys ((true)) where superseded_at is null and retired_at is null;
