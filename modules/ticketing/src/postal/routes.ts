/** Operators record free postal entries (postal-entries:manage, MFA) and read the entry report. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OperatorPermissions, actorFromContext, idempotencyKeyHeaders, type HttpApp } from '@verity/kernel';
import type { PartContext } from '../contract.ts';
import { CompetitionParams, Problem } from '../competitions/contracts.ts';
import { EntryReportDto, PostalBody, PostalEntryDto, TAG_POSTAL } from './contracts.ts';
import type { PostalEntry } from './repository.ts';
import type { EntryReport, PostalService } from './service.ts';

const bearer = [{ bearer: [] }];

const entryView = (e: PostalEntry) => ({
  postalEntryId: e.id, competitionId: e.competitionId, envelopeRef: e.envelopeRef, status: e.status,
  ...(e.reason ? { reason: e.reason } : {}), ...(e.duplicateOf ? { duplicateOf: e.duplicateOf } : {}),
  ...(e.ticketId ? { ticketId: e.ticketId, number: e.number! } : {}), receivedAt: e.receivedAt.toISOString(), recordedAt: e.recordedAt.toISOString(),
});

const reportView = (r: EntryReport) => ({
  competitionId: r.competitionId, state: r.state, opensAt: r.opensAt.toISOString(), closesAt: r.closesAt.toISOString(), maxTickets: r.maxTickets,
  paid: { purchases: r.facts.paidPurchases, tickets: r.facts.paidTickets },
  free: { entries: r.facts.postalValid },
  voided: { paidTickets: r.facts.paidVoided, postalEntries: r.facts.postalVoided },
  invalid: r.facts.invalid,
  equalTreatment: {
    ...r.equalTreatment,
    ...(r.facts.lastPaidAt ? { lastPaidTicketAt: r.facts.lastPaidAt.toISOString() } : {}),
    ...(r.facts.lastPostalReceivedAt ? { lastValidPostalReceivedAt: r.facts.lastPostalReceivedAt.toISOString() } : {}),
  },
});

export function registerPostalRoutes(app: HttpApp, ctx: PartContext, service: PostalService): void {
  const { auth, idempotency } = ctx;
  const recorder = auth.require([OperatorPermissions.postalEntriesManage], { mfa: true, kinds: ['operator'] });
  const reader = auth.require([OperatorPermissions.competitionsRead], { mfa: true, kinds: ['operator'] });

  app.post('/v1/competitions/:competitionId/postal-entries', {
    preHandler: recorder,
    schema: {
      operationId: 'recordPostalEntry', tags: [TAG_POSTAL], security: bearer,
      summary: 'Record a free postal entry: same cutoff, same weight, same pool as a paid ticket (invalid entries are recorded with their reason)',
      headers: idempotencyKeyHeaders(), params: CompetitionParams, body: PostalBody, response: { 201: PostalEntryDto, '4xx': Problem },
    },
  }, idempotency.wrap(async (req: FastifyRequest, reply: FastifyReply) => {
    const b = req.body as { envelopeRef: string; name: string; address: string; answer: string; receivedAt: string };
    const entry = await service.record(actorFromContext(), (req.params as { competitionId: string }).competitionId, { ...b, receivedAt: new Date(b.receivedAt) });
    reply.code(201);
    return entryView(entry);
  }));

  app.get('/v1/competitions/:competitionId/entry-report', {
    preHandler: reader,
    schema: { operationId: 'getEntryReport', tags: [TAG_POSTAL], security: bearer, summary: 'Paid, free, voided and invalid entries, and whether deadline, weight and pool were equal (computed from the data)', params: CompetitionParams, response: { 200: EntryReportDto, '4xx': Problem } },
  }, async (req) => reportView(await service.report((req.params as { competitionId: string }).competitionId)));
}
