-- issue_fast picks its shard in a statement of its own (see the comment in the function). Same
-- signature, same behaviour otherwise; 0002's version could fail a purchase with "query returned
-- more than one row" when PostgreSQL planned the pick as the inner side of a nested loop.
create or replace function ticketing.issue_fast(
  p_purchase uuid, p_token text, p_competition uuid, p_player text, p_quantity int, p_cap int, p_start int,
  p_ids uuid[], p_salts text[], p_holders text[],
  p_event_id uuid, p_event_type text, p_event_data jsonb, p_traceparent text
) returns jsonb language plpgsql as $$
declare
  picked int;
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
  -- The shard first, then its update: one statement with the pick as a subquery of UPDATE … FROM
  -- could rescan the pick for each shard row it joined (a nested loop, chosen by some plans) and
  -- so update two shards, which the INTO then refused ("query returned more than one row").
  select shard into picked from ticketing.number_shards
   where competition_id = p_competition and capacity - sold >= p_quantity and selling and closes_at > clock_timestamp()
   order by shard >= p_start desc, shard limit 1 for update skip locked;
  if found then
    update ticketing.number_shards s set sold = s.sold + p_quantity, next_slot = s.next_slot + p_quantity
     where s.competition_id = p_competition and s.shard = picked
    returning s.shard, s.next_slot - p_quantity as first_slot, clock_timestamp() as at into g;
  end if;
  -- FOUND: from the update when a shard was picked, else still false from the pick.
  if not found then
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
