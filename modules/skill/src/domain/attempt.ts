/**
 * An entrant's attempt at a skill test, as a state machine:
 *
 *   open ──answer in time, correct (or placements)──▶ passed   (a pass token is issued)
 *   open ──answer in time, wrong──────────────────────▶ failed
 *   open ──answer after expiresAt, or seen expired────▶ expired
 *
 * Every other move is refused; an attempt is answered at most once. Also the attempt limit and the
 * pass-rate rule. Pure: no I/O.
 */
import { DomainError } from '@verity/kernel';

export type AttemptState = 'open' | 'passed' | 'failed' | 'expired';
export type AttemptEvent = 'pass' | 'fail' | 'expire';

const MOVES: Readonly<Record<AttemptState, Partial<Record<AttemptEvent, AttemptState>>>> = {
  open: { pass: 'passed', fail: 'failed', expire: 'expired' },
  passed: {},
  failed: {},
  expired: {},
};

export const attemptAnswered = (state: AttemptState) =>
  new DomainError('skill-attempt-answered', 409, 'This attempt was already answered', `The attempt is ${state}. Start a new attempt.`, { state });

export const attemptExpired = () =>
  new DomainError('skill-attempt-expired', 409, 'Time is up', 'The answer arrived after the time limit. Start a new attempt.');

export function move(state: AttemptState, event: AttemptEvent): AttemptState {
  const to = MOVES[state][event];
  if (!to) throw attemptAnswered(state);
  return to;
}

/** The answer's fate by the database clock: late answers are refused (the attempt expires). */
export function answerIsLate(now: Date, expiresAt: Date): boolean {
  return now.getTime() > expiresAt.getTime();
}

/** Attempts left in the window after `used` non-passing attempts. */
export const attemptsLeft = (perWindow: number, used: number): number => Math.max(0, perWindow - used);

export const attemptsExhausted = (perWindow: number, retryAfterS: number) =>
  new DomainError('skill-attempts-exhausted', 429, 'No attempts left', `You have used your ${perWindow} attempts for this competition. Try again in ${retryAfterS} seconds.`, {
    retryAfterSeconds: retryAfterS,
  });

/** Pass rate in basis points (floor): 10000 = every answer passed. */
export const passRateBp = (answers: number, passes: number): number => (answers === 0 ? 0 : Math.floor((passes * 10_000) / answers));

/**
 * Does a question no longer deter enough entrants? Exact in integers: passes / answers > bp / 10000
 * ⇔ passes · 10000 > bp · answers, once answers ≥ minAnswers.
 */
export function passRateExceeded(stats: { answers: number; passes: number }, rule: { minAnswers: number; maxPassRateBp: number }): boolean {
  return stats.answers >= rule.minAnswers && stats.passes * 10_000 > rule.maxPassRateBp * stats.answers;
}
