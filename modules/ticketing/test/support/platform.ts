/**
 * Test support for ticketing: the platform with every module a purchase touches (identity,
 * payments with its sandbox PSP, compliance, the real skill module, ticketing) and a `kyc`
 * stand-in that publishes verification decisions through its own real outbox (compliance consumes
 * them as in production). Factories: operators, a skill test with a question, published
 * competitions, funded verified players, pass tokens, purchases, and the books read in SQL.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { defineModule, type Db, type ModuleDefinition } from '@verity/kernel';
import { freePort, startTestPlatform, waitFor, type HttpResult, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { operatorSession, playerToken, type TestOperator } from '@verity/identity/testing';
import { complianceModule } from '@verity/compliance';
import { paymentsModule, type PaymentsService } from '@verity/payments';
import { skillModule } from '@verity/skill';
import { ticketingModule, type TicketingService } from '@verity/ticketing';

export interface KycStandIn {
  approve(playerId: string): Promise<void>;
}

/** A `kyc` module that only publishes verification decisions when told (the real one is tested in modules/kyc). */
export const kycStandIn: ModuleDefinition<KycStandIn> = defineModule<KycStandIn>({
  name: 'kyc',
  migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
  remoteMethods: [],
  setup: (ctx) => ({
    service: {
      async approve(playerId) {
        await ctx.db.tx(async () => {
          const decidedAt = (await ctx.db.now()).toISOString();
          await ctx.events.publish({ type: 'kyc.verification-changed.v1', subject: playerId, data: { playerId, status: 'approved', ageVerified: true, decidedAt } });
        });
      },
    },
  }),
});

export const DEBIT_FRICTIONLESS = '4000000000000036';
export const PRICE_MINOR = 250n;

export interface TicketingPlatform {
  p: TestPlatform;
  ticketing: TicketingService;
  payments: PaymentsService;
  kyc: KycStandIn;
  /** draw-manager: competitions, postal entries, skill questions. */
  manager: TestOperator;
  /** Another draw-manager: approves the manager's questions and closing-time changes. */
  second: TestOperator;
  skill: { questionId: string; correctOptionId: string; correctText: string };
}

export async function startTicketingPlatform(options: { env?: Record<string, string>; ticketing?: ModuleDefinition<TicketingService> } = {}): Promise<TicketingPlatform> {
  const pspPort = await freePort();
  const p = await startTestPlatform({
    modules: [identityModule, kycStandIn, paymentsModule, complianceModule, skillModule, options.ticketing ?? ticketingModule],
    env: {
      QUEUE_SUPERVISE_INTERVAL_S: '1', COMPLIANCE_SELF_EXCLUSION_REGISTER: 'none', PSP_PROVIDER: 'sandbox', PSP_SANDBOX_PORT: String(pspPort), PSP_RETRY_MAX: '0',
      DATABASE_POOL_MAX: '40', TICKETING_COMPETITION_CACHE_TTL_MS: '200', PAYMENTS_HOUSE_SHARDS: '4', ...options.env,
    },
  });
  try {
    const [manager, second] = [await operatorSession(p, ['draw-manager']), await operatorSession(p, ['draw-manager'])];
    const tp = { p, ticketing: p.service<TicketingService>('ticketing'), payments: p.service<PaymentsService>('payments'), kyc: p.service<KycStandIn>('kyc'), manager, second } as TicketingPlatform;
    tp.skill = await approvedQuestion(tp);
    return tp;
  } catch (err) {
    await p.stop();
    throw err;
  }
}

