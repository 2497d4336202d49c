-- Withdrawals and payouts (four-eyes approvals), reconciliation runs and finance exceptions.
-- The money itself lives in the ledger (0001): a withdrawal holds its amount with a pending transfer
-- player_wallet → payout_clearing and posts or voids it; these tables hold the workflow around it.

create table payments.withdrawals (
  id                 uuid primary key,
  -- The player's subject (the ledger's wallet owner id).
  player_id          text not null check (length(player_id) between 1 and 128),
  amount_minor       bigint not null check (amount_minor > 0),
  currency           text not null check (currency ~ '^[A-Z]{3}$'),
  -- The PSP that pays it out and where to (the player's verified method at that PSP).
  provider           text not null check (length(provider) between 1 and 40),
  destination        text not null check (length(destination) between 1 and 200),
  status             text not null check (status in (
                       'awaiting_approval', -- held, waiting for finance (four eyes)
                       'approved',          -- held, payout job enqueued
                       'submitting',        -- the PSP request may be in flight
                       'processing',        -- the PSP accepted it and has not paid yet
                       'unknown',           -- no answer (timeout): settled by status query or webhook
                       'paid',              -- hold posted
                       'failed',            -- the PSP refused or failed it: hold voided
                       'rejected',          -- an approver refused it: hold voided
                       'cancelled',         -- the hold expired or was voided before it was sent
                       'reversed')),        -- paid, then returned by the PSP: credited back by a new transfer
  -- `player` (self-service) or `operator` (started by finance for the player).
  requester_kind     text not null check (requester_kind in ('player', 'operator')),
  requester_id       text not null check (length(requester_id) between 1 and 200),
  reason             text check (length(reason) <= 500),
  approvals_required smallint not null check (approvals_required between 0 and 2),
  hold_transfer_id   uuid not null unique,
  psp_payout_id      text check (length(psp_payout_id) <= 200),
  failure_reason     text check (length(failure_reason) <= 500),
  -- Sends to the PSP (always under the idempotency key = id).
  attempts           integer not null default 0 check (attempts >= 0),
  submitted_at       timestamptz,
  -- Ordering of PSP events (webhooks arrive out of order): the newest applied one.
  last_psp_event_at  timestamptz,
  -- When a payout exception (failure after approval, unknown too long) was raised for it.
  exception_at       timestamptz,
  decided_at         timestamptz,
  paid_at            timestamptz,
  closed_at          timestamptz,
  created_at         timestamptz not null default clock_timestamp(),
  updated_at         timestamptz not null default clock_timestamp(),
  check ((status = 'paid') = (paid_at is not null) or status = 'reversed')
);
create index withdrawals_by_player on payments.withdrawals (player_id, created_at desc, id desc);
create index withdrawals_by_status on payments.withdrawals (status, created_at desc, id desc);
-- The sweeper's work list: everything not yet final.
create index withdrawals_open on payments.withdrawals (updated_at)
  where status in ('approved', 'submitting', 'processing', 'unknown');

create table payments.withdrawal_decisions (
  withdrawal_id uuid not null references payments.withdrawals (id),
  operator_id   text not null check (length(operator_id) between 1 and 200),
  decision      text not null check (decision in ('approved', 'rejected')),
  note          text check (length(note) <= 500),
  decided_at    timestamptz not null default clock_timestamp(),
  -- The same operator never counts twice.
  primary key (withdrawal_id, operator_id)
);

create table payments.reconciliation_runs (
  id             uuid primary key,
  trigger        text not null check (trigger in ('scheduled', 'manual')),
  requested_by   text not null check (length(requested_by) <= 300),
  -- The UTC day whose PSP settlement report was compared.
  settlement_day date not null,
  status         text not null check (status in ('running', 'completed', 'failed')),
  report         jsonb,
  discrepancies  integer not null default 0,
  started_at     timestamptz not null default clock_timestamp(),
  finished_at    timestamptz
);
create index reconciliation_runs_recent on payments.reconciliation_runs (started_at desc);

create table payments.finance_exceptions (
  id              uuid primary key,
  kind            text not null check (kind in (
                    'entries-unbalanced', 'balance-mismatch',
                    'settlement-missing', 'settlement-extra', 'settlement-amount-mismatch',
                    'payout-failed', 'payout-unknown', 'payout-returned', 'payout-hold-lost', 'payout-event-mismatch')),
  -- What the discrepancy is about (kind + its subject): the same open discrepancy is raised once.
  fingerprint     text not null check (length(fingerprint) <= 300),
  currency        text check (currency ~ '^[A-Z]{3}$'),
  details         jsonb not null default '{}' check (octet_length(details::text) <= 16384),
  status          text not null default 'open' check (status in ('open', 'resolved')),
  run_id          uuid references payments.reconciliation_runs (id),
  case_id         text check (length(case_id) <= 200),
  detected_at     timestamptz not null default clock_timestamp(),
  resolved_at     timestamptz,
  resolved_by     text check (length(resolved_by) <= 300),
  resolution_note text check (length(resolution_note) <= 2000),
  check ((status = 'resolved') = (resolved_at is not null))
);
create unique index finance_exceptions_open_once on payments.finance_exceptions (fingerprint) where status = 'open';
create index finance_exceptions_list on payments.finance_exceptions (status, detected_at desc, id desc);
