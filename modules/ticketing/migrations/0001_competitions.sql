-- Ticketing (ADR 0014): competitions and their lifecycle, ticket numbers split over shard rows,
-- tickets, purchases (idempotency, the two-phase money steps, recovery), closing-time overrides,
-- free postal entries. Ids of other modules' records (players, transfers, draws) are plain text or
-- uuids: no foreign keys across schemas (ARCHITECTURE §2).

-- ───────────────────────────── Competitions ─────────────────────────────

create table ticketing.competitions (
  id               uuid        primary key,
  state            text        not null default 'draft'
                   check (state in ('draft', 'scheduled', 'on_sale', 'closed', 'drawn', 'settled', 'cancelled')),
  title            text        not null check (length(title) between 1 and 200),
  description      text        check (length(description) <= 4000),
  draw_kind        text        not null check (draw_kind in ('random', 'spot-the-ball')),
  currency         text        not null check (currency ~ '^[A-Z]{3}$'),
  price_minor      bigint      check (price_minor > 0),
  max_tickets      int         check (max_tickets between 1 and 10000000),
  per_player_cap   int         check (per_player_cap >= 1),
  opens_at         timestamptz,
  closes_at        timestamptz,
  -- [{ tier, description, winners, cashMinor?, cashAlternativeMinor? }] (amounts as decimal strings)
  prize_tiers      jsonb       not null default '[]' check (jsonb_typeof(prize_tiers) = 'array'),
  -- { postalAddress, instructions }: how to enter free, shown with the terms
  free_entry       jsonb,
  -- From skill.getTestForCompetition at publish: { testId, kind, summary }
  skill_test       jsonb,
  -- The prize-readiness attestation: { kind: owned|contracted, documentSha256? | externalReference?,
  -- cashAlternativeReservedMinor, attestedBy, attestedAt, notes? } (the assets module's check later)
  prize_readiness  jsonb,
  -- Number range layout and the secret of the lucky-dip permutation (never shown).
  shard_count      int         check (shard_count between 1 and 64),
  lucky_key        bytea       check (length(lucky_key) = 32),
  -- Recorded by the draws module before sales open: { drawId, manifestHash, logIndex, recordedAt }
  draw_manifest    jsonb,
  draw_result      jsonb,
  cancel_reason    text        check (length(cancel_reason) <= 500),
  created_by       text        not null check (length(created_by) <= 200),
  published_by     text,
  cancelled_by     text,
  created_at       timestamptz not null default clock_timestamp(),
  updated_at       timestamptz not null default clock_timestamp(),
  published_at     timestamptz,
  opened_at        timestamptz,
  closed_at        timestamptz,
  drawn_at         timestamptz,
  settled_at       timestamptz,
  cancelled_at     timestamptz,
  check (opens_at is null or closes_at is null or opens_at < closes_at),
  check (per_player_cap is null or max_tickets is null or per_player_cap <= max_tickets)
);
create index competitions_public on ticketing.competitions (id desc) where state <> 'draft';
create index competitions_due_open on ticketing.competitions (opens_at) where state = 'scheduled';
create index competitions_due_close on ticketing.competitions (closes_at) where state = 'on_sale';

-- One row per slice of the number range. A sale locks only its slice's row (the sold counter),
-- so buyers of one hot competition spread over the slices. `selling` and `closes_at` mirror the
-- competition (kept by the trigger below): the purchase transaction reads them from the row it
-- locks, so a cancel or a close waits for sales in flight and later sales see it.
create table ticketing.number_shards (
  competition_id  uuid        not null,
  shard           int         not null,
  lo              int         not null check (lo >= 1),
  capacity        int         not null check (capacity >= 1),
  sold            int         not null default 0,
  -- Lucky dip: the next position in this slice's keyed permutation of its numbers.
  next_slot       int         not null default 0 check (next_slot >= 0),
  selling         boolean     not null default false,
  closes_at       timestamptz not null,
  primary key (competition_id, shard),
  check (sold between 0 and capacity)
) with (fillfactor = 50);

-- Overrides of a published closing time: one operator requests, another approves (with step-up).
create table ticketing.closing_time_overrides (
  id              uuid        primary key,
  competition_id  uuid        not null references ticketing.competitions (id),
  old_closes_at   timestamptz not null,
  new_closes_at   timestamptz not null,
  reason          text        not null check (length(reason) between 3 and 1000),
  state           text        not null default 'requested' check (state in ('requested', 'approved', 'superseded')),
  requested_by    text        not null,
  requested_at    timestamptz not null default clock_timestamp(),
  approved_by     text,
  approved_at     timestamptz,
  -- The transaction that applied it: the competition trigger accepts a new closing time only from it.
  applied_txid    bigint,
  check (state <> 'approved' or (approved_by is not null and approved_by <> requested_by))
);
create index closing_time_overrides_competition on ticketing.closing_time_overrides (competition_id, requested_at desc);

-- The lifecycle, held by the database (src/domain/lifecycle.ts states the same rules for the code):
-- allowed transitions only; publishing needs complete terms; a random draw opens only with its
-- manifest; sales open at opens_at and close at closes_at by database time; published terms never
-- change; a published closing time changes only through an approved override in the same transaction.
create function ticketing.competitions_guard() returns trigger language plpgsql as $$
declare
  now_ts timestamptz := clock_timestamp();
  allowed boolean;
begin
  if tg_op = 'DELETE' then
    raise exception 'competitions are never deleted (cancel instead)' using errcode = 'check_violation', constraint = 'competition_immutable';
  end if;
  if new.state is distinct from old.state then
    allowed := (old.state, new.state) in (
      ('draft', 'scheduled'), ('draft', 'cancelled'),
      ('scheduled', 'on_sale'), ('scheduled', 'cancelled'),
      ('on_sale', 'closed'), ('on_sale', 'cancelled'),
      ('closed', 'drawn'), ('closed', 'cancelled'),
      ('drawn', 'settled'));
    if not allowed then
      raise exception 'competition transition % -> % is not allowed', old.state, new.state using errcode = 'check_violation', constraint = 'competition_transition';
    end if;
    if new.state = 'scheduled' and (new.price_minor is null or new.max_tickets is null or new.per_player_cap is null
        or new.opens_at is null or new.closes_at is null or jsonb_array_length(new.prize_tiers) = 0 or new.free_entry is null
        or new.skill_test is null or new.prize_readiness is null or new.shard_count is null or new.lucky_key is null) then
      raise exception 'a competition is published only with complete terms' using errcode = 'check_violation', constraint = 'competition_terms_complete';
    end if;
    if new.state = 'scheduled' and new.closes_at <= now_ts then
      raise exception 'a competition is published only before its closing time' using errcode = 'check_violation', constraint = 'competition_closes_in_future';
    end if;
    if new.state = 'on_sale' and (now_ts < new.opens_at or now_ts >= new.closes_at) then
      raise exception 'sales open only between opens_at and closes_at' using errcode = 'check_violation', constraint = 'competition_sales_window';
    end if;
    if new.state = 'on_sale' and new.draw_kind = 'random' and new.draw_manifest is null then
      raise exception 'a random-draw competition opens only once its draw manifest is recorded' using errcode = 'check_violation', constraint = 'competition_manifest_required';
    end if;
    if new.state = 'closed' and now_ts < new.closes_at then
      raise exception 'sales close at closes_at, not before' using errcode = 'check_violation', constraint = 'competition_closes_at';
    end if;
  end if;
  if old.state <> 'draft' and (new.title, new.description, new.draw_kind, new.currency, new.price_minor, new.max_tickets, new.per_player_cap,
      new.opens_at, new.prize_tiers, new.free_entry, new.skill_test, new.prize_readiness, new.shard_count, new.lucky_key, new.created_by)
      is distinct from (old.title, old.description, old.draw_kind, old.currency, old.price_minor, old.max_tickets, old.per_player_cap,
      old.opens_at, old.prize_tiers, old.free_entry, old.skill_test, old.prize_readiness, old.shard_count, old.lucky_key, old.created_by) then
    raise exception 'published terms never change' using errcode = 'check_violation', constraint = 'competition_terms_frozen';
  end if;
  if old.state <> 'draft' and new.closes_at is distinct from old.closes_at then
    if old.state not in ('scheduled', 'on_sale') or now_ts >= old.closes_at or new.closes_at <= now_ts
       or not exists (select 1 from ticketing.closing_time_overrides o
                       where o.competition_id = new.id and o.state = 'approved' and o.new_closes_at = new.closes_at
                         and o.applied_txid = txid_current()) then
      raise exception 'a published closing time changes only by an approved override, before it passes' using errcode = 'check_violation', constraint = 'competition_closing_override';
    end if;
  end if;
  if old.draw_manifest is not null and new.draw_manifest is distinct from old.draw_manifest then
    raise exception 'a recorded draw manifest never changes' using errcode = 'check_violation', constraint = 'competition_manifest_frozen';
  end if;
  new.updated_at := now_ts;
  return new;
end;
$$;
create trigger competitions_guard before update or delete on ticketing.competitions
  for each row execute function ticketing.competitions_guard();

-- The shard rows follow their competition: selling only while on sale, the same closing time.
create function ticketing.competitions_mirror() returns trigger language plpgsql as $$
begin
  if new.state is distinct from old.state or new.closes_at is distinct from old.closes_at then
    update ticketing.number_shards set selling = (new.state = 'on_sale'), closes_at = new.closes_at
     where competition_id = new.id;
  end if;
  return null;
end;
$$;
create trigger competitions_mirror after update on ticketing.competitions
  for each row execute function ticketing.competitions_mirror();

-- ───────────────────────────── Purchases and tickets ─────────────────────────────

-- One row per purchase command, keyed by (player, Idempotency-Key): the claim that makes a retry
-- converge, the state of the money steps done outside any transaction of ours, and the answer.
create table ticketing.purchases (
  id               uuid        primary key,
  player_id        text        not null,
  idempotency_key  text        not null,
  request_hash     text        not null,
  competition_id   uuid        not null,
  quantity         int         not null,
  numbers          int[],
  amount_minor     bigint,
  currency         text,
  -- pending → issued → posted; refused (nothing held) | voided (hold released) | refunded (cancelled)
  state            text        not null default 'pending',
  -- The skill-test pass consumed by this purchase: unique, so a token buys once.
  skill_token_id   text,
  -- The wallet reservation's transfer id (derived from the purchase id: retries converge).
  reservation_id   uuid        not null,
  -- The refusal answered: { status, code, title, detail, extensions }.
  problem          jsonb,
  created_at       timestamptz not null default clock_timestamp(),
  issued_at        timestamptz,
  settled_at       timestamptz,
  unique (player_id, idempotency_key)
);
create unique index purchases_skill_token on ticketing.purchases (skill_token_id) where skill_token_id is not null;
create index purchases_unfinished on ticketing.purchases (created_at) where state in ('pending', 'issued');
create index purchases_player_recent on ticketing.purchases (player_id, created_at);
create index purchases_competition on ticketing.purchases (competition_id, state);

create function ticketing.purchases_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    -- Only a claim that never reached the ledger's outcome may go (a retry then starts afresh).
    if old.state <> 'pending' then
      raise exception 'purchases are never deleted' using errcode = 'check_violation', constraint = 'purchase_immutable';
    end if;
    return old;
  end if;
  if new.state is distinct from old.state and not ((old.state, new.state) in (
      ('pending', 'issued'), ('pending', 'refused'), ('pending', 'voided'),
      ('issued', 'posted'), ('issued', 'voided'), ('issued', 'refunded'), ('posted', 'refunded'))) then
    raise exception 'purchase transition % -> % is not allowed', old.state, new.state using errcode = 'check_violation', constraint = 'purchase_transition';
  end if;
  if (new.id, new.player_id, new.idempotency_key, new.request_hash, new.competition_id, new.quantity, new.numbers, new.reservation_id)
      is distinct from (old.id, old.player_id, old.idempotency_key, old.request_hash, old.competition_id, old.quantity, old.numbers, old.reservation_id) then
    raise exception 'a purchase''s request never changes' using errcode = 'check_violation', constraint = 'purchase_request_frozen';
  end if;
  return new;
end;
$$;
create trigger purchases_guard before update or delete on ticketing.purchases
  for each row execute function ticketing.purchases_guard();

-- Tickets a player holds per competition: the per-player cap, one row locked per purchase.
create table ticketing.player_tickets (
  competition_id  uuid not null,
  player_id       text not null,
  tickets         int  not null check (tickets >= 0),
  primary key (competition_id, player_id)
);

-- Entries: paid tickets and valid postal entries, one number each from the same pool (same weight).
create table ticketing.tickets (
  id               uuid        primary key,
  competition_id   uuid        not null,
  number           int         not null,
  kind             text        not null,
  purchase_id      uuid,
  postal_entry_id  uuid,
  player_id        text,
  -- The holder commitment (TICKETING-SKILL-CONTRACT): salt shown to the owner, hash in evidence.
  holder_salt      text        not null,
  holder           text        not null,
  state            text        not null default 'valid',
  issued_at        timestamptz not null,
  voided_at        timestamptz,
  void_reason      text
);
create unique index tickets_number on ticketing.tickets (competition_id, number) where state = 'valid';
create index tickets_purchase on ticketing.tickets (purchase_id) where purchase_id is not null;
create index tickets_player on ticketing.tickets (player_id, id desc) where player_id is not null;

create function ticketing.tickets_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    raise exception 'tickets are never deleted (void instead)' using errcode = 'check_violation', constraint = 'ticket_immutable';
  end if;
  if tg_op = 'INSERT' then
    if new.kind not in ('paid', 'postal') or new.state <> 'valid' or (new.kind = 'paid') <> (new.purchase_id is not null and new.player_id is not null)
       or (new.kind = 'postal') <> (new.postal_entry_id is not null) or new.holder !~ '^[0-9a-f]{64}$' or new.holder_salt !~ '^[0-9a-f]{64}$' then
      raise exception 'ticket shape' using errcode = 'check_violation', constraint = 'ticket_shape';
    end if;
    return new;
  end if;
  -- A ticket changes once: valid → voided, with when and why; nothing else ever changes.
  if old.state <> 'valid' or new.state <> 'voided' or new.voided_at is null or new.void_reason is null
     or (new.id, new.competition_id, new.number, new.kind, new.purchase_id, new.postal_entry_id, new.player_id, new.holder_salt, new.holder, new.issued_at)
        is distinct from (old.id, old.competition_id, old.number, old.kind, old.purchase_id, old.postal_entry_id, old.player_id, old.holder_salt, old.holder, old.issued_at) then
    raise exception 'a ticket only goes from valid to voided' using errcode = 'check_violation', constraint = 'ticket_void_only';
  end if;
  return new;
end;
$$;
create trigger tickets_guard before insert or update or delete on ticketing.tickets
  for each row execute function ticketing.tickets_guard();

-- ───────────────────────────── Free postal entries ─────────────────────────────

create table ticketing.postal_entries (
  id                   uuid        primary key,
  competition_id       uuid        not null references ticketing.competitions (id),
  -- One entry per envelope: the reference written on it when it was opened.
  envelope_ref         text        not null check (length(envelope_ref) between 1 and 100),
  -- Keyed hash of the normalized name + address: finds the same person without reading them.
  person_hash          text        not null,
  -- Encrypted under the entry's own data key (erasure = destroy it).
  name_enc             text        not null,
  address_enc          text        not null,
  answer_correct       boolean     not null,
  question_version_id  text,
  received_at          timestamptz not null,
  status               text        not null check (status in ('valid', 'invalid', 'voided')),
  reason               text        check (reason in ('late', 'early', 'wrong-answer', 'duplicate-person', 'sold-out', 'competition-cancelled')),
  duplicate_of         uuid,
  ticket_id            uuid,
  number               int,
  recorded_by          text        not null,
  recorded_at          timestamptz not null default clock_timestamp(),
  voided_at            timestamptz,
  unique (competition_id, envelope_ref),
  check ((status = 'valid') = (reason is null)),
  check (status <> 'valid' or ticket_id is not null),
  check (status <> 'invalid' or ticket_id is null)
);
create index postal_entries_person on ticketing.postal_entries (competition_id, person_hash);
