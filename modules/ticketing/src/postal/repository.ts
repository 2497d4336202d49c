/** SQL of free postal entries and of the per-competition entry report. */
import type { Db } from '@verity/kernel';
import type { PostalReason } from '../domain/postal.ts';
import type { EqualityFacts } from '../domain/report.ts';

export interface PostalEntry {
  id: string;
  competitionId: string;
  envelopeRef: string;
  personHash: string;
  answerCorrect: boolean;
  questionVersionId?: string;
  receivedAt: Date;
  status: 'valid' | 'invalid' | 'voided';
  reason?: PostalReason;
  duplicateOf?: string;
  ticketId?: string;
  number?: number;
  recordedBy: string;
  recordedAt: Date;
}

export interface NewPostalEntry extends Omit<PostalEntry, 'recordedAt'> {
  nameEnc: string;
  addressEnc: string;
}

type Row = {
  id: string; competition_id: string; envelope_ref: string; person_hash: string; answer_correct: boolean; question_version_id: string | null; received_at: Date;
  status: PostalEntry['status']; reason: PostalReason | null; duplicate_of: string | null; ticket_id: string | null; number: number | null; recorded_by: string; recorded_at: Date;
};

function fromRow(r: Row): PostalEntry {
  return {
    id: r.id, competitionId: r.competition_id, envelopeRef: r.envelope_ref, personHash: r.person_hash, answerCorrect: r.answer_correct, receivedAt: r.received_at,
    status: r.status, recordedBy: r.recorded_by, recordedAt: r.recorded_at,
    ...(r.question_version_id ? { questionVersionId: r.question_version_id } : {}), ...(r.reason ? { reason: r.reason } : {}),
    ...(r.duplicate_of ? { duplicateOf: r.duplicate_of } : {}), ...(r.ticket_id ? { ticketId: r.ticket_id } : {}), ...(r.number !== null ? { number: r.number } : {}),
  };
}

/** What the entry report counts; the equal-treatment facts are the domain's (domain/report.ts). */
export interface ReportFacts extends Omit<EqualityFacts, 'opensAt' | 'closesAt' | 'maxTickets'> {
  paidTickets: number;
  paidPurchases: number;
  paidVoided: number;
  postalValid: number;
  postalVoided: number;
  invalid: Record<string, number>;
}

