/**
 * The game rules of the skill tests: runtime configuration (kernel, ADR 0013), read on every use and
 * changed by operators with settings:manage, each change versioned and audited.
 */
import { Type } from 'typebox';
import type { RuntimeConfig, RuntimeConfigHandle } from '@verity/kernel';

export interface PassRateAlertRule {
  /** Answers a question version needs before its pass rate is judged. */
  minAnswers: number;
  /** Pass rate (basis points: 9000 = 90 %) above which the question no longer deters enough entrants. */
  maxPassRateBp: number;
  /** Take the question version out of the draw when it alerts. */
  suspendQuestion: boolean;
}

export interface SkillSettings {
  multipleChoiceTimeLimitS: RuntimeConfigHandle<number>;
  spotTheBallTimeLimitS: RuntimeConfigHandle<number>;
  attemptsPerWindow: RuntimeConfigHandle<number>;
  attemptWindowS: RuntimeConfigHandle<number>;
  passTokenTtlS: RuntimeConfigHandle<number>;
  passRateAlert: RuntimeConfigHandle<PassRateAlertRule>;
  judgeTolerancePx: RuntimeConfigHandle<number>;
}

export function defineSkillSettings(config: RuntimeConfig): SkillSettings {
  return {
    multipleChoiceTimeLimitS: config.define('multiple-choice.time-limit-s', Type.Integer({
      minimum: 5, maximum: 600, description: 'Seconds an entrant has to answer a multiple-choice question, counted by the database clock from the moment it is shown.',
    }), 45),
    spotTheBallTimeLimitS: config.define('spot-the-ball.time-limit-s', Type.Integer({
      minimum: 30, maximum: 3600, description: 'Seconds an entrant has to place their balls on a spot-the-ball image.',
    }), 900),
    attemptsPerWindow: config.define('attempts.per-window', Type.Integer({
      minimum: 1, maximum: 50, description: 'Attempts an entrant may start on one competition within the window that did not pass (failed, timed out or still open).',
    }), 3),
    attemptWindowS: config.define('attempts.window-s', Type.Integer({
      minimum: 60, maximum: 30 * 86_400, description: 'The rolling window (seconds) over which attempts are counted per entrant and competition.',
    }), 86_400),
    passTokenTtlS: config.define('pass-token.ttl-s', Type.Integer({
      minimum: 60, maximum: 3600, description: 'How long a pass token may be used to buy tickets after the answer passed (seconds).',
    }), 600),
    passRateAlert: config.define('pass-rate-alert', Type.Object({
      minAnswers: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      maxPassRateBp: Type.Integer({ minimum: 0, maximum: 10_000 }),
      suspendQuestion: Type.Boolean(),
    }, {
      additionalProperties: false,
      description: 'When a question version has at least minAnswers answers and its pass rate exceeds maxPassRateBp (basis points), '
        + 'it no longer deters a significant share of entrants (Gambling Act 2005 s.14(5)): an alert is raised once, and the version is suspended when suspendQuestion.',
    }), { minAnswers: 200, maxPassRateBp: 9000, suspendQuestion: false }),
    judgeTolerancePx: config.define('spot-the-ball.judge-tolerance-px', Type.Integer({
      minimum: 0, maximum: 10_000, description: 'Two judges agree when their points are at most this many pixels apart (Euclidean); otherwise a third judge decides.',
    }), 12),
  };
}
