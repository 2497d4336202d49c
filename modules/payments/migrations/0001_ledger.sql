-- The double-entry ledger (ARCHITECTURE §6, ADR 0006). The database holds the invariants, so that
-- no code path (ours, a script, a psql session) can break them:
--   * an account's natural key (type, owner, currency, shard) exists once; accounts are never deleted;
--   * a player wallet never goes below zero, holds included (a row trigger on accounts);
--   * a transfer id exists once, forever; a transfer row never changes, except a pending one whose
--     state becomes posted, voided or expired, once;
--   * entries are never updated or deleted, and the entries of each transfer sum to zero per
--     currency (checked at the end of each INSERT of entries by a statement trigger).
-- Commands run as one call to payments.ledger_apply (a batch of commands, one round trip): the
-- TypeScript side (modules/payments/src/ledger) validates input and maps results to DomainErrors.

-- Rules on single values are domains: a domain's check runs when a value is written, from an
-- expression cached per session, while a table CHECK is re-read from the catalog by every INSERT and
-- UPDATE statement, and these tables take thousands of statements a second (ADR 0006). The rules that
-- tie columns together are BEFORE row triggers for the same reason (transfers_shape, accounts_wallet_floor).
create domain payments.account_type as text
  check (value in ('player_wallet', 'house_sales', 'prize_liability', 'psp_clearing', 'payout_clearing', 'refunds', 'fees', 'house_cash'));
create domain payments.owner_ref as text check (length(value) between 1 and 128);
create domain payments.currency_code as text check (value ~ '^[A-Z]{3}$');
create domain payments.shard_no as smallint check (value between 0 and 255);
create domain payments.sum_minor as bigint check (value >= 0);
create domain payments.amount_minor as bigint check (value > 0);
create domain payments.entry_minor as bigint check (value <> 0);
create domain payments.transfer_phase as text check (value in ('single', 'pending', 'post', 'void'));
create domain payments.transfer_state as text check (value in ('pending', 'posted', 'voided', 'expired'));
create domain payments.transfer_kind as text check (length(value) between 1 and 64);
create domain payments.metadata_object as jsonb check (jsonb_typeof(value) = 'object' and pg_column_size(value) <= 8192);
create domain payments.sha256 as bytea check (octet_length(value) = 32);

create table payments.accounts (
  id              bigint generated always as identity primary key,
  type            payments.account_type not null,
  owner_id        payments.owner_ref not null,
  currency        payments.currency_code not null,
  -- Hot house accounts are split into shard rows (ADR 0006); every other account has shard 0.
  shard           payments.shard_no not null default 0,
  posted_debits   payments.sum_minor not null default 0,
  posted_credits  payments.sum_minor not null default 0,
  pending_debits  payments.sum_minor not null default 0,
  pending_credits payments.sum_minor not null default 0,
  created_at      timestamptz not null default now(),
  constraint accounts_natural_key unique (type, owner_id, currency, shard),
  -- Target of the (account, currency) foreign keys: an entry or transfer cannot name an account of another currency.
  constraint accounts_id_currency unique (id, currency)
  -- The wallet floor is the trigger accounts_wallet_floor (below): a table CHECK is parsed again by every statement.
);

create table payments.transfers (
  id                uuid primary key,
  -- Insertion order, for history pagination (uuids chosen by clients do not sort by time).
  seq               bigint generated always as identity,
  -- single: posted at once; pending: a hold (two-phase); post/void: resolves the pending `pending_id`.
  phase             payments.transfer_phase not null,
  kind              payments.transfer_kind not null,
  state             payments.transfer_state not null,
  debit_account_id  bigint not null,
  credit_account_id bigint not null,
  amount            payments.amount_minor not null,
  currency          payments.currency_code not null,
  pending_id        uuid references payments.transfers (id),
  -- A refund or reversal: the posted transfer it gives back (in part).
  reverses_id       uuid references payments.transfers (id),
  expires_at        timestamptz,
  metadata          payments.metadata_object not null default '{}',
  -- SHA-256 of the command's input: the same id with another input is refused, not replayed.
  input_hash        payments.sha256 not null,
  created_at        timestamptz not null default now(),
  constraint transfers_debit_account foreign key (debit_account_id, currency) references payments.accounts (id, currency),
  constraint transfers_credit_account foreign key (credit_account_id, currency) references payments.accounts (id, currency)
);
-- History of one account, newest first (post/void rows are shown through their pending transfer).
create index transfers_debit_history on payments.transfers (debit_account_id, seq) where pending_id is null;
create index transfers_credit_history on payments.transfers (credit_account_id, seq) where pending_id is null;
create index transfers_resolutions on payments.transfers (pending_id) where pending_id is not null;
create index transfers_reversals on payments.transfers (reverses_id) where reverses_id is not null;
-- The expiry sweep: only holds still pending are in it.
create index transfers_pending_expiry on payments.transfers (expires_at) where state = 'pending';

