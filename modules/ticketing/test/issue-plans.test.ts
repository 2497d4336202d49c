/**
 * The issuing statement must take exactly one shard under whatever plan PostgreSQL chooses. 0002's
 * version picked the shard in a subquery of UPDATE … FROM; a plan that rescanned that subquery for
 * each shard row (chosen on a young database: a new platform's first purchase failed with "query
 * returned more than one row") skipped the shard it had just updated and took a second one. The
 * pick is now a statement of its own (0003). This test runs the fast path directly on a session of
 * its own with hash and merge joins off, from every start shard, and checks what a purchase relies
 * on: its tickets counted once, on one shard, every number issued once. (It cannot force the exact
 * plan that failed: PostgreSQL has no hint for the join order of an UPDATE's target.)
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { uuidv7 } from '@verity/kernel';
import { onSaleCompetition, startTicketingPlatform, type TicketingPlatform } from './support/platform.ts';

describe('ticketing: the issuing statement whatever the plan', () => {
  let tp: TicketingPlatform;
  let client: pg.Client;
  before(async () => {
    tp = await startTicketingPlatform();
    client = new pg.Client({ connectionString: tp.p.config.databaseUrl });
    await client.connect();
    for (const setting of ['enable_hashjoin', 'enable_mergejoin']) await client.query(`set ${setting} = off`);
  });
  after(async () => {
    await client?.end();
    await tp?.p.stop();
  });

  it('when the planner nests loops, then each fast-path issue takes one shard and counts exactly its tickets', async () => {
    const id = await onSaleCompetition(tp, { maxTickets: 1000, perPlayerCap: 1000 });
    const shards = Number((await client.query('select count(*)::int as n from ticketing.number_shards where competition_id = $1', [id])).rows[0].n);
    assert.ok(shards > 1, `a competition of 1000 numbers has several shards (${shards})`);
    const numbers = new Set<number>();
    for (let k = 0; k < 3 * shards; k++) {
      const purchaseId = uuidv7();
      const playerId = `plan-${k % 4}`;
      await client.query(
        `insert into ticketing.purchases (id, player_id, idempotency_key, request_hash, competition_id, quantity, amount_minor, currency, reservation_id)
         values ($1, $2, $3, 'h', $4, 2, 500, 'GBP', $5)`,
        [purchaseId, playerId, randomUUID(), id, randomUUID()],
      );
      const ids = [uuidv7(), uuidv7()];
      const salts = ids.map(() => randomBytes(32).toString('hex'));
      const holders = ids.map(() => randomBytes(32).toString('hex'));
      const before = Number((await client.query('select sum(sold)::int as sold from ticketing.number_shards where competition_id = $1', [id])).rows[0].sold);
      const out = (await client.query(
        'select ticketing.issue_fast($1, $2, $3, $4, 2, 1000, $5, $6::uuid[], $7::text[], $8::text[], $9, $10, $11::jsonb, null) as r',
        [purchaseId, `token-${purchaseId}`, id, playerId, k % shards, ids, salts, holders, uuidv7(), 'ticketing.tickets-purchased.v1', JSON.stringify({ purchaseId })],
      )).rows[0].r;
      assert.equal(out.tickets.length, 2);
      for (const t of out.tickets) numbers.add(t.number);
      const after = Number((await client.query('select sum(sold)::int as sold from ticketing.number_shards where competition_id = $1', [id])).rows[0].sold);
      assert.equal(after - before, 2, 'exactly the purchase’s tickets counted, on one shard');
    }
    assert.equal(numbers.size, 6 * shards, 'every number issued once');
    const counted = (await client.query(`select sum(sold)::int as sold, (select count(*)::int from ticketing.tickets where competition_id = $1 and state = 'valid') as tickets from ticketing.number_shards where competition_id = $1`, [id])).rows[0];
    assert.equal(counted.sold, counted.tickets, 'the shard counters equal the tickets');
  });
});
