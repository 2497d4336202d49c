-- Set-based ledger batches, one statement per flush (ADR 0006, "Revision 2"). 0001 is unchanged;
-- this adds payments.ledger_run, which the TypeScript side now calls, and replaces two of 0001's checks
-- by cheaper ones that prove the same things.
--
-- A batch of plain commands (transfer, reserve, post, void, expire; each id and each pending id once,
-- every account already known) runs as a fixed number of statements whatever its size: one reads the
-- commands with their accounts and any transfer already holding their id, one locks the accounts in id
-- order, one locks the holds to resolve, then one statement writes the balances that moved, the holds'
-- states, the new transfers and their entries, and one more the events. What each command decides
-- (insufficient funds, not pending, expired, …) is computed in memory, in command order, from the
-- balances read under the locks, so several commands on one wallet see each other exactly as when they
-- ran one by one. Every other batch runs through 0001's payments.ledger_apply, command by command,
-- unchanged: isolated batches (a caller's transaction, a batch being retried), refunds, first use of an
-- account, an id or a pending id named twice (order-dependent outcomes the serial code decides). Both
-- paths end in the same events and results.
--
-- The invariants stay in the database (row triggers, the statement checks on entries and transfers,
-- the keys) and hold whichever path wrote the rows.

-- ───────────────────────────── Referential checks, per statement ─────────────────────────────
-- A transfer's accounts (in its currency) and the transfers it resolves or gives back must exist. 0001
-- said so with four foreign keys, each checked by a query per inserted row (~15 % of the server time of
-- a purchase, ADR 0006). One check per INSERT statement over all its rows proves the same; the rows it
-- points at can never go away or change key (accounts_no_delete, accounts_identity_fixed,
-- transfers_no_delete, transfers_immutable), which is all the foreign keys' row locks were guarding.
alter table payments.transfers
  drop constraint transfers_debit_account,
  drop constraint transfers_credit_account,
  drop constraint transfers_pending_id_fkey,
  drop constraint transfers_reverses_id_fkey;

-- Scalar subqueries with `limit 1`: one primary-key probe per row, never a join the planner could turn
-- into a scan of the whole table (PL/pgSQL keeps a plan for the session, made on whatever the table
-- looked like then).
-- Each distinct account and transfer named once: a batch of purchases names one house shard many times.
create function payments.transfers_check_references() returns trigger language plpgsql as $$
declare
  bad text;
begin
  select r.what into bad
    from (select distinct 'account ' || n.debit_account_id || ' in ' || n.currency as what, n.debit_account_id as account_id, n.currency::text as currency,
                 null::uuid as transfer_id
            from new_transfers n
          union
          select 'account ' || n.credit_account_id || ' in ' || n.currency, n.credit_account_id, n.currency, null from new_transfers n
          union
          select 'transfer ' || x.id, null, null, x.id
            from new_transfers n cross join lateral (values (n.pending_id), (n.reverses_id)) x(id) where x.id is not null) r
   where case when r.transfer_id is null
              then (select a.currency from payments.accounts a where a.id = r.account_id limit 1) is distinct from r.currency
              else (select t.id from payments.transfers t where t.id = r.transfer_id limit 1) is null end
   limit 1;
  if found then
    raise exception 'insert on table "transfers" violates foreign key constraint "transfers_references"'
      using errcode = 'foreign_key_violation', constraint = 'transfers_references', table = 'transfers', schema = 'payments',
            detail = format('No %s: a transfer names an account (in its currency) or a transfer that does not exist.', bad);
  end if;
  return null;
end;
$$;
create trigger transfers_references after insert on payments.transfers
  referencing new table as new_transfers for each statement execute function payments.transfers_check_references();
alter table payments.transfers enable always trigger transfers_references;

-- The proof of 0001's entries_balanced, unchanged in what it proves, with lookups the planner cannot
-- turn into scans: 0001's join, planned on a young table (a fresh database, the first batches after a
-- restart) and kept for the session, was a hash join over every transfer, a third of the server's time
-- per purchase in the bench. A lateral subquery with `limit 1` is never flattened into a join.
create or replace function payments.entries_assert_balanced() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select n.transfer_id, s.total into bad
    from (select distinct transfer_id from new_entries) n
    left join lateral (select t.phase, t.currency, t.amount, t.debit_account_id, t.credit_account_id
                         from payments.transfers t where t.id = n.transfer_id limit 1) t on true
    cross join lateral (
      select count(*) as legs, coalesce(sum(e.amount), 0) as total,
             count(*) filter (where e.currency = t.currency
                                and ((e.account_id = t.debit_account_id and e.amount = -t.amount)
                                  or (e.account_id = t.credit_account_id and e.amount = t.amount))) as own
        from payments.entries e where e.transfer_id = n.transfer_id) s
   -- t.phase is never null in the table: null here means the transfer does not exist.
   where s.total <> 0 or t.phase is null or t.phase not in ('single', 'post') or s.legs <> 2 or s.own <> 2
   order by s.total = 0
   limit 1;
  if not found then
    return null;
  end if;
  if bad.total <> 0 then
    raise exception 'entries of transfer % do not sum to zero (sum %)', bad.transfer_id, bad.total
      using errcode = 'check_violation', constraint = 'entries_balanced';
  end if;
  raise exception 'entries of transfer % are not its debit and credit legs', bad.transfer_id
    using errcode = 'check_violation', constraint = 'entries_balanced';
