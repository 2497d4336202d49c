-- Draws (ADR 0015): one draw per random-draw competition, its close snapshot, its winners, and the
-- key of the local beacon sandbox. Competitions and tickets are ticketing's: referred to by id only,
-- no foreign keys across schemas (ARCHITECTURE §2).

create table draws.draws (
  draw_id              uuid        primary key,
  competition_id       text        not null unique check (length(competition_id) between 1 and 128),
  state                text        not null default 'pending'
                       check (state in ('pending', 'committed', 'snapshotted', 'drawn', 'settled', 'blocked', 'failed', 'cancelled')),
  title                text        check (length(title) <= 300),
  closes_at            timestamptz not null,
  -- The published competition as ticketing announced it (tiers, prices): the manifest is built from it.
  competition          jsonb       not null,
  -- The manifest exactly as logged (manifest_bytes) and its SHA-256 (hex); set in one statement with the append.
  manifest             jsonb,
  manifest_bytes       bytea,
  manifest_hash        text        check (manifest_hash ~ '^[0-9a-f]{64}$'),
  -- s_op, encrypted with field crypto under `draw:<drawId>` until the result reveals it.
  secret_enc           text        check (length(secret_enc) <= 1000),
  beacon_round         bigint      check (beacon_round > 0),
  -- Log positions and checkpoints: {pendingId, leafHash, index, checkpoint: {size, rootHash, note}}.
  manifest_log         jsonb,
  -- Close snapshot.
  entries_count        integer     check (entries_count >= 0),
  entries_root         text        check (entries_root ~ '^[0-9a-f]{64}$'),
  reconciliation       jsonb,
  snapshot_record      bytea,
  snapshot_log         jsonb,
  blocked_reason       text        check (length(blocked_reason) <= 1000),
  case_id              text        check (length(case_id) <= 64),
  -- Result.
  beacon               jsonb,
  result_record        bytea,
  result_hash          text        check (result_hash ~ '^[0-9a-f]{64}$'),
  result_log           jsonb,
  bundle_key           text        check (bundle_key ~ '^[0-9a-f]{64}$'),
  bundle_sha256        text        check (bundle_sha256 ~ '^[0-9a-f]{64}$'),
  bundle_bytes         bigint      check (bundle_bytes >= 0),
  failure_reason       text        check (length(failure_reason) <= 1000),
  cancel_reason        text        check (length(cancel_reason) <= 500),
  created_at           timestamptz not null default clock_timestamp(),
  committed_at         timestamptz,
  snapshotted_at       timestamptz,
  drawn_at             timestamptz,
  settled_at           timestamptz,
  updated_at           timestamptz not null default clock_timestamp(),
  check (state = 'pending' or state = 'cancelled' or manifest_log ? 'checkpoint'),
  check (state not in ('snapshotted', 'drawn', 'settled') or (entries_root is not null and snapshot_log is not null)),
  check (state not in ('drawn', 'settled') or (result_hash is not null and bundle_key is not null and secret_enc is null))
);
create index draws_state on draws.draws (state, closes_at);

-- The state machine of src/domain/state.ts, held by the database as well.
create function draws.draw_transition_check() returns trigger language plpgsql as $$
declare
  allowed text[];
begin
  if new.state = old.state then
    return new;
  end if;
  allowed := case old.state
    when 'pending'     then array['committed', 'cancelled']
    when 'committed'   then array['snapshotted', 'blocked', 'cancelled']
    when 'blocked'     then array['snapshotted', 'cancelled']
    when 'snapshotted' then array['drawn', 'failed', 'cancelled']
    when 'drawn'       then array['settled']
    when 'failed'      then array['cancelled']
    else array[]::text[]
  end;
  if not (new.state = any(allowed)) then
    raise exception 'draw % cannot move from % to %', old.draw_id, old.state, new.state using errcode = 'check_violation';
  end if;
  new.updated_at := clock_timestamp();
  return new;
end;
$$;
create trigger draws_transition before update on draws.draws
  for each row execute function draws.draw_transition_check();

-- The canonical close snapshot: every valid entry in canonical order (position = index in the tree).
create table draws.entries (
  draw_id     uuid     not null references draws.draws (draw_id),
  position    integer  not null check (position >= 0),
  entry_id    uuid     not null,
  number      bigint   not null check (number >= 0),
  kind        text     not null check (kind in ('paid', 'postal')),
  holder      text     not null check (holder ~ '^[0-9a-f]{64}$'),
  primary key (draw_id, position)
);
create unique index entries_entry on draws.entries (draw_id, entry_id);

-- Complete subtrees of the snapshot tree from level 4 up (every 16 leaves), so an entry's inclusion
-- proof reads O(log n) rows; lower nodes are rehashed from at most 15 neighbouring entries.
create table draws.entry_nodes (
  draw_id  uuid     not null references draws.draws (draw_id),
  level    smallint not null check (level between 1 and 62),
  idx      bigint   not null check (idx >= 0),
  hash     bytea    not null check (length(hash) = 32),
  primary key (draw_id, level, idx)
);

-- The winners in draw order, and what became of each prize.
create table draws.winners (
  draw_id       uuid        not null references draws.draws (draw_id),
  position      integer     not null check (position >= 0),
  tier          integer     not null,
  entry_index   integer     not null check (entry_index >= 0),
  entry_id      uuid        not null,
  number        bigint      not null,
  prize_kind    text        not null check (prize_kind in ('cash', 'fulfilment')),
  cash_minor    bigint      check (cash_minor > 0),
  currency      text        check (currency ~ '^[A-Z]{3}$'),
  state         text        not null default 'pending' check (state in ('pending', 'credited', 'handed-over')),
  transfer_id   uuid,
  handled_at    timestamptz,
  primary key (draw_id, position),
  check (prize_kind <> 'cash' or (cash_minor is not null and currency is not null)),
  check ((state = 'pending') = (handled_at is null))
);
create index winners_pending on draws.winners (draw_id) where state = 'pending';

-- Who bought each ticket, from ticketing.tickets-purchased.v1: a cash prize is credited to the
-- buyer's wallet, and the evidence only ever names a holder commitment. Postal entries have no row.
create table draws.ticket_owners (
  ticket_id       uuid        primary key,
  competition_id  text        not null check (length(competition_id) between 1 and 128),
  player_id       text        not null check (length(player_id) between 1 and 64),
  purchase_id     text        not null check (length(purchase_id) between 1 and 128),
  created_at      timestamptz not null default clock_timestamp()
);
create index ticket_owners_competition on draws.ticket_owners (competition_id);

-- The local beacon sandbox's BLS key (one row): generated at its first start, encrypted with field
-- crypto, never shown. Not used when the drand beacon is configured.
create table draws.beacon_sandbox (
  id            text        primary key check (id = 'default'),
  secret_enc    text        not null check (length(secret_enc) <= 1000),
  public_key    text        not null check (public_key ~ '^[0-9a-f]{192}$'),
  genesis_time  bigint      not null check (genesis_time > 0),
  created_at    timestamptz not null default clock_timestamp()
);
