-- The issuing transaction of a lucky-dip purchase in one statement (ADR 0014): every round trip
-- costs the database and the platform a socket write each way, and a purchase made many. The
-- number permutation, the fill of a shard and the whole fast path live here, next to the rows
-- they lock; refusals are raised (the statement, its own transaction, rolls back as a whole).

-- Round keys of each shard's lucky-dip permutation (4 × 32 bits, derived from the competition's
-- secret by HMAC in src/domain/numbers.ts at publish).
alter table ticketing.number_shards add column round_keys bigint[];

-- Low 32 bits of a × b for 0 ≤ a, b < 2^32, without overflowing bigint.
create function ticketing.mul32(a bigint, b bigint) returns bigint language sql immutable parallel safe as $$
  select ((a * (b & 65535)) + (((a * (b >> 16)) & 65535) << 16)) & 4294967295
$$;

-- MurmurHash3's 32-bit finalizer: the Feistel round function.
create function ticketing.mix32(x bigint) returns bigint language plpgsql immutable parallel safe as $$
begin
  x := x # (x >> 16);
  x := ticketing.mul32(x, 2246822507);
  x := x # (x >> 13);
  x := ticketing.mul32(x, 3266489909);
  return x # (x >> 16);
end;
$$;

-- Position `slot` of a slice's permutation as an offset in [0, capacity): a 4-round Feistel network
-- on the next power of four, cycle-walking back into the slice. A bijection: distinct slots give
-- distinct numbers, so a slice fills without searching.
create function ticketing.lucky_offset(keys bigint[], capacity int, slot int) returns int language plpgsql immutable parallel safe as $$
declare
  bits int;
  half int;
  mask bigint;
  x bigint := slot;
  l bigint;
  r bigint;
  t bigint;
begin
  if slot < 0 or slot >= capacity then
    raise exception 'slot % outside 0..%', slot, capacity - 1;
  end if;
  if capacity = 1 then
    return 0;
  end if;
  bits := ceil(log(2, capacity::numeric));
  if bits % 2 = 1 then
    bits := bits + 1;
  end if;
  half := bits / 2;
  mask := (1::bigint << half) - 1;
  loop
    l := x >> half;
    r := x & mask;
    for i in 1..4 loop
      t := r;
      r := l # (ticketing.mix32(r # keys[i]) & mask);
      l := t;
    end loop;
    x := (l << half) | r;
    exit when x < capacity;
  end loop;
  return x;
end;
$$;

-- Issues `cardinality(ids)` tickets in a shard this transaction holds, whose counter already counts
-- them: the next permutation positions; positions that land on a taken (chosen) number are skipped
-- for further ones; when the positions run out (or numbers came back), the slice is scanned.
-- Ids, salts and holders are interchangeable (one owner per call). Returns the tickets issued.
create function ticketing.fill_shard(
  p_competition uuid, p_shard int, p_first_slot int, p_at timestamptz,
  p_kind text, p_purchase uuid, p_postal uuid, p_player text,
  p_ids uuid[], p_salts text[], p_holders text[]
) returns table (ticket_id uuid, ticket_number int) language plpgsql as $$
declare
  s ticketing.number_shards;
  want int := cardinality(p_ids);
  done int := 0;
  used uuid[] := '{}';
  first_pos int := p_first_slot;
  cand int[];
  got record;
  pass int := 0;
