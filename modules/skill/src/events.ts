/**
 * Events: those skill publishes (its contract with consumers), and the shapes skill reads from the
 * ticketing events it consumes. Skill does not import ticketing (ticketing depends on skill): it
 * declares and checks here only the fields it uses.
 */

export const SKILL_EVENTS = {
  questionPassRateAlert: 'skill.question-pass-rate-alert.v1',
  spotTheBallJudged: 'skill.spot-the-ball-judged.v1',
} as const;

export interface QuestionPassRateAlertV1 {
  alertId: string;
  questionId: string;
  questionVersionId: string;
  answers: number;
  passes: number;
  passRateBp: number;
  maxPassRateBp: number;
  suspended: boolean;
}

export interface SpotTheBallJudgedV1 {
  competitionId: string;
  judgedPoint: { x: number; y: number };
  winners: { ticketId: string; ticketNumber: number; distanceSq: number; rank: number }[];
  imageSha256: string;
  rankingHash: string;
  entries: number;
}

export const TICKETING_EVENTS = {
  published: 'ticketing.competition-published.v1',
  opened: 'ticketing.competition-opened.v1',
  closed: 'ticketing.competition-closed.v1',
  cancelled: 'ticketing.competition-cancelled.v1',
  closingTimeChanged: 'ticketing.competition-closing-time-changed.v1',
  ticketsPurchased: 'ticketing.tickets-purchased.v1',
  ticketsVoided: 'ticketing.tickets-voided.v1',
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const uuidOf = (v: unknown): string | undefined => (typeof v === 'string' && UUID.test(v) ? v.toLowerCase() : undefined);
export const dateOf = (v: unknown): Date | undefined => {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};
export const countOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** `ticketing.competition-published.v1`: what skill keeps of it. */
export interface PublishedRead {
  competitionId: string;
  closesAt?: Date;
  drawKind?: string;
  /** Winners over all prize tiers (spot-the-ball ranks this many). */
  winners: number;
}

export function readPublished(d: Record<string, unknown>): PublishedRead | undefined {
  const competitionId = uuidOf(d.competitionId);
  if (!competitionId) return undefined;
  const tiers = Array.isArray(d.prizeTiers) ? d.prizeTiers.slice(0, 100) : [];
  const winners = tiers.reduce<number>((n, t) => n + (countOf((t as { winners?: unknown })?.winners) ?? 0), 0);
  const closesAt = dateOf(d.closesAt);
  return { competitionId, ...(closesAt ? { closesAt } : {}), ...(typeof d.drawKind === 'string' ? { drawKind: d.drawKind.slice(0, 40) } : {}), winners: Math.min(Math.max(winners, 1), 1000) };
}

export interface ClosedRead {
  competitionId: string;
  closedAt?: Date;
  sold?: number;
  voided?: number;
}

export function readClosed(d: Record<string, unknown>): ClosedRead | undefined {
  const competitionId = uuidOf(d.competitionId);
  if (!competitionId) return undefined;
  const closedAt = dateOf(d.closedAt);
  const sold = countOf(d.sold);
  const voided = countOf(d.voided);
  return { competitionId, ...(closedAt ? { closedAt } : {}), ...(sold !== undefined ? { sold } : {}), ...(voided !== undefined ? { voided } : {}) };
}

export interface PurchasedRead {
  purchaseId: string;
  competitionId: string;
  playerId: string;
  skillTokenId?: string;
  tickets: { ticketId: string; number: number }[];
}

/** A purchase carries at most this many tickets (larger ones are refused upstream). */
const TICKETS_PER_PURCHASE_MAX = 10_000;

export function readPurchased(d: Record<string, unknown>): PurchasedRead | undefined {
  const purchaseId = typeof d.purchaseId === 'string' && d.purchaseId.length <= 64 ? d.purchaseId : undefined;
  const competitionId = uuidOf(d.competitionId);
  const playerId = typeof d.playerId === 'string' && d.playerId.length <= 64 ? d.playerId : undefined;
  if (!purchaseId || !competitionId || !playerId || !Array.isArray(d.tickets)) return undefined;
  const tickets: { ticketId: string; number: number }[] = [];
  for (const t of d.tickets.slice(0, TICKETS_PER_PURCHASE_MAX)) {
    const ticketId = uuidOf((t as { ticketId?: unknown })?.ticketId);
    const number = countOf((t as { number?: unknown })?.number);
    if (ticketId && number !== undefined) tickets.push({ ticketId, number });
  }
  const skillTokenId = uuidOf(d.skillTokenId);
  return { purchaseId, competitionId, playerId, ...(skillTokenId ? { skillTokenId } : {}), tickets };
}

export function readVoided(d: Record<string, unknown>): { competitionId: string; ticketIds: string[]; reason: string } | undefined {
  const competitionId = uuidOf(d.competitionId);
  if (!competitionId || !Array.isArray(d.ticketIds)) return undefined;
  const ticketIds = d.ticketIds.slice(0, TICKETS_PER_PURCHASE_MAX * 10).map(uuidOf).filter((x): x is string => x !== undefined);
  return { competitionId, ticketIds, reason: typeof d.reason === 'string' ? d.reason.slice(0, 200) : 'voided' };
}
