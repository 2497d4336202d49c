-- Compliance core (helper "compliance-core", ADR 0010): the player read model, safer-gambling
-- controls, purchase spend, cases with their history and evidence, holds, legal holds, evidence
-- packages and the evidence signing key. Ids of other modules' records are plain text: no foreign
-- keys across schemas (ARCHITECTURE §2).

-- What compliance knows about a player, fed by events (identity registration, kyc verification) and
-- its own decisions. Eligibility answers from this row and the tables below, in the same request.
create table compliance.players (
  player_id               text        primary key check (length(player_id) between 1 and 64),
  country                 text        check (country ~ '^[A-Z]{2}$'),
  registered_at           timestamptz,
  -- Players start not verified; `kyc.verification-changed.v1` moves this.
  verification_status     text        not null default 'not_started'
                          check (verification_status in ('not_started', 'pending', 'approved', 'rejected_final', 'resubmit', 'manual_review', 'expired')),
  age_verified            boolean     not null default false,
  under_age               boolean     not null default false,
  verification_decided_at timestamptz,
  marketing_suppressed    boolean     not null default false,
  marketing_suppressed_at timestamptz,
  -- National self-exclusion register (GAMSTOP-style): Y excluded, N not, P previously excluded.
  register_status         text        check (register_status in ('Y', 'N', 'P')),
  register_checked_at     timestamptz,
  -- The end of the business relationship: the retention clock starts here.
  closed_at               timestamptz,
  closed_reason           text        check (length(closed_reason) <= 500),
  erased_at               timestamptz,
  created_at              timestamptz not null default clock_timestamp(),
  updated_at              timestamptz not null default clock_timestamp()
);
create index players_retention on compliance.players (closed_at) where closed_at is not null and erased_at is null;
create index players_register_due on compliance.players (register_checked_at nulls first) where erased_at is null and closed_at is null;

-- Self-exclusions are never updated: an extension is a new row ending later.
create table compliance.self_exclusions (
  id          uuid        primary key,
  player_id   text        not null check (length(player_id) between 1 and 64),
  source      text        not null check (source in ('player', 'national-register')),
  months      int         check (months between 6 and 60),
  starts_at   timestamptz not null,
  ends_at     timestamptz not null check (ends_at > starts_at),
  extends_id  uuid        references compliance.self_exclusions (id),
  created_at  timestamptz not null default clock_timestamp()
);
create index self_exclusions_player on compliance.self_exclusions (player_id, ends_at desc);

create table compliance.time_outs (
  id          uuid        primary key,
  player_id   text        not null check (length(player_id) between 1 and 64),
  hours       int         not null check (hours between 24 and 1008),
  starts_at   timestamptz not null,
  ends_at     timestamptz not null check (ends_at > starts_at),
  created_at  timestamptz not null default clock_timestamp()
);
create index time_outs_player on compliance.time_outs (player_id, ends_at desc);

-- Purchase spend limits (rolling windows). A change takes effect at `effective_at`: at once when
-- tighter, 24 hours later when looser (or a removal, amount null). A newer request cancels a pending one.
create table compliance.spend_limit_changes (
  id            uuid        primary key,
  player_id     text        not null check (length(player_id) between 1 and 64),
  currency      text        not null check (currency ~ '^[A-Z]{3}$'),
  period        text        not null check (period in ('daily', 'weekly', 'monthly')),
  amount_minor  bigint      check (amount_minor >= 0),
  requested_at  timestamptz not null,
  effective_at  timestamptz not null,
  cancelled_at  timestamptz
);
create index spend_limit_changes_player on compliance.spend_limit_changes (player_id, currency, period, effective_at desc);

-- Purchase spend, from payments' ledger events (funds reserved → posted | voided | expired). A
-- reserved purchase counts until it is released; the state only moves forward (events may arrive
-- out of order: a post can be seen before its reservation, then the player is filled in later).
create table compliance.purchase_spend (
  transfer_id   text        primary key check (length(transfer_id) between 1 and 128),
  player_id     text        check (length(player_id) between 1 and 64),
  competition_id text       check (length(competition_id) <= 128),
  currency      text        not null check (currency ~ '^[A-Z]{3}$'),
  amount_minor  bigint      not null check (amount_minor >= 0),
  state         text        not null check (state in ('reserved', 'posted', 'released')),
  reserved_at   timestamptz not null,
  updated_at    timestamptz not null default clock_timestamp()
);
create index purchase_spend_player on compliance.purchase_spend (player_id, currency, reserved_at) where state <> 'released';

-- Cases. `due_at`/`reminder_at` are the SLA; `sla_version` changes whenever the timers are
-- rescheduled, so a timer job of an older schedule does nothing.
create table compliance.cases (
  id                uuid        primary key,
  type              text        not null check (type in ('kyc-review', 'aml-alert', 'sanctions-hit', 'payout-exception', 'operator-override', 'complaint')),
  state             text        not null check (state in ('open', 'in_progress', 'pending_second_approval', 'closed')),
  subject           text        not null check (length(subject) between 1 and 200),
  player_id         text        check (length(player_id) between 1 and 64),
  summary           text        not null check (length(summary) between 1 and 500),
  data              jsonb       not null default '{}',
  dedupe_key        text        check (length(dedupe_key) between 1 and 200),
  assignee          text        check (length(assignee) between 1 and 64),
  opened_by         text        not null check (length(opened_by) between 1 and 200),
  outcome           text        check (length(outcome) <= 64),
  decision_reason   text        check (length(decision_reason) <= 2000),
  decided_by        text        check (length(decided_by) <= 64),
  second_approver   text        check (length(second_approver) <= 64),
  decided_at        timestamptz,
  proposed_outcome  text        check (length(proposed_outcome) <= 64),
  proposed_reason   text        check (length(proposed_reason) <= 2000),
  proposed_by       text        check (length(proposed_by) <= 64),
  proposed_at       timestamptz,
  due_at            timestamptz not null,
  reminder_at       timestamptz not null,
  reminded_at       timestamptz,
  escalated_at      timestamptz,
  sla_version       int         not null default 1,
  reopen_count      int         not null default 0,
  closed_at         timestamptz,
  created_at        timestamptz not null default clock_timestamp(),
  updated_at        timestamptz not null default clock_timestamp(),
  check ((state = 'closed') = (closed_at is not null)),
  check ((state = 'pending_second_approval') = (proposed_outcome is not null))
);
-- `Cases.open` returns the open case of the same type and key instead of a second one.
create unique index cases_dedupe on compliance.cases (type, dedupe_key) where state <> 'closed' and dedupe_key is not null;
create index cases_list on compliance.cases (created_at desc, id desc);
create index cases_state on compliance.cases (state, due_at);
create index cases_assignee on compliance.cases (assignee, state);
create index cases_player on compliance.cases (player_id) where player_id is not null;