begin
  select * into s from ticketing.number_shards where competition_id = p_competition and shard = p_shard;
  while done < want loop
    if pass > 0 and pass < 8 then
      update ticketing.number_shards set next_slot = next_slot + (want - done)
       where competition_id = p_competition and shard = p_shard returning next_slot - (want - done) into first_pos;
    end if;
    if pass < 8 and first_pos < s.capacity then
      cand := array(select s.lo + ticketing.lucky_offset(s.round_keys, s.capacity, g)
                      from generate_series(first_pos, least(first_pos + want - done, s.capacity) - 1) g);
    else
      cand := array(select n from generate_series(s.lo, s.lo + s.capacity - 1) n
                     where not exists (select 1 from ticketing.tickets t where t.competition_id = p_competition and t.number = n and t.state = 'valid')
                     order by random() limit want - done);
      pass := 8;
    end if;
    for got in
      with free_ids as (
        select i.id, i.salt, i.holder, row_number() over (order by i.k) as k
          from unnest(p_ids, p_salts, p_holders) with ordinality as i(id, salt, holder, k) where i.id <> all(used)),
      pairs as (
        select c.n, f.id, f.salt, f.holder from unnest(cand) with ordinality as c(n, k) join free_ids f on f.k = c.k)
      insert into ticketing.tickets (id, competition_id, number, kind, purchase_id, postal_entry_id, player_id, holder_salt, holder, issued_at)
      select pairs.id, p_competition, pairs.n, p_kind, p_purchase, p_postal, p_player, pairs.salt, pairs.holder, p_at from pairs
      on conflict (competition_id, number) where state = 'valid' do nothing
      returning id, number
    loop
      ticket_id := got.id;
      ticket_number := got.number;
      used := used || got.id;
      done := done + 1;
      return next;
    end loop;
    if pass >= 8 and done < want then
      raise exception 'pool invariant broken: shard % of % counted room for % but has % free numbers', p_shard, p_competition, want, done;
    end if;
    pass := pass + 1;
  end loop;
end;
$$;

-- The fast path of a lucky-dip purchase, whole: the purchase claimed for issue with its skill pass
-- consumed, the player's tickets counted under the cap, a shard with room that nobody holds (skip
-- locked: this never waits for a shard, see src/pool/allocator.ts), the tickets, and the outbox
-- event with the numbers. Refusals are raised as `ticketing:<reason>[:<detail>]` (SQLSTATE P0001):
-- lost (the purchase was resolved by someone else), cap:<held>, closed:<closes_at>, not-on-sale,
-- contended (no free shard now: the caller tries the ordered path).
create function ticketing.issue_fast(
  p_purchase uuid, p_token text, p_competition uuid, p_player text, p_quantity int, p_cap int, p_start int,
  p_ids uuid[], p_salts text[], p_holders text[],
  p_event_id uuid, p_event_type text, p_event_data jsonb, p_traceparent text
) returns jsonb language plpgsql as $$
declare
  held int;
  g record;
  st record;
  issued_json jsonb;
begin
  update ticketing.purchases set state = 'issued', skill_token_id = p_token, issued_at = clock_timestamp()
   where id = p_purchase and state = 'pending';
  if not found then
    raise exception 'ticketing:lost';
  end if;
  insert into ticketing.player_tickets as p (competition_id, player_id, tickets) values (p_competition, p_player, p_quantity)
  on conflict (competition_id, player_id) do update set tickets = p.tickets + excluded.tickets where p.tickets + excluded.tickets <= p_cap
  returning tickets into held;
  if held is null then
    select tickets into held from ticketing.player_tickets where competition_id = p_competition and player_id = p_player;
    raise exception 'ticketing:cap:%', coalesce(held, 0);
  end if;
  update ticketing.number_shards s set sold = s.sold + p_quantity, next_slot = s.next_slot + p_quantity
    from (select shard from ticketing.number_shards
           where competition_id = p_competition and capacity - sold >= p_quantity and selling and closes_at > clock_timestamp()
           order by shard >= p_start desc, shard limit 1 for update skip locked) pick
   where s.competition_id = p_competition and s.shard = pick.shard
  returning s.shard, s.next_slot - p_quantity as first_slot, clock_timestamp() as at into g;
  if g is null then
    select bool_and(selling) as selling, max(closes_at) as closes_at, count(*) as shards from ticketing.number_shards where competition_id = p_competition into st;
    if st.shards = 0 or not st.selling then
      raise exception 'ticketing:not-on-sale';
    end if;
    if clock_timestamp() >= st.closes_at then
      raise exception 'ticketing:closed:%', to_char(st.closes_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    end if;
    raise exception 'ticketing:contended';
  end if;
  select jsonb_agg(jsonb_build_object('ticketId', f.ticket_id, 'number', f.ticket_number) order by f.ticket_number) into issued_json
    from ticketing.fill_shard(p_competition, g.shard, g.first_slot, g.at, 'paid', p_purchase, null, p_player, p_ids, p_salts, p_holders) f;
  insert into ticketing.outbox (id, type, subject, data, traceparent)
  values (p_event_id, p_event_type, p_competition::text, p_event_data || jsonb_build_object('tickets', issued_json), p_traceparent);
  return jsonb_build_object('tickets', issued_json, 'issuedAt', g.at);
end;
$$;