end;
$$;

-- ───────────────────────────── Batches ─────────────────────────────

-- What one command of a batch comes to: the transfer its result shows (new, already there, or the hold
-- it expired), or its refusal ({ok: false, code, …} as payments.ledger_err builds it).
create type payments.ledger_outcome as (
  id uuid, phase text, kind text, state text, amount bigint, currency text,
  debit_account_id bigint, credit_account_id bigint, pending_id uuid, reverses_id uuid,
  expires_at timestamptz, created_at timestamptz, metadata jsonb, input_hash bytea,
  -- A row to insert into payments.transfers (and its entries when it is posted).
  is_new boolean,
  -- The command created (or expired) this transfer: its event is due.
  created boolean,
  refusal jsonb,
  -- The command's event draft (see ledger_run), if it has one.
  event jsonb
);

-- What a batch writes: its outcomes, the sums it adds to each account's counters (posted/pending ×
-- debits/credits, same index as acc_ids; `moved` lists the accounts whose sums are not all zero), the
-- holds it resolves with their new states, the names of its accounts for the caller, and whether
-- any event is due.
create type payments.ledger_decision as (
  outcomes payments.ledger_outcome[],
  acc_ids bigint[], dpd bigint[], dpc bigint[], dqd bigint[], dqc bigint[], moved bigint[],
  held_ids uuid[], held_states text[],
  names json,
  -- A command that created a transfer has an event draft: the outbox gets rows (and its NOTIFY).
  events_due boolean
);

create function payments.ledger_shown(t payments.transfers, created boolean, event jsonb) returns payments.ledger_outcome
language plpgsql immutable as $$
begin
  return row(t.id, t.phase, t.kind, t.state, t.amount, t.currency, t.debit_account_id, t.credit_account_id, t.pending_id, t.reverses_id,
             t.expires_at, t.created_at, t.metadata, t.input_hash, false, created, null, event)::payments.ledger_outcome;
end;
$$;

create function payments.ledger_refused(code text, extra jsonb default '{}') returns payments.ledger_outcome
language plpgsql immutable as $$
begin
  return row(null, null, null, null, null, null, null, null, null, null, null, null, null, null, false, false,
             payments.ledger_err(code, extra), null)::payments.ledger_outcome;
end;
$$;

