/**
 * Test support for the end-to-end draw: every module a draw touches, for real (identity, payments
 * with its sandbox PSP, compliance, skill, ticketing, draws with its beacon sandbox) plus a `kyc`
 * stand-in that publishes verification decisions through its own outbox. Factories go through the
 * public HTTP API as a player and operators would: an approved skill question, a competition with a
 * cash prize, verified and funded players, pass tokens, purchases, postal entries.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { defineModule, type ModuleDefinition } from '@verity/kernel';
import { waitFor, type HttpResult, type TestPlatform } from '@verity/kernel/testing';
import { operatorSession, playerToken, type TestOperator } from '@verity/identity/testing';
import { skillModule } from '@verity/skill';
import { ticketingModule, type TicketingService } from '@verity/ticketing';
import { startDrawsPlatform, type DrawsPlatform } from './platform.ts';

export const DEBIT_FRICTIONLESS = '4000000000000036';
export const PRICE_MINOR = 250n;

const kycStandIn: ModuleDefinition<{ approve(playerId: string): Promise<void> }> = defineModule({
  name: 'kyc',
  migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
  remoteMethods: [],
  setup: (ctx) => ({
    service: {
      async approve(playerId: string) {
        await ctx.db.tx(async () => {
          const decidedAt = (await ctx.db.now()).toISOString();
          await ctx.events.publish({ type: 'kyc.verification-changed.v1', subject: playerId, data: { playerId, status: 'approved', ageVerified: true, decidedAt } });
        });
      },
    },
  }),
});

export interface E2E extends DrawsPlatform {
  p: TestPlatform;
  ticketing: TicketingService;
  manager: TestOperator;
  second: TestOperator;
  skill: { questionId: string; correctOptionId: string };
}

export function expectStatus<T = any>(res: HttpResult<T>, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function startE2E(config: Record<string, unknown>): Promise<E2E> {
  const dp = await startDrawsPlatform({
    modules: [kycStandIn, skillModule, ticketingModule],
    env: { PSP_RETRY_MAX: '0', DATABASE_POOL_MAX: '30', TICKETING_COMPETITION_CACHE_TTL_MS: '200' },
    config,
  });
  const p = dp.platform;
  try {
    const [manager, second] = [await operatorSession(p, ['draw-manager']), await operatorSession(p, ['draw-manager'])];
    const e: E2E = { ...dp, p, ticketing: p.service<TicketingService>('ticketing'), manager, second, skill: { questionId: '', correctOptionId: '' } };
    e.skill = await approvedQuestion(e);
    return e;
  } catch (err) {
    await p.stop();
    throw err;
  }
}

/** A multiple-choice question written by one draw manager and approved by another. */
async function approvedQuestion(e: E2E) {
  const created = expectStatus(await e.p.http.post('/v1/skill/questions', {
    text: `Which city is the capital of England? (${randomUUID().slice(0, 8)})`, options: ['Paris', 'London', 'Madrid', 'Berlin'], correctOption: 1, category: 'geography', difficulty: 'easy',
  }, e.manager.accessToken), 201, 'createSkillQuestion');
  const versionId = created.versions[0].versionId as string;
  const approved = expectStatus(await e.p.http.post(`/v1/skill/questions/${created.questionId}/versions/${versionId}/decision`, { decision: 'approve' }, e.second.accessToken), 200, 'approve question');
  return { questionId: created.questionId as string, correctOptionId: approved.versions[0].correctOptionId as string };
}

export const CASH_TIERS = [
  { tier: 1, description: '£100 cash', winners: 1, cashMinor: '10000' },
  { tier: 2, description: '£10 cash', winners: 2, cashMinor: '1000' },
];

