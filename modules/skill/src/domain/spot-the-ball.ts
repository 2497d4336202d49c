/**
 * Spot-the-ball rules, published with every result (docs/adr/0013): placements, the judged point
 * from the judges' points, distances, the ranking order and its hash. Pure and exact: every
 * coordinate is a whole pixel and every distance an integer (at most 2·10⁸ for a 10 000 px image,
 * far inside the exact range of a double).
 */
import { createHash } from 'node:crypto';
import { DomainError, Problems } from '@verity/kernel';

export interface Point {
  x: number;
  y: number;
}

export const TIE_BREAK =
  'The winner is the placement closest to the judged point by squared Euclidean distance in whole pixels (exact integers). '
  + 'Equal distances are ordered by the earlier placement (its placement sequence number, assigned in the order answers were recorded), '
  + 'then by the lower ticket number.';

export const JUDGED_POINT_RULE =
  'Two different judges each record a point. When they are at most the configured tolerance apart, the judged point is their midpoint, '
  + 'each coordinate rounded down to a whole pixel (floor((a + b) / 2)). Otherwise a third judge records a point and the judged point is '
  + 'the median of the three points, coordinate by coordinate.';

export const distanceSq = (a: Point, b: Point): number => (a.x - b.x) ** 2 + (a.y - b.y) ** 2;

/** Placements must be whole pixels inside the image; 1..max of them. */
export function checkPlacements(placements: readonly Point[], image: { width: number; height: number }, max: number): void {
  if (placements.length < 1 || placements.length > max) throw Problems.validation([{ pointer: '/body/placements', detail: `must hold 1 to ${max} placements` }]);
  placements.forEach((p, i) => {
    if (!Number.isInteger(p.x) || p.x < 0 || p.x >= image.width) throw Problems.validation([{ pointer: `/body/placements/${i}/x`, detail: `must be a whole pixel in 0..${image.width - 1}` }]);
    if (!Number.isInteger(p.y) || p.y < 0 || p.y >= image.height) throw Problems.validation([{ pointer: `/body/placements/${i}/y`, detail: `must be a whole pixel in 0..${image.height - 1}` }]);
  });
}

export type JudgingOutcome =
  | { state: 'waiting'; roundsNeeded: 1 | 2 }
  | { state: 'needs-third-judge' }
  | { state: 'judged'; point: Point; method: 'midpoint' | 'median-of-three' };

const median3 = (a: number, b: number, c: number): number => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));

/** Where judging stands given the points recorded so far (in round order). */
export function judgedPoint(points: readonly Point[], tolerancePx: number): JudgingOutcome {
  if (points.length === 0) return { state: 'waiting', roundsNeeded: 2 };
  if (points.length === 1) return { state: 'waiting', roundsNeeded: 1 };
  const [a, b, c] = points as [Point, Point, Point | undefined];
  if (distanceSq(a, b) <= tolerancePx * tolerancePx) {
    return { state: 'judged', point: { x: Math.floor((a.x + b.x) / 2), y: Math.floor((a.y + b.y) / 2) }, method: 'midpoint' };
  }
  if (!c) return { state: 'needs-third-judge' };
  return { state: 'judged', point: { x: median3(a.x, b.x, c.x), y: median3(a.y, b.y, c.y) }, method: 'median-of-three' };
}

export interface RankedEntry {
  ticketId: string;
  ticketNumber: number;
  placementSeq: bigint;
  x: number;
  y: number;
  distanceSq: number;
}

/** The published order: distance, then placement sequence, then ticket number. */
export function compareEntries(a: RankedEntry, b: RankedEntry): number {
  if (a.distanceSq !== b.distanceSq) return a.distanceSq - b.distanceSq;
  if (a.placementSeq !== b.placementSeq) return a.placementSeq < b.placementSeq ? -1 : 1;
  return a.ticketNumber - b.ticketNumber;
}

export const RANKING_HASH_HEADER = 'verity/spot-the-ball/ranking/v1\n';

/** One line of the ranking as hashed: `rank,ticketId,ticketNumber,x,y,distanceSq,placementSeq\n`. */
export const rankingLine = (rank: number, e: RankedEntry): string => `${rank},${e.ticketId},${e.ticketNumber},${e.x},${e.y},${e.distanceSq},${e.placementSeq}\n`;

/** SHA-256 (hex) of the header and every line in rank order: anyone with the ranking can recompute it. */
export function rankingHasher() {
  const hash = createHash('sha256').update(RANKING_HASH_HEADER);
  let rank = 0;
  return {
    add(e: RankedEntry) {
      hash.update(rankingLine(++rank, e));
    },
    digest: () => hash.digest('hex'),
  };
}

export const sameJudge = () => new DomainError('judge-already-recorded', 403, 'Another judge must record this point', 'Each judging round needs a different judge; you already recorded a point for this competition.');
export const judgingNotOpen = (detail: string) => new DomainError('judging-not-open', 409, 'Judging is not open', detail);
