/**
 * Free postal entries, recorded by operators (ADR 0014, rules in domain/postal.ts): the same cutoff,
 * the same weight, the same pool as paid tickets. Names and addresses are encrypted under the
 * entry's own data key; the same person is found through a keyed hash, never by reading them.
 */
import { uuidv7 } from '@verity/kernel';
import type { PartContext, Ports, PublishedCompetition } from '../contract.ts';
import type { SoldCounters } from '../competitions/cache.ts';
import type { CompetitionsRepository } from '../competitions/repository.ts';
import { acceptsPostalEntries } from '../domain/lifecycle.ts';
import { normalizePerson, postalRefusal, type PostalReason } from '../domain/postal.ts';
import { equalTreatment, type EqualTreatment } from '../domain/report.ts';
import { TicketingErrors } from '../errors.ts';
import { TicketingEvents, type PostalEntryRecordedV1 } from '../events.ts';
import { isRefusal, type Allocator, type IssuedTicket } from '../pool/allocator.ts';
import type { PostalEntry, PostalRepository, ReportFacts } from './repository.ts';

export interface PostalInput {
  envelopeRef: string;
  name: string;
  address: string;
  answer: string;
  receivedAt: Date;
}

export interface EntryReport {
  competitionId: string;
  state: string;
  opensAt: Date;
  closesAt: Date;
  maxTickets: number;
  facts: ReportFacts;
  equalTreatment: EqualTreatment;
}

const PERSON_PURPOSE = 'ticketing.postal-person';

export function createPostalService(ctx: PartContext, deps: { ports: Ports; repo: PostalRepository; competitions: CompetitionsRepository; allocator: Allocator; counters: SoldCounters }) {
  const { db } = ctx;
  const { repo } = deps;

  async function record(actor: string, competitionId: string, input: PostalInput): Promise<PostalEntry> {
    const graded = await deps.ports.skill().gradePostalAnswer({ competitionId, answer: input.answer });
    const id = uuidv7();
    const subject = `postal-entry:${id}`;
    const [nameEnc, addressEnc] = [await ctx.crypto.encrypt(subject, input.name), await ctx.crypto.encrypt(subject, input.address)];
    const personHash = ctx.crypto.keyedHash(PERSON_PURPOSE, `${competitionId}|${normalizePerson(input.name, input.address)}`);
    const entry = await db.tx(async () => {
      // The competition row is held: a cancel, a close or the draw waits for this entry, and it for them.
      const c = await deps.competitions.get(competitionId, { lock: true });
      if (!c || c.state === 'draft') throw TicketingErrors.competitionNotFound();
      if (!acceptsPostalEntries(c.state)) throw TicketingErrors.notAcceptingPostal(c.state);
      if (input.receivedAt.getTime() > (await db.now()).getTime()) throw TicketingErrors.receivedInFuture();
      const same = await repo.byEnvelope(competitionId, input.envelopeRef);
      if (same) throw TicketingErrors.envelopeDuplicate(same.id);
      const p = c as PublishedCompetition;
      const ofPerson = await repo.ofPerson(competitionId, personHash);
      let reason: PostalReason | undefined = postalRefusal({
        receivedAt: input.receivedAt, opensAt: p.opensAt, closesAt: p.closesAt, answerCorrect: graded.correct,
        validOfPerson: ofPerson.filter((e) => e.status === 'valid').length, perPlayerCap: p.perPlayerCap,
      });
      // The draw's close snapshot is taken when sales close: an entry that would be valid must be in
      // by then, or it would be a valid entry missing from the draw. Late ones are recorded as late.
      if (!reason && c.state !== 'on_sale') throw TicketingErrors.postalIntakeClosed();
      let ticket: IssuedTicket | undefined;
      if (!reason) {
        const got = await deps.allocator.luckyDipExact({ id: competitionId, maxTickets: p.maxTickets, shardCount: p.shardCount }, 1, { kind: 'postal', postalEntryId: id }, { ignoreSales: true });
        if (isRefusal(got)) reason = 'sold-out';
        else ticket = got.tickets[0];
      }
      const saved = await repo.insert({
        id, competitionId, envelopeRef: input.envelopeRef, personHash, nameEnc, addressEnc, answerCorrect: graded.correct, receivedAt: input.receivedAt,
        status: reason ? 'invalid' : 'valid', recordedBy: actor,
        ...(graded.questionVersionId ? { questionVersionId: graded.questionVersionId } : {}), ...(reason ? { reason } : {}),
        ...(ofPerson[0] ? { duplicateOf: ofPerson[0].id } : {}), ...(ticket && !reason ? { ticketId: ticket.id, number: ticket.number } : {}),
      });
      await ctx.events.publish<PostalEntryRecordedV1>({
        type: TicketingEvents.postalEntryRecorded, subject: competitionId,
        data: { competitionId, postalEntryId: id, valid: !reason, ...(saved.ticketId ? { ticketId: saved.ticketId, number: saved.number! } : {}), ...(reason ? { reason } : {}) },
      });
      await ctx.audit.record({
        actor, action: 'ticketing.postal-entry-recorded', subject: `competition:${competitionId}`,
        data: { postalEntryId: id, envelopeRef: input.envelopeRef, personHash, status: saved.status, reason: reason ?? null, duplicateOf: saved.duplicateOf ?? null, receivedAt: input.receivedAt.toISOString() },
      });
      return saved;
    });
    if (entry.status === 'valid') await deps.counters.add(competitionId, 1).catch(() => {});
    return entry;
  }

  async function report(competitionId: string): Promise<EntryReport> {
    const c = await deps.competitions.get(competitionId);
    if (!c || c.state === 'draft') throw TicketingErrors.competitionNotFound();
    const p = c as PublishedCompetition;
    const facts = await repo.reportFacts(competitionId);
    return { competitionId, state: c.state, opensAt: p.opensAt, closesAt: p.closesAt, maxTickets: p.maxTickets, facts, equalTreatment: equalTreatment({ ...facts, opensAt: p.opensAt, closesAt: p.closesAt, maxTickets: p.maxTickets }) };
  }

  return { record, report };
}

export type PostalService = ReturnType<typeof createPostalService>;
