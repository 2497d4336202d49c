/**
 * The skill module: the question bank (versioned, four-eyes approved), the skill test of each
 * competition (multiple choice or spot-the-ball), the entrant's timed attempts and the signed pass
 * token a purchase consumes, pass-rate tracking with alerts, and spot-the-ball judging.
 * This file is its only import surface (ADR 0013).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '@verity/kernel';
import { setupAttempts } from './attempts/setup.ts';
import { setupBank } from './bank/setup.ts';
import type { PassTokenCheck, PostalGrade, TestForCompetition } from './contract.ts';
import { setupJudging } from './judging/setup.ts';
import { defineSkillSettings } from './settings.ts';
import { setupSkillTests } from './skill-tests/setup.ts';

export type { PassTokenCheck, PostalGrade, SkillTestKind, TestForCompetition } from './contract.ts';
export { SKILL_EVENTS, type QuestionPassRateAlertV1, type SpotTheBallJudgedV1 } from './events.ts';

export interface SkillService {
  /** Publishing a competition requires a configured, approved, ready skill test. */
  getTestForCompetition(input: { competitionId: string }): Promise<TestForCompetition>;
  /** Checks a pass token WITHOUT consuming it; ticketing consumes it (unique token id in its own table, in the purchase transaction). */
  verifyPassToken(input: { token: string; playerId: string; competitionId: string }): Promise<PassTokenCheck>;
  /** Free postal route: grades the answer written on an envelope against the competition's published postal question. */
  gradePostalAnswer(input: { competitionId: string; answer: string }): Promise<PostalGrade>;
}

export const skillModule = defineModule<SkillService>({
  name: 'skill',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['getTestForCompetition', 'verifyPassToken', 'gradePostalAnswer'],
  setup(ctx) {
    const settings = defineSkillSettings(ctx.runtimeConfig);
    const bank = setupBank(ctx, settings);
    const tests = setupSkillTests(ctx, { settings, bank: bank.internals });
    const attempts = setupAttempts(ctx, { settings, bank: bank.internals, tests: tests.internals });
    const judging = setupJudging(ctx, { settings, tests: tests.internals });
    const parts = [bank, tests, attempts, judging];
    return {
      service: {
        getTestForCompetition: (input) => tests.internals.service.readiness(input.competitionId),
        verifyPassToken: (input) => attempts.internals.verifyPassToken(input),
        gradePostalAnswer: (input) => tests.internals.service.gradePostalAnswer(input.competitionId, input.answer),
      },
      async routes(app) {
        for (const part of parts) await part.routes?.(app);
      },
      subscribers: parts.flatMap((p) => p.subscribers ?? []),
      jobs: parts.flatMap((p) => p.jobs ?? []),
    };
  },
});