-- No foreign keys here on purpose: the commit-time check below proves more than they would (each
-- entry belongs to an existing posted transfer and is exactly one of its two legs, whose accounts
-- and currency that transfer's own foreign keys checked) for less than the four key checks a
-- posted transfer would pay.
create table payments.entries (
  transfer_id uuid not null,
  account_id  bigint not null,
  -- Signed, from the account's side: credit +, debit −.
  amount      payments.entry_minor not null,
  currency    payments.currency_code not null,
  created_at  timestamptz not null default now(),
  primary key (transfer_id, account_id)
);
-- Statements and "balance = sum of entries" for one account.
create index entries_by_account on payments.entries (account_id);

-- ───────────────────────────── Invariant triggers ─────────────────────────────

create function payments.refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% of payments.% is not allowed: the ledger is append-only; correct with a new transfer', tg_op, tg_table_name
    using errcode = 'integrity_constraint_violation';
end;
$$;

create trigger entries_immutable before update or delete on payments.entries
  for each statement execute function payments.refuse_change();
create trigger entries_no_truncate before truncate on payments.entries
  for each statement execute function payments.refuse_change();
create trigger transfers_no_delete before delete on payments.transfers
  for each statement execute function payments.refuse_change();
create trigger transfers_no_truncate before truncate on payments.transfers
  for each statement execute function payments.refuse_change();
create trigger accounts_no_delete before delete on payments.accounts
  for each statement execute function payments.refuse_change();
create trigger accounts_no_truncate before truncate on payments.accounts
  for each statement execute function payments.refuse_change();
-- Balances change (by the ledger functions); what an account is, never.
create trigger accounts_identity_fixed before update of id, type, owner_id, currency, shard on payments.accounts
  for each statement execute function payments.refuse_change();

-- A player wallet never goes below zero, holds included. A row trigger rather than a table CHECK
-- for the same reason as transfers_shape below (the ledger updates accounts thousands of times a second).
create function payments.accounts_check_floor() returns trigger language plpgsql as $$
begin
  if new.type = 'player_wallet' and new.posted_credits - new.posted_debits - new.pending_debits < 0 then
    raise exception 'new row for relation "accounts" violates check constraint "accounts_wallet_floor"'
      using errcode = 'check_violation', constraint = 'accounts_wallet_floor', table = 'accounts', schema = 'payments';
  end if;
  return new;
end;
$$;
create trigger accounts_wallet_floor before insert or update on payments.accounts
  for each row execute function payments.accounts_check_floor();
-- ALWAYS: like the table CHECK it replaces, it holds even for a session with session_replication_role = replica.
alter table payments.accounts enable always trigger accounts_wallet_floor;

-- The one allowed update of a transfer: a pending hold resolved once (posted, voided or expired).
create function payments.transfers_resolve_only() returns trigger language plpgsql as $$
declare
  probe payments.transfers;
begin
  probe := new;
  probe.state := old.state;
  if old.phase <> 'pending' or old.state <> 'pending' or new.state not in ('posted', 'voided', 'expired')
     or probe is distinct from old then
    raise exception 'transfer % cannot change (phase %, state % → %): transfers are immutable; only a pending one is resolved, once',
      old.id, old.phase, old.state, new.state
      using errcode = 'integrity_constraint_violation';
  end if;
  return new;
end;
$$;
create trigger transfers_immutable before update on payments.transfers
  for each row execute function payments.transfers_resolve_only();

-- The shape of a transfer, checked on insert. A trigger, not a table CHECK: PostgreSQL parses a table
-- CHECK again for every statement (~14 % of a purchase's server CPU, ADR 0006), a trigger's
-- expression is compiled once per session. Updates need no check: transfers_resolve_only lets only
-- the state of a pending transfer change, and a pending transfer may be in any state.
create function payments.transfers_check_shape() returns trigger language plpgsql as $$
begin
  if not (new.debit_account_id <> new.credit_account_id
      and (new.phase in ('post', 'void')) = (new.pending_id is not null)
      and (new.phase = 'pending') = (new.expires_at is not null)
      and (new.phase = 'pending' or (new.phase in ('single', 'post') and new.state = 'posted') or (new.phase = 'void' and new.state = 'voided'))
      and (new.reverses_id is null or new.phase = 'single')) then
    raise exception 'new row for relation "transfers" violates check constraint "transfers_shape"'
      using errcode = 'check_violation', constraint = 'transfers_shape', table = 'transfers', schema = 'payments';
  end if;
  return new;
end;
$$;
create trigger transfers_shape before insert on payments.transfers
  for each row execute function payments.transfers_check_shape();
alter table payments.transfers enable always trigger transfers_shape;

-- Debits equal credits, and the entries of a transfer are exactly its two legs (−amount on its debit
-- account, +amount on its credit account, in its currency). Checked once per INSERT statement over all
-- the transfers it wrote entries for (ledger_apply writes a whole batch's entries in one statement),
-- counting every entry of those transfers, old and new: both legs must come in one statement, and
-- no third leg can ever join them, as entries are never updated or deleted.
create function payments.entries_assert_balanced() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select n.transfer_id, s.total into bad
    from (select distinct transfer_id from new_entries) n
    left join payments.transfers t on t.id = n.transfer_id
    cross join lateral (
      select count(*) as legs, coalesce(sum(e.amount), 0) as total,
             count(*) filter (where e.currency = t.currency
                                and ((e.account_id = t.debit_account_id and e.amount = -t.amount)
                                  or (e.account_id = t.credit_account_id and e.amount = t.amount))) as own
        from payments.entries e where e.transfer_id = n.transfer_id) s
   where s.total <> 0 or t.id is null or t.phase not in ('single', 'post') or s.legs <> 2 or s.own <> 2
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
create trigger entries_balanced after insert on payments.entries
  referencing new table as new_entries for each statement execute function payments.entries_assert_balanced();


-- ───────────────────────────── Commands ─────────────────────────────
-- A command is JSON built by ledger/commands.ts:
--   {op: transfer|reserve|post|void|refund|expire, id, hash (hex sha-256), kind, amount (text),
--    currency, debit/credit {type, owner, currency, shard}, timeout_s, pending_id, reverses_id,
--    original_kind, metadata}
-- A result is {ok: true, created, transfer, moves} or {ok: false, code, ...details}.
--
-- Balance moves on a player wallet are applied at once, under its floor. Moves on accounts without a
-- floor (house sales, clearing, liabilities) cannot be refused, so a command only returns them
-- (`moves`: [[account, posted debits, posted credits, pending debits, pending credits], …]) and the
-- batch applies their sum once at its end: a surge of purchases updates the hot house row once per
-- batch, not once per purchase (ADR 0006). Every sum lands before the transaction commits.

-- Helpers are PL/pgSQL, not SQL functions: PL/pgSQL caches its plans, a SQL function called from
-- PL/pgSQL is planned again on every call.
create function payments.ledger_view(t payments.transfers) returns jsonb language plpgsql immutable as $$
begin
  return jsonb_build_object(
    'id', t.id, 'phase', t.phase, 'kind', t.kind, 'state', t.state, 'amount', t.amount::text, 'currency', t.currency,
    'debit_account_id', t.debit_account_id, 'credit_account_id', t.credit_account_id,
    'pending_id', t.pending_id, 'reverses_id', t.reverses_id, 'expires_at', t.expires_at, 'created_at', t.created_at,
    'metadata', t.metadata);
end;
$$;

create function payments.ledger_ok(t payments.transfers, created boolean, moves jsonb default '[]') returns jsonb language plpgsql immutable as $$
begin
  return jsonb_build_object('ok', true, 'created', created, 'transfer', payments.ledger_view(t), 'moves', moves);
end;
$$;

create function payments.ledger_err(code text, extra jsonb default '{}') returns jsonb language plpgsql immutable as $$
begin
  return jsonb_build_object('ok', false, 'code', code) || extra;
end;
$$;

-- A command whose id exists: the first result when the input is the same, else a refusal.
create function payments.ledger_existing(t payments.transfers, c jsonb) returns jsonb language plpgsql immutable as $$
begin
  if t.input_hash = decode(c->>'hash', 'hex') then
    return payments.ledger_ok(t, false);
  end if;
  return payments.ledger_err('transfer-id-reused');
end;
$$;

-- One balance move: deferred (appended to `moves`) for an account of `p_deferred`, else applied now.
-- Returns the moves, or null, and nothing changed, when a wallet would go below zero. Callers assign
-- its result (`moves := payments.ledger_move(…)`): a plain function call in an assignment runs without
-- starting an executor, where `select … from ledger_move(…)` would cost a query per move.
create function payments.ledger_move(
  p_deferred bigint[], p_account bigint, pd bigint, pc bigint, qd bigint, qc bigint, moves jsonb
) returns jsonb language plpgsql as $$
begin
  if p_account = any(p_deferred) then
    return moves || jsonb_build_array(jsonb_build_array(p_account, pd, pc, qd, qc));
  end if;
  update payments.accounts
     set posted_debits = posted_debits + pd, posted_credits = posted_credits + pc,
         pending_debits = pending_debits + qd, pending_credits = pending_credits + qc
   where id = p_account
     and (type <> 'player_wallet' or posted_credits + pc - posted_debits - pd - pending_debits - qd >= 0);
  if found then
    return moves;
  end if;
  return null;
end;
$$;

-- A move that lowers no floor (a credit, or the release of a hold): a refusal would be a broken invariant.
create function payments.ledger_move_sure(
  p_deferred bigint[], p_account bigint, pd bigint, pc bigint, qd bigint, qc bigint, moves jsonb
) returns jsonb language plpgsql as $$
declare
  after_ jsonb := payments.ledger_move(p_deferred, p_account, pd, pc, qd, qc, moves);
begin
  if after_ is null then
    raise exception 'ledger invariant broken: account % refused a move that lowers no floor', p_account using errcode = 'internal_error';
  end if;
  return after_;
end;
$$;

-- transfer (posted at once) and reserve (a pending hold with an expiry).
create function payments.ledger_open(c jsonb, p_debit bigint, p_credit bigint, p_deferred bigint[], p_now timestamptz) returns jsonb
language plpgsql as $$
declare
  t payments.transfers;
  amt bigint := (c->>'amount')::bigint;
  pending boolean := c->>'op' = 'reserve';
  posted bigint := case when pending then 0 else amt end;
  held bigint := case when pending then amt else 0 end;
  moves jsonb := '[]';
begin
  moves := payments.ledger_move(p_deferred, p_debit, posted, 0, held, 0, moves);
  if moves is null then
    return payments.ledger_err('insufficient-funds');
  end if;
  moves := payments.ledger_move_sure(p_deferred, p_credit, 0, posted, 0, held, moves);
  insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, expires_at, metadata, input_hash, created_at)
  values ((c->>'id')::uuid, case when pending then 'pending' else 'single' end, c->>'kind', case when pending then 'pending' else 'posted' end,
          p_debit, p_credit, amt, c->>'currency',
          case when pending then p_now + make_interval(secs => (c->>'timeout_s')::int) end,
          coalesce(c->'metadata', '{}'), decode(c->>'hash', 'hex'), p_now)
  returning * into t;
  return payments.ledger_ok(t, true, moves);
end;
$$;

-- post, void (with their own id) and expire (by the sweep, no id): resolve a pending hold once.
create function payments.ledger_resolve(c jsonb, p_deferred bigint[], p_now timestamptz) returns jsonb language plpgsql as $$
declare
  p payments.transfers;
  t payments.transfers;
  op text := c->>'op';
  amt bigint;
  moves jsonb := '[]';
begin
  select * into p from payments.transfers where id = (c->>'pending_id')::uuid for update;
  if not found then
    return payments.ledger_err('transfer-not-found');
  end if;
  if op = 'expire' then
    if p.state <> 'pending' or p.expires_at > p_now then
      return payments.ledger_ok(p, false);
    end if;
  elsif p.phase <> 'pending' or p.state not in ('pending', 'expired') then
    return payments.ledger_err('transfer-not-pending', jsonb_build_object('state', p.state));
  elsif p.state = 'expired' or p.expires_at <= p_now then
    return payments.ledger_err('transfer-expired', jsonb_build_object('expiresAt', p.expires_at));
  end if;
  amt := case when op = 'post' then coalesce((c->>'amount')::bigint, p.amount) else 0 end;
  if amt > p.amount then
    return payments.ledger_err('amount-exceeds-pending', jsonb_build_object('pendingAmountMinor', p.amount::text));
  end if;
  -- Releasing a hold and posting at most its amount can only raise a wallet's available balance.
  moves := payments.ledger_move_sure(p_deferred, p.debit_account_id, amt, 0, -p.amount, 0, moves);
  moves := payments.ledger_move_sure(p_deferred, p.credit_account_id, 0, amt, 0, -p.amount, moves);
  update payments.transfers set state = case op when 'post' then 'posted' when 'void' then 'voided' else 'expired' end
   where id = p.id returning * into p;
  if op = 'expire' then
    return payments.ledger_ok(p, true, moves);
  end if;
  insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, pending_id, metadata, input_hash, created_at)
  values ((c->>'id')::uuid, op, p.kind, case op when 'post' then 'posted' else 'voided' end, p.debit_account_id, p.credit_account_id,
          case op when 'post' then amt else p.amount end, p.currency, p.id, coalesce(c->'metadata', '{}'), decode(c->>'hash', 'hex'), p_now)
  returning * into t;
  return payments.ledger_ok(t, true, moves);
end;
$$;

-- refund: a new transfer from the original's credit account back to its debit account. All refunds of
-- one original together never exceed it: the original's row lock serialises concurrent refunds. The
-- original may be named by a posted reservation (pending id) or by its post; the post is what is locked.
create function payments.ledger_refund(c jsonb, p_deferred bigint[], p_now timestamptz) returns jsonb language plpgsql as $$
declare
  o payments.transfers;
  t payments.transfers;
  named uuid := (c->>'reverses_id')::uuid;
  movement uuid;
  refunded bigint;
  amt bigint;
  moves jsonb := '[]';
begin
  select case when x.phase = 'pending' and x.state = 'posted' then r.id else x.id end into movement
    from payments.transfers x left join payments.transfers r on r.pending_id = x.id and r.phase = 'post'
   where x.id = named;
  if movement is null then
    return payments.ledger_err('transfer-not-found');
  end if;
  select * into o from payments.transfers where id = movement for update;
  if o.phase not in ('single', 'post') or o.reverses_id is not null
     or (c->>'original_kind' is not null and o.kind <> c->>'original_kind') then
    return payments.ledger_err('transfer-not-refundable', jsonb_build_object('kind', o.kind, 'phase', o.phase));
  end if;
  select coalesce(sum(r.amount), 0) into refunded from payments.transfers r where r.reverses_id = o.id;
  amt := coalesce((c->>'amount')::bigint, o.amount - refunded);
  if amt <= 0 or refunded + amt > o.amount then
    return payments.ledger_err('refund-exceeds-original', jsonb_build_object('refundableMinor', (o.amount - refunded)::text));
  end if;
  moves := payments.ledger_move(p_deferred, o.credit_account_id, amt, 0, 0, 0, moves);
  if moves is null then
    return payments.ledger_err('insufficient-funds');
  end if;
  moves := payments.ledger_move_sure(p_deferred, o.debit_account_id, 0, amt, 0, 0, moves);
  insert into payments.transfers (id, phase, kind, state, debit_account_id, credit_account_id, amount, currency, reverses_id, metadata, input_hash, created_at)
  values ((c->>'id')::uuid, 'single', c->>'kind', 'posted', o.credit_account_id, o.debit_account_id, amt, o.currency, o.id,
          coalesce(c->'metadata', '{}'), decode(c->>'hash', 'hex'), p_now)
  returning * into t;
  return payments.ledger_ok(t, true, moves);
end;
$$;

create function payments.ledger_apply_one(c jsonb, p_debit bigint, p_credit bigint, p_deferred bigint[], p_now timestamptz) returns jsonb
language plpgsql as $$
declare
  t payments.transfers;
begin
  if c->>'op' <> 'expire' then
    select * into t from payments.transfers where id = (c->>'id')::uuid;
    if found then
      return payments.ledger_existing(t, c);
    end if;
  end if;
  case c->>'op'
    when 'transfer', 'reserve' then return payments.ledger_open(c, p_debit, p_credit, p_deferred, p_now);
    when 'post', 'void', 'expire' then return payments.ledger_resolve(c, p_deferred, p_now);
    when 'refund' then return payments.ledger_refund(c, p_deferred, p_now);
    else raise exception 'unknown ledger op %', c->>'op' using errcode = 'invalid_parameter_value';
  end case;
end;
$$;

-- The id of an account by its key (null when it does not exist yet).
create function payments.ledger_account_id(k jsonb) returns bigint language plpgsql stable as $$
declare
  found_id bigint;
begin
  select a.id into found_id from payments.accounts a
   where a.type = k->>'type' and a.owner_id = k->>'owner' and a.currency = k->>'currency' and a.shard = (k->>'shard')::smallint;
  return found_id;
end;
$$;

-- The accounts of each command: by key (created on first use, in key order, so that two batches
-- creating the same accounts never deadlock), or those of the transfer it resolves or refunds.
-- One indexed lookup per key on purpose: a join over the batch's JSON would be planned for 100 rows.
create function payments.ledger_batch_accounts(p_commands jsonb, out debit_ids bigint[], out credit_ids bigint[]) language plpgsql as $$
declare
  n int := jsonb_array_length(p_commands);
  missing jsonb := '[]';
  c jsonb;
  d bigint;
  k bigint;
begin
  debit_ids := '{}';
  credit_ids := '{}';
  for i in 1..n loop
    c := p_commands->(i - 1);
    d := null;
    k := null;
    if c ? 'debit' then
      d := payments.ledger_account_id(c->'debit');
      k := payments.ledger_account_id(c->'credit');
      if d is null then missing := missing || jsonb_build_array(c->'debit'); end if;
      if k is null then missing := missing || jsonb_build_array(c->'credit'); end if;
    elsif c ? 'pending_id' or c ? 'reverses_id' then
      select t.debit_account_id, t.credit_account_id into d, k from payments.transfers t
       where t.id = coalesce(c->>'pending_id', c->>'reverses_id')::uuid;
    end if;
    debit_ids := debit_ids || d;
    credit_ids := credit_ids || k;
  end loop;
  if jsonb_array_length(missing) = 0 then
    return;
  end if;
  insert into payments.accounts (type, owner_id, currency, shard)
  select distinct m->>'type', m->>'owner', m->>'currency', (m->>'shard')::smallint from jsonb_array_elements(missing) m
   order by 1, 2, 3, 4
  on conflict do nothing;
  for i in 1..n loop
    c := p_commands->(i - 1);
    if c ? 'debit' then
      debit_ids[i] := coalesce(debit_ids[i], payments.ledger_account_id(c->'debit'));
      credit_ids[i] := coalesce(credit_ids[i], payments.ledger_account_id(c->'credit'));
    end if;
  end loop;
end;
$$;

/*
 * Applies a batch of commands in order, in the caller's transaction; returns one result per command.
 * Deadlock-free by construction: every account the batch touches is locked in id order before any
 * command runs, so two batches never wait on each other in a cycle (ADR 0006 lists the exceptions).
 * p_isolate runs each command in its own subtransaction (a savepoint), so an unexpected error fails
 * that command alone; without it (the fast path) any error fails the batch and the caller retries
 * isolated. Refusals (insufficient funds, …) are results, not errors, on both paths.
 */
create function payments.ledger_apply(p_commands jsonb, p_isolate boolean, p_now timestamptz default null) returns jsonb
language plpgsql as $$
declare
  now_ timestamptz := coalesce(p_now, now());
  debit_ids bigint[];
  credit_ids bigint[];
  -- Accounts without a floor: their moves are summed and applied once, at the end.
  deferred bigint[] := '{}';
  -- The commands as an array: indexing a jsonb array in a loop is slower.
  cmds jsonb[];
  a bigint;
  ty text;
  k int;
  results jsonb[] := '{}';
  acc_ids bigint[] := '{}';
  acc bigint[] := '{}';
  r jsonb;
  c jsonb;
  m jsonb;
  j int;
begin
  select b.debit_ids, b.credit_ids into debit_ids, credit_ids from payments.ledger_batch_accounts(p_commands) b;
  cmds := array(select value from jsonb_array_elements(p_commands));
  -- One lookup per account, in id order: a set-based `id = any(…)` or join may be planned as a scan.
  for a in select distinct x from unnest(debit_ids || credit_ids) x where x is not null order by 1 loop
    select t.type into ty from payments.accounts t where t.id = a for no key update;
    if ty <> 'player_wallet' then
      deferred := deferred || a;
    end if;
  end loop;

  for i in 1..coalesce(array_length(cmds, 1), 0) loop
    c := cmds[i];
    if p_isolate then
      begin
        r := payments.ledger_apply_one(c, debit_ids[i], credit_ids[i], deferred, now_);
      exception
        when serialization_failure or deadlock_detected then
          -- The whole batch runs again; hiding these would turn a retryable conflict into a failure.
          raise;
        when unique_violation then
          -- The same id committed by another transaction while this one waited for it.
          r := coalesce((select payments.ledger_existing(t, c) from payments.transfers t where t.id = (c->>'id')::uuid),
                        payments.ledger_err('transfer-in-progress'));
        when others then
          r := payments.ledger_err('ledger-command-failed', jsonb_build_object('sqlstate', sqlstate, 'message', sqlerrm));
      end;
    else
      r := payments.ledger_apply_one(c, debit_ids[i], credit_ids[i], deferred, now_);
    end if;
    -- Sum the deferred moves of the commands that went through: acc holds 4 sums per account of acc_ids.
    for k in 0..coalesce(jsonb_array_length(r->'moves'), 0) - 1 loop
      m := r->'moves'->k;
      j := array_position(acc_ids, (m->>0)::bigint);
      if j is null then
        acc_ids := acc_ids || (m->>0)::bigint;
        acc := acc || array[(m->>1)::bigint, (m->>2)::bigint, (m->>3)::bigint, (m->>4)::bigint];
      else
        acc[4 * j - 3] := acc[4 * j - 3] + (m->>1)::bigint;
        acc[4 * j - 2] := acc[4 * j - 2] + (m->>2)::bigint;
        acc[4 * j - 1] := acc[4 * j - 1] + (m->>3)::bigint;
        acc[4 * j] := acc[4 * j] + (m->>4)::bigint;
      end if;
    end loop;
    results := results || (r - 'moves');
  end loop;

  for j in 1..coalesce(array_length(acc_ids, 1), 0) loop
    update payments.accounts
       set posted_debits = posted_debits + acc[4 * j - 3], posted_credits = posted_credits + acc[4 * j - 2],
           pending_debits = pending_debits + acc[4 * j - 1], pending_credits = pending_credits + acc[4 * j]
     where id = acc_ids[j];
  end loop;
  -- The entries of every posted movement the batch created, in one statement: one balance check for
  -- the batch instead of one per entry.
  insert into payments.entries (transfer_id, account_id, amount, currency, created_at)
  select (x.v->>'id')::uuid, leg.account_id, leg.amount, x.v->>'currency', now_
    from unnest(results) res(one)
   cross join lateral (select res.one->'transfer' as v) x
   cross join lateral (values ((x.v->>'debit_account_id')::bigint, -(x.v->>'amount')::bigint),
                              ((x.v->>'credit_account_id')::bigint, (x.v->>'amount')::bigint)) leg(account_id, amount)
   where (res.one->>'ok')::boolean and (res.one->>'created')::boolean and x.v->>'phase' in ('single', 'post');
  return to_jsonb(results);
end;
$$;