-- Every action on a case, in order. Append-only; the audit record it produced is kept with it.
create table compliance.case_history (
  seq         bigint      generated always as identity primary key,
  case_id     uuid        not null references compliance.cases (id),
  at          timestamptz not null default clock_timestamp(),
  actor       text        not null check (length(actor) between 1 and 200),
  action      text        not null check (length(action) between 1 and 64),
  from_state  text,
  to_state    text,
  detail      jsonb       not null default '{}',
  -- Free text (notes, reasons) may name people: encrypted under the player's data key when the
  -- case has a player, so erasure makes it unreadable with the rest of their personal data.
  text_enc    text        check (length(text_enc) <= 20000),
  audit       jsonb
);
create index case_history_case on compliance.case_history (case_id, seq);

create function compliance.case_history_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'compliance.case_history is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end;
$$;
create trigger case_history_append_only before update or delete on compliance.case_history
  for each row execute function compliance.case_history_refuse_change();

create table compliance.case_evidence (
  id            uuid        primary key,
  case_id       uuid        not null references compliance.cases (id),
  -- File names often name people: encrypted like the case's free text.
  filename_enc  text        not null check (length(filename_enc) <= 2000),
  content_type  text        not null check (length(content_type) between 1 and 100),
  size_bytes    bigint      not null check (size_bytes >= 0),
  sha256        text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  -- The object store key (the SHA-256 of the stored bytes: of the ciphertext when encrypted).
  object_key    text        not null check (object_key ~ '^[0-9a-f]{64}$'),
  encrypted     boolean     not null,
  added_by      text        not null,
  added_at      timestamptz not null default clock_timestamp()
);
create index case_evidence_case on compliance.case_evidence (case_id, added_at);

-- Copies of the audit records compliance writes about a player (self-exclusion, limits, holds,
-- closure, erasure), so an evidence package carries them without reading the kernel's log; each
-- copy is verifiable against that hash-linked log by its sequence and hash.
create table compliance.audit_copies (
  audit_id    uuid        primary key,
  subject     text        not null check (length(subject) between 1 and 200),
  sequence    bigint      not null,
  record      jsonb       not null
);
create index audit_copies_subject on compliance.audit_copies (subject, sequence);

-- Holds a compliance decision puts on a player. Active while lifted_at is null; one per kind and case.
create table compliance.holds (
  id          uuid        primary key,
  player_id   text        not null check (length(player_id) between 1 and 64),
  kind        text        not null check (kind in ('sanctions', 'investigation', 'payout')),
  case_id     uuid        references compliance.cases (id),
  reason      text        not null check (length(reason) between 1 and 500),
  placed_by   text        not null,
  placed_at   timestamptz not null default clock_timestamp(),
  lifted_by   text,
  lifted_at   timestamptz,
  lift_reason text        check (length(lift_reason) <= 500)
);
create unique index holds_active on compliance.holds (player_id, kind, coalesce(case_id, '00000000-0000-0000-0000-000000000000')) where lifted_at is null;
create index holds_player on compliance.holds (player_id) where lifted_at is null;

-- Legal holds stop retention erasure of a player's records while active.
create table compliance.legal_holds (
  id              uuid        primary key,
  player_id       text        not null check (length(player_id) between 1 and 64),
  reason          text        not null check (length(reason) between 1 and 500),
  placed_by       text        not null,
  placed_at       timestamptz not null default clock_timestamp(),
  released_by     text,
  released_at     timestamptz,
  release_reason  text        check (length(release_reason) <= 500)
);
create index legal_holds_active on compliance.legal_holds (player_id) where released_at is null;

-- The Ed25519 key evidence packages are signed with; the private key is encrypted by field crypto.
create table compliance.signing_keys (
  key_id          text        primary key,
  public_key_pem  text        not null,
  private_key_enc text        not null,
  active          boolean     not null default true,
  created_at      timestamptz not null default clock_timestamp()
);
create unique index signing_keys_one_active on compliance.signing_keys (active) where active;

create table compliance.evidence_packages (
  id              uuid        primary key,
  subject         text        not null check (length(subject) between 1 and 200),
  requested_by    text        not null,
  object_key      text        not null check (object_key ~ '^[0-9a-f]{64}$'),
  encrypted       boolean     not null,
  sha256          text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes      bigint      not null,
  manifest_sha256 text        not null check (manifest_sha256 ~ '^[0-9a-f]{64}$'),
  key_id          text        not null references compliance.signing_keys (key_id),
  signature       text        not null,
  files           int         not null,
  created_at      timestamptz not null default clock_timestamp()
);
create index evidence_packages_subject on compliance.evidence_packages (subject, created_at desc);
