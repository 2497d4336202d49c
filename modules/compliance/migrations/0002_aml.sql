-- AML (helper "aml-sanctions", ADR 0011): compliance's own aggregates of payments and sign-in
-- events (no cross-schema reads), versioned rules, and the alerts they raise. Player ids are plain
-- text, as in 0001: ids of other modules' records, never foreign keys across schemas.

-- Deposits that succeeded (payments.deposit-succeeded.v1). EUR value at the static rate in force
-- when the event arrived (AML_FX_RATES_TO_EUR); null when the currency has no rate.
create table compliance.aml_deposits (
  deposit_id       text        primary key check (length(deposit_id) between 1 and 64),
  player_id        text        not null check (length(player_id) between 1 and 64),
  amount_minor     bigint      not null check (amount_minor > 0),
  currency         text        not null check (currency ~ '^[A-Z]{3}$'),
  amount_eur_minor bigint      check (amount_eur_minor >= 0),
  event_id         uuid        not null,
  occurred_at      timestamptz not null
);
create index aml_deposits_player on compliance.aml_deposits (player_id, occurred_at);
create index aml_deposits_time on compliance.aml_deposits (occurred_at);

-- Withdrawals requested (payments.withdrawal-requested.v1).
create table compliance.aml_withdrawals (
  withdrawal_id    text        primary key check (length(withdrawal_id) between 1 and 64),
  player_id        text        not null check (length(player_id) between 1 and 64),
  amount_minor     bigint      not null check (amount_minor > 0),
  currency         text        not null check (currency ~ '^[A-Z]{3}$'),
  amount_eur_minor bigint      check (amount_eur_minor >= 0),
  event_id         uuid        not null,
  occurred_at      timestamptz not null
);
create index aml_withdrawals_player on compliance.aml_withdrawals (player_id, occurred_at);
create index aml_withdrawals_time on compliance.aml_withdrawals (occurred_at);

-- Play: purchase reservations (payments.funds-reserved.v1); a voided or expired one did not count.
create table compliance.aml_purchases (
  transfer_id      text        primary key check (length(transfer_id) between 1 and 64),
  player_id        text        not null check (length(player_id) between 1 and 64),
  amount_minor     bigint      not null check (amount_minor > 0),
  currency         text        not null check (currency ~ '^[A-Z]{3}$'),
  amount_eur_minor bigint      check (amount_eur_minor >= 0),
  cancelled        boolean     not null default false,
  occurred_at      timestamptz not null
);
create index aml_purchases_player on compliance.aml_purchases (player_id, occurred_at) where not cancelled;
-- A void can arrive before its reservation (separate queues): remembered until the reservation comes.
create table compliance.aml_purchase_cancellations (
  transfer_id      text        primary key check (length(transfer_id) between 1 and 64),
  cancelled_at     timestamptz not null
);

-- Sign-ins of players (identity.signed-in.v1): keyed hashes of the IP address and device id only.
create table compliance.aml_sign_ins (
  event_id         uuid        primary key,
  player_id        text        not null check (length(player_id) between 1 and 64),
  ip_hash          text        check (length(ip_hash) <= 128),
  device_hash      text        check (length(device_hash) <= 128),
  occurred_at      timestamptz not null
);
create index aml_sign_ins_device on compliance.aml_sign_ins (device_hash, occurred_at) where device_hash is not null;
create index aml_sign_ins_ip on compliance.aml_sign_ins (ip_hash, occurred_at) where ip_hash is not null;
create index aml_sign_ins_time on compliance.aml_sign_ins (occurred_at);

-- Payment methods reported by payments (recordPaymentMethod): the holder's name is kept encrypted
-- under the player's data key (erasure destroys it); the rule reads only the stored name score.
create table compliance.aml_payment_methods (
  id               uuid        primary key,
  player_id        text        not null check (length(player_id) between 1 and 64),
  provider         text        not null check (length(provider) between 1 and 31),
  method_ref       text        not null check (length(method_ref) between 1 and 255),
  holder_name_enc  text        not null,
  name_score       numeric(4,3) not null check (name_score between 0 and 1),
  algorithm_version text       not null,
  occurred_at      timestamptz not null,
  unique (player_id, provider, method_ref)
);
create index aml_payment_methods_time on compliance.aml_payment_methods (occurred_at);

-- Rule versions: the code of a rule is fixed by (rule_id, logic_version); its parameters live here.
-- A change is a new version; at most one version of a rule is active; nothing is deleted.
create table compliance.aml_rule_versions (
  rule_id          text        not null check (rule_id ~ '^[a-z][a-z0-9-]{1,62}$'),
  version          integer     not null check (version > 0),
  logic_version    integer     not null check (logic_version > 0),
  parameters       jsonb       not null,
  status           text        not null check (status in ('draft', 'active', 'retired')),
  reason           text        not null check (length(reason) between 1 and 1000),
  created_by       text        not null check (length(created_by) <= 200),
  created_at       timestamptz not null default clock_timestamp(),
  activated_by     text        check (length(activated_by) <= 200),
  activated_at     timestamptz,
  retired_at       timestamptz,
  primary key (rule_id, version)
);
create unique index aml_rule_versions_active on compliance.aml_rule_versions (rule_id) where status = 'active';

-- Alerts raised by active rules. The trigger (an event) raises each rule at most once; a rule's
-- dedupe key (player, device…) suppresses repeats within the rule's window.
create table compliance.aml_alerts (
  id               uuid        primary key,
  rule_id          text        not null,
  rule_version     integer     not null,
  logic_version    integer     not null,
  player_id        text        not null check (length(player_id) between 1 and 64),
  dedupe_key       text        not null check (length(dedupe_key) between 1 and 200),
  trigger_ref      text        not null check (length(trigger_ref) between 1 and 200),
  facts            jsonb       not null,
  case_id          text        check (length(case_id) <= 64),
  triggered_at     timestamptz not null,
  created_at       timestamptz not null default clock_timestamp(),
  unique (rule_id, trigger_ref),
  foreign key (rule_id, rule_version) references compliance.aml_rule_versions (rule_id, version)
);
create index aml_alerts_dedupe on compliance.aml_alerts (rule_id, dedupe_key, triggered_at desc);
create index aml_alerts_player on compliance.aml_alerts (player_id, created_at desc);
create index aml_alerts_recent on compliance.aml_alerts (created_at desc, id desc);
