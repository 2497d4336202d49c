/**
 * Test support for the skill module: a platform with identity and skill, a `ticketing` stand-in
 * that publishes ticketing's events through its own real outbox (skill consumes them exactly as in
 * production, without importing ticketing), operators and players, questions, tests, images.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { createLogger, defineModule, startPlatform, type Clock, type ModuleDefinition, type NewEvent } from '@verity/kernel';
import { testConfig, testHttp, waitFor, type TestPlatform } from '@verity/kernel/testing';
import { identityModule } from '@verity/identity';
import { adminToken, operatorSession, playerToken, type TestOperator } from '@verity/identity/testing';
import { skillModule, type SkillService } from '@verity/skill';

export interface TicketingStandIn {
  publish(events: NewEvent[]): Promise<void>;
}

/** Publishes what ticketing would, when told. */
export const ticketingStandIn: ModuleDefinition<TicketingStandIn> = defineModule<TicketingStandIn>({
  name: 'ticketing',
  migrationsDir: path.join(import.meta.dirname, 'no-migrations'),
  remoteMethods: [],
  setup: (ctx) => ({
    service: {
      async publish(events) {
        await ctx.db.tx(() => ctx.events.publishMany(events));
      },
    },
  }),
});

/** A clock that runs with real time plus an offset the test moves. */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offsetMs = 0;
  return { now: async () => new Date(Date.now() + offsetMs), advance: (ms) => void (offsetMs += ms) };
}

export interface SkillPlatform {
  p: TestPlatform;
  skill: SkillService;
  ticketing: TicketingStandIn;
  admin: string;
  /** Writes questions (draw-manager). */
  author: TestOperator;
  /** Approves them (another draw-manager). */
  approver: TestOperator;
}

export async function startSkillPlatform(options: { clock?: Clock } = {}): Promise<SkillPlatform> {
  const config = await testConfig({ QUEUE_SUPERVISE_INTERVAL_S: '1' });
  const started = await startPlatform({ config, modules: [identityModule, skillModule, ticketingStandIn], log: createLogger(config.logLevel), ...(options.clock ? { clock: options.clock } : {}) });
  const p = Object.assign(started, { http: testHttp(started.url) }) as TestPlatform;
  const [admin, author, approver] = [await adminToken(p), await operatorSession(p, ['draw-manager']), await operatorSession(p, ['draw-manager'])];
  return { p, skill: p.service<SkillService>('skill'), ticketing: p.service<TicketingStandIn>('ticketing'), admin, author, approver };
}

export function expectStatus<T = any>(res: { status: number; body: T }, status: number, what: string): T {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) throw new Error(`expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (!(res.headers.get('content-type') ?? '').includes('application/problem+json')) throw new Error('expected application/problem+json');
}

export const player = async (s: SkillPlatform) => playerToken(s.p.http);

export interface QuestionSpec {
  text?: string;
  options?: string[];
  correctOption?: number;
  category?: string;
  difficulty?: 'easy' | 'medium' | 'hard';
}

export const questionBody = (q: QuestionSpec = {}) => ({
  text: q.text ?? `Which city is the capital of England? (${randomUUID().slice(0, 8)})`,
  options: q.options ?? ['Paris', 'London', 'Madrid', 'Berlin'],
  correctOption: q.correctOption ?? 1,
  category: q.category ?? 'geography',
  difficulty: q.difficulty ?? 'easy',
});

/** A question written by the author and approved by the approver; returns its id and active version. */
export async function approvedQuestion(s: SkillPlatform, q: QuestionSpec = {}): Promise<{ questionId: string; versionId: string; correctOptionId: string }> {
  const created = expectStatus(await s.p.http.post('/v1/skill/questions', questionBody(q), s.author.accessToken), 201, 'createSkillQuestion');
  const versionId = created.versions[0].versionId as string;
  const approved = expectStatus(
    await s.p.http.post(`/v1/skill/questions/${created.questionId}/versions/${versionId}/decision`, { decision: 'approve' }, s.approver.accessToken),
    200,
    'approve',
  );
  return { questionId: created.questionId, versionId, correctOptionId: approved.versions[0].correctOptionId };
}

export async function configureMultipleChoice(s: SkillPlatform, competitionId: string, body: Record<string, unknown>): Promise<any> {
  return expectStatus(await s.p.http.post('/v1/skill/tests', { competitionId, kind: 'multiple-choice', ...body }, s.author.accessToken), 200, 'configureSkillTest');
}

/** ticketing.competition-published.v1 (and waits until skill applied it). */
export async function publishCompetition(s: SkillPlatform, competitionId: string, o: { closesAt?: Date; drawKind?: 'random' | 'spot-the-ball'; winners?: number } = {}): Promise<void> {
  const closesAt = o.closesAt ?? new Date(Date.now() + 7 * 86_400_000);
  await s.ticketing.publish([{
    type: 'ticketing.competition-published.v1', subject: competitionId,
    data: {
      competitionId, title: 'Test competition', state: 'scheduled', opensAt: new Date().toISOString(), closesAt: closesAt.toISOString(), priceMinor: '199', currency: 'GBP',
      maxTickets: 1000, perPlayerCap: 100, drawKind: o.drawKind ?? 'random', prizeTiers: [{ tier: 1, description: 'A car', winners: o.winners ?? 1 }], skillTestKind: o.drawKind === 'spot-the-ball' ? 'spot-the-ball' : 'multiple-choice',
    },
  }]);
  await waitForCompetition(s, competitionId, 'scheduled');
}

export async function waitForCompetition(s: SkillPlatform, competitionId: string, state: string): Promise<void> {
  await waitFor(async () => (await s.p.db.maybeOne('select 1 from skill.competitions where competition_id = $1 and state = $2', [competitionId, state])) !== undefined, { what: `skill to see the competition ${state}` });
}

/** PUT /v1/config/skill/<key> with the current version. */
export async function setSkillConfig(s: SkillPlatform, key: string, value: unknown): Promise<void> {
  const current = expectStatus(await s.p.http.get(`/v1/config/skill/${key}`, s.admin), 200, 'getRuntimeConfig');
  expectStatus(await s.p.http.request('PUT', `/v1/config/skill/${key}`, { token: s.admin, body: { value, version: current.entry.version, reason: 'test setting' } }), 200, `setRuntimeConfig ${key}`);
}

export async function startAttempt(s: SkillPlatform, token: string, competitionId: string) {
  return s.p.http.post(`/v1/competitions/${competitionId}/skill-test/attempts`, undefined, token);
}

export async function answer(s: SkillPlatform, token: string, attemptId: string, body: unknown) {
  return s.p.http.post(`/v1/skill-test/attempts/${attemptId}/answer`, body, token);
}

/** A real PNG (width × height, one grey channel) built here: signature, IHDR, IDAT, IEND with CRCs. */
export function pngImage(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

export async function uploadImage(s: SkillPlatform, bytes: Buffer): Promise<{ status: number; headers: Headers; body: any }> {
  return s.p.http.request('POST', '/v1/skill/images', { rawBody: bytes as unknown as string, token: s.author.accessToken, headers: { 'content-type': 'application/octet-stream' } });
}
