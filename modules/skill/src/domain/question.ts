/**
 * Questions: what a valid version is, the version states and who may move them, and how a
 * written (postal) answer is compared with the correct option. Pure: no I/O.
 */
import { DomainError, Problems } from '@verity/kernel';

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];
export const OPTION_IDS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
export const OPTIONS_MIN = 3;
export const OPTIONS_MAX = 6;
export const CATEGORY = /^[a-z0-9][a-z0-9-]{0,39}$/;

export type VersionState = 'pending' | 'approved' | 'rejected' | 'superseded' | 'suspended';

export interface QuestionDraft {
  text: string;
  options: string[];
  /** Index into `options` (0-based). */
  correctOption: number;
  category: string;
  difficulty: Difficulty;
}

export interface QuestionContent {
  text: string;
  options: { id: string; text: string }[];
  correctOptionId: string;
  category: string;
  difficulty: Difficulty;
}

/** Case, width and spacing folded; punctuation at the ends dropped: how two answers are compared. */
export function normaliseAnswer(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim().replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, '');
}

const invalid = (pointer: string, detail: string) => Problems.validation([{ pointer: `/body/${pointer}`, detail }]);

/** A draft as a version's content (option ids a..f in order), or a 400 naming the field. */
export function toContent(d: QuestionDraft): QuestionContent {
  const text = d.text.trim();
  if (text.length < 5 || text.length > 500) throw invalid('text', 'must be 5..500 characters');
  if (d.options.length < OPTIONS_MIN || d.options.length > OPTIONS_MAX) throw invalid('options', `must have ${OPTIONS_MIN} to ${OPTIONS_MAX} options`);
  const seen = new Set<string>();
  d.options.forEach((o, i) => {
    const n = normaliseAnswer(o);
    if (n.length === 0 || o.trim().length > 200) throw invalid(`options/${i}`, 'must be 1..200 characters with a letter or digit');
    if (seen.has(n)) throw invalid(`options/${i}`, 'repeats another option');
    seen.add(n);
  });
  if (!Number.isInteger(d.correctOption) || d.correctOption < 0 || d.correctOption >= d.options.length) throw invalid('correctOption', 'must be the index of one of the options');
  if (!CATEGORY.test(d.category)) throw invalid('category', 'must be lower-case letters, digits and hyphens (1..40)');
  if (!DIFFICULTIES.includes(d.difficulty)) throw invalid('difficulty', `must be one of ${DIFFICULTIES.join(', ')}`);
  return {
    text,
    options: d.options.map((o, i) => ({ id: OPTION_IDS[i]!, text: o.trim() })),
    correctOptionId: OPTION_IDS[d.correctOption]!,
    category: d.category,
    difficulty: d.difficulty,
  };
}

/**
 * Is `answer` (written on an envelope) the correct option? Either the option's text or its label
 * ("B", "b)", "(b)") counts, compared after normalisation.
 */
export function isCorrectWrittenAnswer(content: Pick<QuestionContent, 'options' | 'correctOptionId'>, answer: string): boolean {
  const given = normaliseAnswer(answer);
  if (given.length === 0) return false;
  const correct = content.options.find((o) => o.id === content.correctOptionId);
  if (!correct) return false;
  return given === normaliseAnswer(correct.text) || given === correct.id;
}

export const fourEyesRequired = () =>
  new DomainError('four-eyes-required', 403, 'Another operator must decide', 'The operator who wrote a question version cannot approve or reject it.');

export const versionNotPending = (state: VersionState) =>
  new DomainError('question-version-not-pending', 409, 'The version was already decided', `This version is ${state}; only a pending version can be approved or rejected.`, { state });

export const questionRetired = () => new DomainError('question-retired', 409, 'The question is retired', 'A retired question cannot be revised or approved.');

/** Approving or rejecting a version: allowed only while pending and only to someone else than its author. */
export function checkDecision(version: { state: VersionState; authoredBy: string }, decider: string): void {
  if (version.authoredBy === decider) throw fourEyesRequired();
  if (version.state !== 'pending') throw versionNotPending(version.state);
}
