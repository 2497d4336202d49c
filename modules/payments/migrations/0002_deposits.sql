-- Deposits, PSP webhook dedupe, deposit limits (helper "psp"; ADR 0007).

-- One card deposit: recorded `pending` (with the limit check, in one transaction) before the PSP is
-- called with the deposit id as idempotency key; moved forward by the PSP's answer, its webhooks
-- and the status-query job. Status order: pending | unknown → requires_action → processing → one of
-- succeeded, failed, refused_credit_card.
create table payments.deposits (
  deposit_id       uuid primary key,
  player_id        uuid not null,
  -- The client's Idempotency-Key: a retry of the command finds this deposit (ADR 0007 explains why
  -- deposits keep their own key instead of the kernel's wrapper).
  idempotency_key  text not null check (length(idempotency_key) between 8 and 255),
  request_hash     text not null check (length(request_hash) = 64),
  provider         text not null check (length(provider) between 1 and 31),
  amount_minor     bigint not null check (amount_minor > 0),
  currency         text not null check (currency ~ '^[A-Z]{3}$'),
  -- Sandbox test card number or PSP payment-method token (never a real card number).
  payment_method   text check (length(payment_method) <= 100),
  status           text not null default 'pending'
                   check (status in ('pending', 'unknown', 'requires_action', 'processing', 'succeeded', 'failed', 'refused_credit_card')),
  psp_payment_id   text check (length(psp_payment_id) <= 255),
  action_url       text check (length(action_url) <= 2048),
  funding_type     text check (funding_type in ('debit', 'credit', 'prepaid', 'bank_transfer', 'unknown')),
  failure_reason   text check (length(failure_reason) <= 200),
  -- Refund of a payment we refused (credit card): the money goes back to the card.
  refund_status    text check (refund_status in ('requested', 'pending', 'succeeded', 'failed')),
  psp_refund_id    text check (length(psp_refund_id) <= 255),
  last_event_at    timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  settled_at       timestamptz,
  unique (player_id, idempotency_key)
);

create unique index deposits_psp_payment on payments.deposits (provider, psp_payment_id) where psp_payment_id is not null;
-- Deposit limits sum a player's recent deposits that count: everything not failed or refused.
create index deposits_counted on payments.deposits (player_id, currency, created_at)
  include (amount_minor)
  where status in ('pending', 'unknown', 'requires_action', 'processing', 'succeeded');
create index deposits_player_recent on payments.deposits (player_id, created_at desc);
-- The status-query job and operators look for deposits that have not settled.
create index deposits_open on payments.deposits (created_at) where status in ('pending', 'unknown', 'requires_action', 'processing');

-- Money moved on these outcomes (a wallet credit, or a refund owed): they are final in the database
-- itself, whatever the code does. A `failed` deposit may still succeed: the PSP's word that money
-- arrived beats our own inference (a timeout, an abandoned challenge).
create function payments.deposit_status_forward_only() returns trigger language plpgsql as $$
begin
  if old.status in ('succeeded', 'refused_credit_card') and new.status is distinct from old.status then
    raise exception 'deposit % is %, which is final (wanted %)', old.deposit_id, old.status, new.status
      using errcode = 'check_violation';
  end if;
  if new.amount_minor <> old.amount_minor or new.currency <> old.currency or new.player_id <> old.player_id then
    raise exception 'deposit % amount, currency and player never change', old.deposit_id using errcode = 'check_violation';
  end if;
  return new;
end $$;

create trigger deposits_forward_only before update on payments.deposits
  for each row execute function payments.deposit_status_forward_only();

-- Verified PSP webhook events by id: the dedupe row, inserted in the transaction that applies the
-- event, so a duplicate delivery changes nothing.
create table payments.psp_webhook_events (
  provider       text not null check (length(provider) between 1 and 31),
  event_id       text not null check (length(event_id) between 1 and 255),
  event_type     text not null check (length(event_type) <= 64),
  reference      text check (length(reference) <= 255),
  psp_object_id  text check (length(psp_object_id) <= 255),
  occurred_at    timestamptz not null,
  outcome        text not null default 'received' check (length(outcome) <= 32),
  received_at    timestamptz not null default now(),
  primary key (provider, event_id)
);
create index psp_webhook_events_received on payments.psp_webhook_events (received_at);

-- Deposit limits (UK RTS 12). One row per player who has deposited or set a limit: the row every
-- deposit and every limit change of that player locks, so two deposits cannot both slip under a limit.
create table payments.deposit_limit_accounts (
  player_id   uuid primary key,
  created_at  timestamptz not null default now()
);

-- Every change a player asked for, kept: the limit in force at time T is the newest uncancelled
-- change with effective_at <= T. A tighter limit is effective at once, a looser one (or removal,
-- amount null) 24 hours after it was asked for; a newer request cancels a pending one.
create table payments.deposit_limit_changes (
  change_id     bigint generated always as identity primary key,
  player_id     uuid not null references payments.deposit_limit_accounts (player_id),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  period        text not null check (period in ('daily', 'weekly', 'monthly')),
  amount_minor  bigint check (amount_minor >= 0),
  requested_at  timestamptz not null default now(),
  effective_at  timestamptz not null,
  cancelled_at  timestamptz,
  check (effective_at >= requested_at),
  check (cancelled_at is null or cancelled_at >= requested_at)
);
create index deposit_limit_changes_lookup on payments.deposit_limit_changes (player_id, currency, period, effective_at desc, change_id desc)
  where cancelled_at is null;
