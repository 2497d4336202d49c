/** Competitions as the API shows them (DTOs): never a row, never the lucky-dip key. */
import type { Competition } from '../contract.ts';
import type { OverrideRow } from './repository.ts';

const iso = (d: Date | undefined) => d?.toISOString();

function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function competitionView(c: Competition, sold?: number) {
  const r = c.prizeReadiness;
  return defined({
    competitionId: c.id, state: c.state, title: c.title, description: c.description, drawKind: c.drawKind, currency: c.currency,
    priceMinor: c.priceMinor?.toString(), maxTickets: c.maxTickets, perPlayerCap: c.perPlayerCap, opensAt: iso(c.opensAt), closesAt: iso(c.closesAt),
    prizeTiers: c.prizeTiers.map((t) => defined({ tier: t.tier, description: t.description, winners: t.winners, cashMinor: t.cashMinor?.toString(), cashAlternativeMinor: t.cashAlternativeMinor?.toString() })),
    freeEntry: c.freeEntry,
    skillTest: c.skillTest ? defined({ kind: c.skillTest.kind, summary: c.skillTest.summary }) : undefined,
    prizeReadiness: r ? defined({ kind: r.kind, documentSha256: r.documentSha256, externalReference: r.externalReference, cashAlternativeReservedMinor: r.cashAlternativeReservedMinor.toString(), attestedAt: r.attestedAt.toISOString() }) : undefined,
    ticketsSold: sold,
    ticketsRemaining: sold !== undefined && c.maxTickets !== undefined ? Math.max(0, c.maxTickets - sold) : undefined,
    drawManifest: c.drawManifest ? { drawId: c.drawManifest.drawId, manifestHash: c.drawManifest.manifestHash, logIndex: c.drawManifest.logIndex } : undefined,
    createdAt: c.createdAt.toISOString(), publishedAt: iso(c.publishedAt), openedAt: iso(c.openedAt), closedAt: iso(c.closedAt), cancelledAt: iso(c.cancelledAt), cancelReason: c.cancelReason,
  });
}

export function overrideView(o: OverrideRow) {
  return defined({
    overrideId: o.id, competitionId: o.competitionId, state: o.state, oldClosesAt: o.oldClosesAt.toISOString(), newClosesAt: o.newClosesAt.toISOString(),
    reason: o.reason, requestedBy: o.requestedBy, requestedAt: o.requestedAt.toISOString(), approvedBy: o.approvedBy, approvedAt: iso(o.approvedAt),
  });
}