/** A published random-draw competition with two cash tiers (draws commits its manifest; sales open after). */
export async function publishedCompetition(e: E2E, closesAt: Date): Promise<string> {
  const { http } = e.p;
  const token = e.manager.accessToken;
  const c = expectStatus(await http.post('/v1/competitions', {
    title: `Cash draw ${randomUUID().slice(0, 6)}`, description: 'Cash prizes, drawn from public randomness.', drawKind: 'random', currency: 'GBP',
    priceMinor: String(PRICE_MINOR), maxTickets: 1000, perPlayerCap: 50, opensAt: new Date(Date.now() - 60_000).toISOString(), closesAt: closesAt.toISOString(),
    prizeTiers: CASH_TIERS,
    freeEntry: { postalAddress: 'Verity Draws, PO Box 1, London SW1A 1AA', instructions: 'Send your name, address and the answer to the question on a postcard; postal entries are treated like paid tickets.' },
  }, token, { 'idempotency-key': randomUUID() }), 201, 'createCompetition');
  const id = c.competitionId as string;
  expectStatus(await http.post('/v1/skill/tests', { competitionId: id, kind: 'multiple-choice', questionIds: [e.skill.questionId], postalQuestionId: e.skill.questionId }, token), 200, 'configureSkillTest');
  expectStatus(await http.request('PUT', `/v1/competitions/${id}/prize-readiness`, { token, body: { kind: 'owned', externalReference: 'cash held in the prize account', cashAlternativeReservedMinor: '12000' } }), 200, 'attestPrizeReadiness');
  expectStatus(await http.post(`/v1/competitions/${id}/publish`, undefined, token), 200, 'publishCompetition');
  return id;
}

export async function waitForCompetition(e: E2E, competitionId: string, state: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await e.ticketing.getCompetition({ competitionId }))?.state === state, { what: `competition ${state}`, timeoutMs });
}

export type Player = Awaited<ReturnType<typeof playerToken>>;

/** A registered player whom compliance knows as verified, with `fundsMinor` deposited by card. */
export async function fundedPlayer(e: E2E, fundsMinor: bigint): Promise<Player> {
  const { p } = e;
  const player = await playerToken(p.http);
  await waitFor(async () => (await p.db.maybeOne('select 1 from compliance.players where player_id = $1 and registered_at is not null', [player.playerId])) !== undefined, { what: 'compliance to learn of the player', timeoutMs: 20_000 });
  await p.service<{ approve(id: string): Promise<void> }>('kyc').approve(player.playerId);
  await waitFor(async () => (await p.http.get('/v1/eligibility', player.accessToken)).body?.deposit?.allowed === true, { what: 'the approval to reach eligibility', timeoutMs: 20_000 });
  const dep = expectStatus(await p.http.post('/v1/wallet/deposits', { amountMinor: fundsMinor.toString(), paymentMethod: DEBIT_FRICTIONLESS }, player.accessToken, { 'idempotency-key': randomUUID() }), 201, 'deposit');
  if (dep.status !== 'succeeded') throw new Error(`deposit did not succeed: ${JSON.stringify(dep)}`);
  return player;
}

/** Passes the skill test and buys `quantity` tickets through HTTP; returns the tickets. */
export async function buyTickets(e: E2E, player: Player, competitionId: string, quantity: number): Promise<{ ticketId: string; number: number; holderSalt: string }[]> {
  const { http } = e.p;
  const attempt = await http.post(`/v1/competitions/${competitionId}/skill-test/attempts`, undefined, player.accessToken);
  if (attempt.status !== 201 && attempt.status !== 200) throw new Error(`startSkillTest: ${attempt.status} ${JSON.stringify(attempt.body)}`);
  const answered = expectStatus(await http.post(`/v1/skill-test/attempts/${attempt.body.attemptId}/answer`, { optionId: e.skill.correctOptionId }, player.accessToken), 200, 'answerSkillTest');
  const bought = expectStatus(await http.post(`/v1/competitions/${competitionId}/purchases`, { quantity, skillToken: answered.token }, player.accessToken, { 'idempotency-key': randomUUID() }), 201, 'purchaseTickets');
  return bought.tickets;
}

/** A free postal entry, recorded by a draw manager as opened from the post. */
export async function postalEntry(e: E2E, competitionId: string, n: number): Promise<{ postalEntryId: string; ticketId: string; status: string }> {
  return expectStatus(await e.p.http.post(`/v1/competitions/${competitionId}/postal-entries`, {
    envelopeRef: `ENV-${randomUUID().slice(0, 8)}`, name: `Postal Entrant ${n}`, address: `${n} High Street, Leeds`, answer: 'London', receivedAt: new Date().toISOString(),
  }, e.manager.accessToken, { 'idempotency-key': randomUUID() }), 201, 'recordPostalEntry');
}