-- The set-based path up to the writes; null when the batch is not one it takes (ledger_run then runs
-- 0001's ledger_apply).
create function payments.ledger_batch(p_commands jsonb, p_now timestamptz) returns payments.ledger_decision
language plpgsql as $$
declare
  -- The commands, one array per field (index = position in the batch).
  ops text[]; ids uuid[]; hashes text[]; kinds text[]; amounts bigint[]; currencies text[]; timeouts int[];
  pending_ids uuid[]; metadatas jsonb[]; events jsonb[]; debit_ids bigint[]; credit_ids bigint[];
  -- The transfer that already has the command's id (a retry), else null.
  existing payments.transfers[];
  plain boolean;
  acc_ids bigint[]; acc_wallet boolean[]; acc_avail bigint[]; names json;
  pend_ids uuid[]; pend payments.transfers[];
  decision payments.ledger_decision;
begin
  -- 1. The commands, their accounts (by key, or those of the hold they resolve) and any transfer
  --    already under their id. `limit 1` keeps each lateral lookup an indexed probe per command: without
  --    it the planner flattens them into hash joins over whole tables. (The scan WITH ORDINALITY is
  --    ordered by c.n, so the aggregates' ORDER BY costs no sort.)
  select array_agg(c.op order by c.n), array_agg(c.id order by c.n), array_agg(c.hash order by c.n), array_agg(c.kind order by c.n),
         array_agg(c.amount order by c.n), array_agg(c.currency order by c.n), array_agg(c.timeout_s order by c.n),
         array_agg(c.pending_id order by c.n), array_agg(coalesce(c.metadata, '{}') order by c.n), array_agg(c.ev order by c.n),
         array_agg(coalesce(da.id, pa.debit_account_id) order by c.n), array_agg(coalesce(ca.id, pa.credit_account_id) order by c.n),
         array_agg(x.t order by c.n),
         bool_and(c.op in ('transfer', 'reserve', 'post', 'void', 'expire') and (c.debit is null or (da.id is not null and ca.id is not null)))
    into ops, ids, hashes, kinds, amounts, currencies, timeouts, pending_ids, metadatas, events, debit_ids, credit_ids, existing, plain
    from rows from (jsonb_to_recordset(p_commands) as (op text, id uuid, hash text, kind text, amount bigint, currency text, debit jsonb,
                                                       credit jsonb, timeout_s int, pending_id uuid, metadata jsonb, ev jsonb)) with ordinality
         as c(op, id, hash, kind, amount, currency, debit, credit, timeout_s, pending_id, metadata, ev, n)
    left join lateral (select a.id from payments.accounts a
                        where a.type = c.debit->>'type' and a.owner_id = c.debit->>'owner' and a.currency = c.debit->>'currency'
                          and a.shard = (c.debit->>'shard')::smallint limit 1) da on c.debit is not null
    left join lateral (select a.id from payments.accounts a
                        where a.type = c.credit->>'type' and a.owner_id = c.credit->>'owner' and a.currency = c.credit->>'currency'
                          and a.shard = (c.credit->>'shard')::smallint limit 1) ca on c.credit is not null
    left join lateral (select t from payments.transfers t where t.id = c.id limit 1) x on c.id is not null
    left join lateral (select p.debit_account_id, p.credit_account_id from payments.transfers p where p.id = c.pending_id limit 1) pa
           on c.pending_id is not null;
  if not plain then
    return null;
  end if;
  -- An id used twice, a hold resolved twice, or a hold resolved in the batch that creates it: the
  -- outcome depends on the order of the commands, which the serial code decides.
  for i in 1..cardinality(ops) loop
    -- (array_position finds nulls too: expire has no id, transfer and reserve no pending id.)
    if (ids[i] is not null and array_position(ids, ids[i], i + 1) is not null)
       or (pending_ids[i] is not null and (array_position(pending_ids, pending_ids[i], i + 1) is not null
                                           or array_position(ids, pending_ids[i]) is not null)) then
      return null;
    end if;
  end loop;

  -- 2. Every account of the batch, locked in id order (deadlock-free, as in ledger_apply), with what it
  --    has available now: from here until commit no other transaction can move these balances.
  select array_agg(a.id), array_agg(a.type = 'player_wallet'), array_agg(a.posted_credits - a.posted_debits - a.pending_debits),
         json_object_agg(a.id, json_build_array(a.type, a.owner_id))
    into acc_ids, acc_wallet, acc_avail, names
    from (select l.id, l.type, l.owner_id, l.posted_credits, l.posted_debits, l.pending_debits from payments.accounts l
           where l.id = any(array_remove(debit_ids || credit_ids, null)) order by l.id for no key update) a;

  -- 3. The holds to resolve, locked after the accounts (as ledger_resolve does), in id order.
  if array_remove(pending_ids, null) <> '{}' then
    select array_agg(s.id), array_agg(s.p) into pend_ids, pend
      from (select p.id, p from payments.transfers p where p.id = any(array_remove(pending_ids, null)) order by p.id for update) s;
  end if;

  -- 4. Each command in order, in memory.
  decision := payments.ledger_decide(ops, ids, hashes, kinds, amounts, currencies, timeouts, pending_ids, metadatas, events, debit_ids,
                                     credit_ids, existing, acc_ids, acc_wallet, acc_avail, pend_ids, pend, p_now);
  decision.names := names;
  return decision;
end;
$$;

/*
 * Decides every command of a set-based batch in order, from the balances read under the locks: the
 * checks of ledger_existing, ledger_open and ledger_resolve, in their order, with each command seeing
 * the effects of the ones before it. No SQL: ledger_run writes the decision.
 */
create function payments.ledger_decide(
  ops text[], ids uuid[], hashes text[], kinds text[], amounts bigint[], currencies text[], timeouts int[], pending_ids uuid[],
  metadatas jsonb[], events jsonb[], debit_ids bigint[], credit_ids bigint[], existing payments.transfers[],
  acc_ids bigint[], acc_wallet boolean[], acc_avail bigint[], pend_ids uuid[], pend payments.transfers[], now_ timestamptz
) returns payments.ledger_decision language plpgsql as $$
declare
  m int := coalesce(cardinality(acc_ids), 0);
  dpd bigint[] := array_fill(0::bigint, array[m]);
  dpc bigint[] := dpd; dqd bigint[] := dpd; dqc bigint[] := dpd;
  held_ids uuid[] := '{}';
  held_states text[] := '{}';
  outs payments.ledger_outcome[] := '{}';
  moved bigint[] := '{}';
  due boolean := false;
  o payments.ledger_outcome;
  t payments.transfers;
  p payments.transfers;
  d int; k int; j int; amt bigint;
begin
  for i in 1..cardinality(ops) loop
    t := existing[i];
    if ops[i] <> 'expire' and t.id is not null then
      -- A retry: the first result when the input is the same, else a refusal.
      outs[i] := case when t.input_hash = decode(hashes[i], 'hex') then payments.ledger_shown(t, false, null)
                      else payments.ledger_refused('transfer-id-reused') end;
      continue;
    end if;
    if ops[i] in ('transfer', 'reserve') then
      -- The debit side under its floor; the credit side cannot be refused.
      d := array_position(acc_ids, debit_ids[i]);
      k := array_position(acc_ids, credit_ids[i]);
      amt := amounts[i];
      if acc_wallet[d] and acc_avail[d] < amt then
        outs[i] := payments.ledger_refused('insufficient-funds');
        continue;
      end if;
      acc_avail[d] := acc_avail[d] - amt;
      o := row(ids[i], 'single', kinds[i], 'posted', amt, currencies[i], debit_ids[i], credit_ids[i], null, null, null, now_,
               metadatas[i], decode(hashes[i], 'hex'), true, true, null, events[i])::payments.ledger_outcome;
      if ops[i] = 'transfer' then
        dpd[d] := dpd[d] + amt;
        dpc[k] := dpc[k] + amt;
        acc_avail[k] := acc_avail[k] + amt;
      else
        dqd[d] := dqd[d] + amt;
        dqc[k] := dqc[k] + amt;
        o.phase := 'pending';
        o.state := 'pending';
        o.expires_at := now_ + make_interval(secs => timeouts[i]);
      end if;
      outs[i] := o;
      due := due or events[i] is not null;
      continue;
    end if;

    -- post, void, expire.
    j := array_position(pend_ids, pending_ids[i]);
    if j is null then
      outs[i] := payments.ledger_refused('transfer-not-found');
      continue;
    end if;
    p := pend[j];
    if ops[i] = 'expire' then
      if p.state <> 'pending' or p.expires_at > now_ then
        outs[i] := payments.ledger_shown(p, false, null);
        continue;
      end if;
    elsif p.phase <> 'pending' or p.state not in ('pending', 'expired') then
      outs[i] := payments.ledger_refused('transfer-not-pending', jsonb_build_object('state', p.state));
      continue;
    elsif p.state = 'expired' or p.expires_at <= now_ then
      outs[i] := payments.ledger_refused('transfer-expired', jsonb_build_object('expiresAt', p.expires_at));
      continue;
    end if;
    amt := case when ops[i] = 'post' then coalesce(amounts[i], p.amount) else 0 end;
    if amt > p.amount then
      outs[i] := payments.ledger_refused('amount-exceeds-pending', jsonb_build_object('pendingAmountMinor', p.amount::text));
      continue;
    end if;
    -- Releasing a hold and posting at most its amount can only raise what an account has available.
    d := array_position(acc_ids, p.debit_account_id);
    k := array_position(acc_ids, p.credit_account_id);
    if d is null or k is null then
      -- A hold committed by another transaction after step 1 looked for it: its accounts are not
      -- locked. The runner retries a serialization failure as is, and then step 1 finds it.
      raise exception 'ledger batch: hold % appeared after its accounts were locked', p.id using errcode = 'serialization_failure';
    end if;
    dpd[d] := dpd[d] + amt;
    dqd[d] := dqd[d] - p.amount;
    dpc[k] := dpc[k] + amt;
    dqc[k] := dqc[k] - p.amount;
    acc_avail[d] := acc_avail[d] + p.amount - amt;
    acc_avail[k] := acc_avail[k] + amt;
    p.state := case ops[i] when 'post' then 'posted' when 'void' then 'voided' else 'expired' end;
    held_ids := held_ids || p.id;
    held_states := held_states || p.state::text;
    due := due or events[i] is not null;
    if ops[i] = 'expire' then
      outs[i] := payments.ledger_shown(p, true, events[i]);
    else
      outs[i] := row(ids[i], ops[i], p.kind, p.state, case when ops[i] = 'post' then amt else p.amount end, p.currency,
                     p.debit_account_id, p.credit_account_id, p.id, null, null, now_, metadatas[i], decode(hashes[i], 'hex'),
                     true, true, null, events[i])::payments.ledger_outcome;
    end if;
  end loop;
  for x in 1..m loop
    if dpd[x] <> 0 or dpc[x] <> 0 or dqd[x] <> 0 or dqc[x] <> 0 then
      moved := moved || acc_ids[x];
    end if;
  end loop;
  return row(outs, acc_ids, dpd, dpc, dqd, dqc, moved, held_ids, held_states, null, due)::payments.ledger_decision;
end;
$$;

-- The serial path (0001's ledger_apply, command by command, which writes as it goes) as a decision
-- with nothing left to write but the events.
create function payments.ledger_serial(p_commands jsonb, p_isolate boolean, p_now timestamptz) returns payments.ledger_decision
language plpgsql as $$
declare
  outs payments.ledger_outcome[];
  due boolean;
begin
  select array_agg(case when (r->>'ok')::boolean
                        then row((t->>'id')::uuid, t->>'phase', t->>'kind', t->>'state', (t->>'amount')::bigint, t->>'currency',
                                 (t->>'debit_account_id')::bigint, (t->>'credit_account_id')::bigint, (t->>'pending_id')::uuid,
                                 (t->>'reverses_id')::uuid, (t->>'expires_at')::timestamptz, (t->>'created_at')::timestamptz,
                                 t->'metadata', null, false, (r->>'created')::boolean, null, p_commands->(x.n::int - 1)->'ev')::payments.ledger_outcome
                        else payments.ledger_refused(r->>'code', r - 'ok' - 'code') end
                   order by x.n),
         coalesce(bool_or((r->>'created')::boolean and p_commands->(x.n::int - 1) ? 'ev'), false)
    into outs, due
    from jsonb_array_elements(payments.ledger_apply(p_commands, p_isolate, p_now)) with ordinality x(r, n)
   cross join lateral (select r->'transfer' as t) v;
  return row(outs, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', null, due)::payments.ledger_decision;
end;
$$;

/*
 * Runs a batch of commands (the JSON of ledger/commands.ts, each with its event draft `ev`) in the
 * caller's transaction, or as a statement of its own: the whole flush of a batch is then one round trip
 * and one commit (the runner calls it as a named statement, parsed once per connection). Returns {r: [a result per command], a: {account id: [type, owner]} or null}; a result
 * is [created, id, phase, kind, state, amount, currency, debit id, credit id, pending id, reverses id,
 * expires at, created at, metadata] or a refusal {ok: false, code, …}.
 *
 * All the writes of a set-based batch are one statement (data-modifying WITH queries run once each, to
 * completion; the triggers of all of them fire at its end, seeing all of its rows): the balances that
 * moved (the wallet floor trigger re-checks each row), the holds resolved, the new transfers in command
 * order (their seq is the history order) and the entries of every posted movement (one balance proof
 * for the batch). Then the events of the commands that created a transfer. An event draft (ledger/runner.ts)
 * carries the event's id, type, traceparent and the data known before the command ran; `fill` names the
 * data fields copied from the transfer ({id, pending_id, amount, currency, expires_at} → field name):
 * amounts as decimal strings, times as JavaScript's toISOString writes them (UTC, milliseconds).
 *
 * plan_cache_mode: these statements take arrays whose length PL/pgSQL's plan cache cannot know; left to
 * choose, it re-plans them on every call whenever a batch is shorter than the planner's guess of ten
 * elements, which is every batch at low load. The generic plans are the ones wanted anyway (an indexed
 * probe per element), and the setting holds for the functions and triggers the statement calls.
 */
create function payments.ledger_run(p_commands jsonb, p_isolate boolean, p_now timestamptz default null) returns json
language plpgsql set plan_cache_mode = force_generic_plan as $$
declare
  dec payments.ledger_decision;
  now_ timestamptz := coalesce(p_now, now());
  results json;
begin
  if jsonb_array_length(p_commands) = 0 then
    return json_build_object('r', '[]'::json);
  end if;
  if not p_isolate then
    dec := payments.ledger_batch(p_commands, now_);
  end if;
  if dec.outcomes is null then
    dec := payments.ledger_serial(p_commands, p_isolate, p_now);
  end if;

  with moved_balances as (
    update payments.accounts acc
       set posted_debits = acc.posted_debits + dec.dpd[array_position(dec.acc_ids, acc.id)],
           posted_credits = acc.posted_credits + dec.dpc[array_position(dec.acc_ids, acc.id)],
           pending_debits = acc.pending_debits + dec.dqd[array_position(dec.acc_ids, acc.id)],
           pending_credits = acc.pending_credits + dec.dqc[array_position(dec.acc_ids, acc.id)]
     where acc.id = any(dec.moved)
  ), resolved_holds as (
    update payments.transfers hold set state = dec.held_states[array_position(dec.held_ids, hold.id)] where hold.id = any(dec.held_ids)
  ), written_transfers as (
    insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, pending_id, expires_at,
                                    metadata, input_hash, created_at)
    select o.id, o.phase, o.kind, o.state, o.debit_account_id, o.credit_account_id, o.amount, o.currency, o.pending_id, o.expires_at,
           o.metadata, o.input_hash, o.created_at
      from unnest(dec.outcomes) with ordinality o
     where o.is_new
     order by o.ordinality
  ), written_entries as (
    insert into payments.entries (transfer_id, account_id, amount, currency, created_at)
    select o.id, leg.account_id, leg.amount, o.currency, o.created_at
      from unnest(dec.outcomes) o
     cross join lateral (values (o.debit_account_id, -o.amount), (o.credit_account_id, o.amount)) leg(account_id, amount)
     where o.is_new and o.phase in ('single', 'post')
  )
  select json_agg(case when o.refusal is not null then o.refusal::json
                       else json_build_array(o.created, o.id, o.phase, o.kind, o.state, o.amount::text, o.currency, o.debit_account_id,
                                             o.credit_account_id, o.pending_id, o.reverses_id, o.expires_at, o.created_at, o.metadata) end
                  order by o.ordinality)
    into results
    from unnest(dec.outcomes) with ordinality o;
  -- Apart, and only when due: an INSERT of no rows would still fire the outbox's NOTIFY trigger.
  if dec.events_due then
    insert into payments.outbox (id, type, subject, data, traceparent)
    select (o.event->>'id')::uuid, o.event->>'type',
           case o.event->>'subject' when 'id' then o.id::text when 'pending_id' then o.pending_id::text end,
           coalesce(o.event->'data', '{}') || (jsonb_build_object(
             coalesce(o.event->'fill'->>'id', '-'), o.id,
             coalesce(o.event->'fill'->>'pending_id', '-'), o.pending_id,
             coalesce(o.event->'fill'->>'amount', '-'), o.amount::text,
             coalesce(o.event->'fill'->>'currency', '-'), o.currency,
             coalesce(o.event->'fill'->>'expires_at', '-'), to_char(o.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) - '-'),
           o.event->>'tp'
      from unnest(dec.outcomes) with ordinality o
     where o.created and o.event is not null
     order by o.ordinality;
  end if;
  return json_build_object('r', results, 'a', dec.names);
end;
$$;