export function createPostalRepository(db: Db) {
  return {
    async byEnvelope(competitionId: string, envelopeRef: string): Promise<PostalEntry | undefined> {
      const row = await db.maybeOne<Row>('select * from ticketing.postal_entries where competition_id = $1 and envelope_ref = $2', [competitionId, envelopeRef]);
      return row ? fromRow(row) : undefined;
    },

    /** Entries of the same person (oldest first). */
    async ofPerson(competitionId: string, personHash: string): Promise<PostalEntry[]> {
      const rows = await db.query<Row>('select * from ticketing.postal_entries where competition_id = $1 and person_hash = $2 order by recorded_at, id', [competitionId, personHash]);
      return rows.map(fromRow);
    },

    async insert(e: NewPostalEntry): Promise<PostalEntry> {
      const row = await db.one<Row>(
        `insert into ticketing.postal_entries (id, competition_id, envelope_ref, person_hash, name_enc, address_enc, answer_correct, question_version_id, received_at,
                                               status, reason, duplicate_of, ticket_id, number, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning *`,
        [e.id, e.competitionId, e.envelopeRef, e.personHash, e.nameEnc, e.addressEnc, e.answerCorrect, e.questionVersionId ?? null, e.receivedAt,
          e.status, e.reason ?? null, e.duplicateOf ?? null, e.ticketId ?? null, e.number ?? null, e.recordedBy],
      );
      return fromRow(row);
    },

    /** Voids every valid entry and its ticket; returns the ticket ids. */
    async voidAll(competitionId: string, reason: 'competition-cancelled'): Promise<string[]> {
      const rows = await db.query<{ ticket_id: string }>(
        `update ticketing.postal_entries set status = 'voided', reason = $2, voided_at = clock_timestamp()
          where competition_id = $1 and status = 'valid' returning ticket_id`,
        [competitionId, reason],
      );
      const ids = rows.map((r) => r.ticket_id);
      if (ids.length) {
        await db.query(`update ticketing.tickets set state = 'voided', voided_at = clock_timestamp(), void_reason = $2 where id = any($1::uuid[]) and state = 'valid'`, [ids, reason]);
      }
      return ids;
    },

    async reportFacts(competitionId: string): Promise<ReportFacts> {
      const t = await db.one<Record<string, unknown>>(
        `select count(*) filter (where kind = 'paid' and state = 'valid') as paid_tickets,
                count(*) filter (where kind = 'paid' and state = 'voided') as paid_voided,
                min(issued_at) filter (where kind = 'paid') as first_paid_at,
                max(issued_at) filter (where kind = 'paid') as last_paid_at,
                count(*) filter (where state = 'valid') as valid_tickets,
                count(distinct number) filter (where state = 'valid') as distinct_numbers,
                min(number) filter (where state = 'valid') as min_number,
                max(number) filter (where state = 'valid') as max_number
           from ticketing.tickets where competition_id = $1`,
        [competitionId],
      );
      const p = await db.one<Record<string, unknown>>(
        `select count(*) filter (where status = 'valid') as valid,
                count(*) filter (where status = 'voided') as voided,
                min(received_at) filter (where ticket_id is not null) as first_received,
                max(received_at) filter (where ticket_id is not null) as last_received,
                count(*) filter (where status = 'valid' and (select count(*) from ticketing.tickets t where t.postal_entry_id = e.id and t.state = 'valid') <> 1) as without_one
           from ticketing.postal_entries e where competition_id = $1`,
        [competitionId],
      );
      const invalid = await db.query<{ reason: string; n: bigint }>(
        `select reason, count(*) as n from ticketing.postal_entries where competition_id = $1 and status = 'invalid' group by reason`,
        [competitionId],
      );
      const x = await db.one<{ purchases: bigint; wrong: bigint; pool: bigint | null }>(
        `select (select count(*) from ticketing.purchases where competition_id = $1 and state in ('issued', 'posted')) as purchases,
                (select count(*) from ticketing.purchases pu where competition_id = $1 and state in ('issued', 'posted')
                   and pu.quantity <> (select count(*) from ticketing.tickets t where t.purchase_id = pu.id and t.state = 'valid')) as wrong,
                (select sum(sold) from ticketing.number_shards where competition_id = $1)::bigint as pool`,
        [competitionId],
      );
      const n = (v: unknown) => Number(v ?? 0);
      const d = (v: unknown) => (v instanceof Date ? v : undefined);
      const facts: ReportFacts = {
        paidTickets: n(t.paid_tickets), paidPurchases: n(x.purchases), paidVoided: n(t.paid_voided), postalValid: n(p.valid), postalVoided: n(p.voided),
        invalid: Object.fromEntries(invalid.map((r) => [r.reason, Number(r.n)])), postalWithoutOneTicket: n(p.without_one), purchasesWrongCount: n(x.wrong),
        validTickets: n(t.valid_tickets), distinctNumbers: n(t.distinct_numbers), poolSold: n(x.pool),
      };
      const optional = { firstPaidAt: d(t.first_paid_at), lastPaidAt: d(t.last_paid_at), firstPostalReceivedAt: d(p.first_received), lastPostalReceivedAt: d(p.last_received), minNumber: t.min_number ?? undefined, maxNumber: t.max_number ?? undefined };
      for (const [k, v] of Object.entries(optional)) if (v !== undefined) (facts as unknown as Record<string, unknown>)[k] = v;
      return facts;
    },
  };
}

export type PostalRepository = ReturnType<typeof createPostalRepository>;
