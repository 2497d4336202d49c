-- payments.ledger_run (0004) with its events written by the same statement as the money: one more
-- data-modifying WITH query instead of a statement of its own (one executor start-up and one
-- PL/pgSQL statement less per flush, ~0.1 ms of server time, ADR 0006). 0004 kept them apart because
-- an INSERT of no rows still fired the outbox's NOTIFY trigger; the outbox has had no NOTIFY since
-- the kernel's relay polls (ADR 0003), so a batch without events now writes nothing there either
-- way. The function is otherwise 0004's, restated whole as CREATE OR REPLACE must.

create or replace function payments.ledger_run(p_commands jsonb, p_isolate boolean, p_now timestamptz default null) returns json
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
  ), written_events as (
    -- The events of the commands that created (or expired) a transfer, in command order.
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
     order by o.ordinality
  )
  select json_agg(case when o.refusal is not null then o.refusal::json
                       else json_build_array(o.created, o.id, o.phase, o.kind, o.state, o.amount::text, o.currency, o.debit_account_id,
                                             o.credit_account_id, o.pending_id, o.reverses_id, o.expires_at, o.created_at, o.metadata) end
                  order by o.ordinality)
    into results
    from unnest(dec.outcomes) with ordinality o;
  return json_build_object('r', results, 'a', dec.names);
end;
$$;