export function expectStatus<T = any>(res: HttpResult<T>, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export function expectProblem(res: HttpResult, status: number, code: string): any {
  if (res.status !== status || res.body?.code !== code) throw new Error(`expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (!(res.headers.get('content-type') ?? '').includes('application/problem+json')) throw new Error('expected application/problem+json');
  return res.body;
}

/** A multiple-choice question written by the manager and approved by the second operator. */
async function approvedQuestion(tp: TicketingPlatform) {
  const { http } = tp.p;
  const created = expectStatus(await http.post('/v1/skill/questions', {
    text: `Which city is the capital of England? (${randomUUID().slice(0, 8)})`, options: ['Paris', 'London', 'Madrid', 'Berlin'], correctOption: 1, category: 'geography', difficulty: 'easy',
  }, tp.manager.accessToken), 201, 'createSkillQuestion');
  const versionId = created.versions[0].versionId as string;
  const approved = expectStatus(await http.post(`/v1/skill/questions/${created.questionId}/versions/${versionId}/decision`, { decision: 'approve' }, tp.second.accessToken), 200, 'approve question');
  return { questionId: created.questionId as string, correctOptionId: approved.versions[0].correctOptionId as string, correctText: 'London' };
}

export interface CompetitionOptions {
  maxTickets?: number;
  perPlayerCap?: number;
  opensAt?: Date;
  closesAt?: Date;
  priceMinor?: bigint;
  drawKind?: 'random' | 'spot-the-ball';
}

export function competitionBody(o: CompetitionOptions = {}) {
  return {
    title: `Win a car ${randomUUID().slice(0, 6)}`,
    description: 'A brand new car, delivered to your door.',
    drawKind: o.drawKind ?? 'random',
    currency: 'GBP',
    priceMinor: String(o.priceMinor ?? PRICE_MINOR),
    maxTickets: o.maxTickets ?? 1000,
    perPlayerCap: o.perPlayerCap ?? 50,
    opensAt: (o.opensAt ?? new Date(Date.now() - 60_000)).toISOString(),
    closesAt: (o.closesAt ?? new Date(Date.now() + 3_600_000)).toISOString(),
    prizeTiers: [{ tier: 1, description: 'A brand new hatchback', winners: 1, cashAlternativeMinor: '1500000' }],
    freeEntry: { postalAddress: 'Verity Draws, PO Box 1, London SW1A 1AA', instructions: 'Send your name, address and the answer to the question on a postcard; postal entries are treated like paid tickets.' },
  };
}

/** A draft with the skill test configured and prize readiness attested (ready to publish). */
export async function readyDraft(tp: TicketingPlatform, o: CompetitionOptions = {}): Promise<string> {
  const { http } = tp.p;
  const token = tp.manager.accessToken;
  const c = expectStatus(await http.post('/v1/competitions', competitionBody(o), token, { 'idempotency-key': randomUUID() }), 201, 'createCompetition');
  expectStatus(await http.post('/v1/skill/tests', { competitionId: c.competitionId, kind: 'multiple-choice', questionIds: [tp.skill.questionId], postalQuestionId: tp.skill.questionId }, token), 200, 'configureSkillTest');
  expectStatus(await http.request('PUT', `/v1/competitions/${c.competitionId}/prize-readiness`, { token, body: { kind: 'owned', externalReference: 'V5C logbook 12345', cashAlternativeReservedMinor: '1500000' } }), 200, 'attestPrizeReadiness');
  return c.competitionId as string;
}

/** Published, its draw manifest recorded (as the draws module does), and on sale. */
export async function onSaleCompetition(tp: TicketingPlatform, o: CompetitionOptions = {}): Promise<string> {
  const id = await readyDraft(tp, o);
  expectStatus(await tp.p.http.post(`/v1/competitions/${id}/publish`, undefined, tp.manager.accessToken), 200, 'publishCompetition');
  await tp.ticketing.recordDrawManifest({ competitionId: id, drawId: randomUUID(), manifestHash: 'a'.repeat(64), logIndex: 1 });
  await waitForState(tp, id, 'on_sale');
  return id;
}

export async function waitForState(tp: TicketingPlatform, competitionId: string, state: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await tp.ticketing.getCompetition({ competitionId }))?.state === state, { what: `competition ${state}`, timeoutMs });
}

export type Player = Awaited<ReturnType<typeof playerToken>>;

/** A registered player whom compliance knows as verified, with `fundsMinor` deposited by card. */
export async function fundedPlayer(tp: TicketingPlatform, fundsMinor: bigint = 100_000n): Promise<Player> {
  const { p } = tp;
  const player = await playerToken(p.http);
  await waitFor(async () => (await p.db.maybeOne('select 1 from compliance.players where player_id = $1 and registered_at is not null', [player.playerId])) !== undefined, { what: 'compliance to learn of the player', timeoutMs: 20_000 });
  await tp.kyc.approve(player.playerId);
  await waitFor(async () => (await p.http.get('/v1/eligibility', player.accessToken)).body?.deposit?.allowed === true, { what: 'the approval to reach eligibility', timeoutMs: 20_000 });
  if (fundsMinor > 0n) {
    const dep = expectStatus(await p.http.post('/v1/wallet/deposits', { amountMinor: fundsMinor.toString(), paymentMethod: DEBIT_FRICTIONLESS }, player.accessToken, { 'idempotency-key': randomUUID() }), 201, 'deposit');
    if (dep.status !== 'succeeded') throw new Error(`deposit did not succeed: ${JSON.stringify(dep)}`);
  }
  return player;
}

/** Runs `make` for `count` items, at most `parallel` at a time. */
export async function inBatches<T>(count: number, parallel: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  }));
  return out;
}

/** Starts and passes the skill test: a fresh single-use pass token. */
export async function passToken(tp: TicketingPlatform, player: Player, competitionId: string): Promise<string> {
  const { http } = tp.p;
  const attempt = await http.post(`/v1/competitions/${competitionId}/skill-test/attempts`, undefined, player.accessToken);
  if (attempt.status !== 201 && attempt.status !== 200) throw new Error(`startSkillTest: ${attempt.status} ${JSON.stringify(attempt.body)}`);
  const answered = expectStatus(await http.post(`/v1/skill-test/attempts/${attempt.body.attemptId}/answer`, { optionId: tp.skill.correctOptionId }, player.accessToken), 200, 'answerSkillTest');
  if (answered.outcome !== 'passed') throw new Error('the correct answer did not pass');
  return answered.token as string;
}

export async function buy(tp: TicketingPlatform, player: Player, competitionId: string, body: Record<string, unknown>, key: string = randomUUID()): Promise<HttpResult> {
  return tp.p.http.post(`/v1/competitions/${competitionId}/purchases`, body, player.accessToken, { 'idempotency-key': key });
}

export async function walletOf(tp: TicketingPlatform, playerId: string): Promise<{ postedMinor: bigint; reservedMinor: bigint; availableMinor: bigint }> {
  return tp.payments.balance({ playerId, currency: 'GBP' });
}

/** The books in one snapshot, straight from the ledger's tables: what reconciliation proves. */
export async function readBooks(db: Db) {
  return db.tx(async () => {
    const row = await db.one<{ total: bigint; mismatched: bigint; holds: bigint; negative: bigint }>(
      `select (select coalesce(sum(amount), 0) from payments.entries)::bigint as total,
              (select count(*) from payments.accounts a
                where a.posted_credits - a.posted_debits <> coalesce((select sum(e.amount) from payments.entries e where e.account_id = a.id), 0)) as mismatched,
              (select count(*) from payments.accounts a
                where a.pending_debits <> coalesce((select sum(t.amount) from payments.transfers t where t.debit_account_id = a.id and t.state = 'pending'), 0)) as holds,
              (select count(*) from payments.accounts where type = 'player_wallet' and posted_credits - posted_debits - pending_debits < 0) as negative`,
    );
    return { entriesSum: row.total, balanceMismatches: Number(row.mismatched), holdMismatches: Number(row.holds), negativeWallets: Number(row.negative) };
  }, { isolation: 'repeatable read', readOnly: true });
}

/** House sales of a competition (all shards): posted credits minus debits. */
export async function houseSales(db: Db, competitionId: string): Promise<bigint> {
  const row = await db.one<{ total: bigint | null }>(
    `select sum(posted_credits - posted_debits)::bigint as total from payments.accounts where type = 'house_sales' and owner_id = $1`,
    [competitionId],
  );
  return row.total ?? 0n;
}

export async function outboxEvents(db: Db, type: string): Promise<Record<string, any>[]> {
  const rows = await db.query<{ data: Record<string, any> }>('select data from ticketing.outbox where type = $1 order by position', [type]);
  return rows.map((r) => r.data);
}
