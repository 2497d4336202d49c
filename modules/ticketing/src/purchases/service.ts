/**
 * purchaseTickets: the story of one purchase (ADR 0014).
 *
 *   claim (player, Idempotency-Key) → checks (eligibility, skill pass, caps) → reserve the wallet
 *   (payments, outside any transaction of ours) → ONE ticketing transaction (consume the pass,
 *   per-player counter, numbers from the pool under database time, tickets, outbox) → post.
 *
 * Every ledger call carries a transfer id derived from the purchase id, so a retry, a resumed
 * purchase and the recovery job all converge on the same transfers; every state change of the
 * purchase row is compare-and-set, so whoever moves it first wins and the others follow.
 */
import { randomInt } from 'node:crypto';
import { DomainError, PgError, isDomainError, pgCode, requestContext, uuidv7 } from '@verity/kernel';
import type { Competition, Failpoints, PartContext, Ports, PublishedCompetition } from '../contract.ts';
import type { CompetitionCache, SoldCounters } from '../competitions/cache.ts';
import type { CompetitionsRepository } from '../competitions/repository.ts';
import { purchaseBlock } from '../domain/lifecycle.ts';
import { hasTickets, numbersProblem, requestHash, transferIdFor, type PurchaseRequest, type PurchaseState } from '../domain/purchase.ts';
import { TicketingErrors } from '../errors.ts';
import { TicketingEvents, type TicketsPurchasedV1 } from '../events.ts';
import { isRefusal, issuedFrom, ticketSet, type Allocator, type IssuedTicket, type PoolRefusal } from '../pool/allocator.ts';
import type { PostedMarker } from './poster.ts';
import { IssueRefused, SkillTokenUsed, type Purchase, type PurchasesRepository, type StoredProblem, type TicketView } from './repository.ts';

/** How long a duplicate request waits for the first one to finish before it is told to retry. */
const DUPLICATE_WAIT_MS = 10_000;
const DUPLICATE_POLL_MS = 25;

export interface PurchaseInput extends PurchaseRequest {
  playerId: string;
  idempotencyKey: string;
}

export interface PurchaseView {
  purchaseId: string;
  competitionId: string;
  state: PurchaseState;
  quantity: number;
  amountMinor: bigint;
  currency: string;
  tickets: TicketView[];
  createdAt: Date;
}

/** A refusal decided after the claim: stored as the purchase's answer. */
class Refusal extends Error {
  readonly problem: DomainError;
  constructor(problem: DomainError) {
    super(problem.message);
    this.problem = problem;
  }
}

/** The purchase row was resolved by someone else (recovery, a resumed retry) while we worked. */
class Lost extends Error {}

/** The fast path found every shard with room held: roll back, take the exact path. */
class Contended extends Error {}

const DEADLOCK_RETRIES = 3;
/** Within this many numbers of sell-out (by the cached counter), the free count is read first. */
const NEAR_SOLD_OUT_MARGIN = 100;

interface Drive {
  p: Purchase;
  resumed: boolean;
}

const stored = (e: DomainError): StoredProblem => ({ status: e.status, code: e.code, title: e.title, detail: e.detail, extensions: e.extensions });
const restored = (p: StoredProblem): DomainError => new DomainError(p.code, p.status, p.title, p.detail, p.extensions);
const isClientError = (err: unknown): err is DomainError => isDomainError(err) && err.status < 500;

export interface PurchaseDeps {
  ctx: PartContext;
  ports: Ports;
  repo: PurchasesRepository;
  competitions: CompetitionsRepository;
  cache: CompetitionCache;
  counters: SoldCounters;
  allocator: Allocator;
  poster: PostedMarker;
  failpoints: Failpoints;
}

export function createPurchaseService(deps: PurchaseDeps) {
  const { ctx, ports, repo, allocator, poster, failpoints } = deps;
  const { db, config, log } = ctx;
  /** Purchases this process is driving now: a retry here waits for them instead of resuming them. */
  const inflight = new Set<string>();

  async function purchase(input: PurchaseInput): Promise<{ purchase: PurchaseView; replayed: boolean }> {
    const c = await deps.cache.get(input.competitionId);
    if (!c || c.state === 'draft' || c.priceMinor === undefined) throw TicketingErrors.competitionNotFound();
    const hash = requestHash(input);
    const id = uuidv7();
    const claimed = await repo.claim({
      id, playerId: input.playerId, idempotencyKey: input.idempotencyKey, requestHash: hash, competitionId: c.id, quantity: input.quantity,
      ...(input.numbers ? { numbers: input.numbers } : {}), amountMinor: c.priceMinor * BigInt(input.quantity), currency: c.currency, reservationId: transferIdFor(id, 'reserve'),
    });
    if (claimed) return { purchase: await drive(claimed, input, false), replayed: false };
    return answerExisting(input, hash);
  }

  /** Same key again: the stored answer, a wait for the first request, or (after a crash) a resume. */
  async function answerExisting(input: PurchaseInput, hash: string): Promise<{ purchase: PurchaseView; replayed: boolean }> {
    const deadline = performance.now() + DUPLICATE_WAIT_MS;
    for (;;) {
      const p = await repo.byKey(input.playerId, input.idempotencyKey);
      // The first request gave the key back (it failed before the ledger): start afresh.
      if (!p) return purchase(input);
      if (p.requestHash !== hash) throw TicketingErrors.idempotencyKeyReused();
      if (p.state !== 'pending') return { purchase: await answer(p), replayed: true };
      const ageMs = p.readAt.getTime() - p.createdAt.getTime();
      if (!inflight.has(p.id) && ageMs >= config.ticketingRecoveryAfterS * 1000) return { purchase: await drive(p, input, true), replayed: true };
      if (performance.now() > deadline) throw TicketingErrors.inProgress();
      await new Promise((r) => setTimeout(r, DUPLICATE_POLL_MS));
    }
  }

  /** The answer of a finished or issued purchase: its tickets, or the refusal it was given. */
  async function answer(p: Purchase): Promise<PurchaseView> {
    if (p.problem) throw restored(p.problem);
    return view(p, await repo.ticketsOf(p.id));
  }

  function view(p: Purchase, tickets: TicketView[], state: PurchaseState = p.state): PurchaseView {
    return { purchaseId: p.id, competitionId: p.competitionId, state, quantity: p.quantity, amountMinor: p.amountMinor ?? 0n, currency: p.currency ?? '', tickets, createdAt: p.createdAt };
  }

  /**
   * Drives a claimed purchase to its end. `resumed`: a retry took over a claim left pending by a
   * request that died, so a reservation may already exist and every refusal must void it.
   */
  async function drive(p: Purchase, input: PurchaseInput, resumed: boolean): Promise<PurchaseView> {
    inflight.add(p.id);
    const d: Drive = { p, resumed };
    try {
      const { c, token } = await beforeMoney(d, input.skillToken);
      await reserve(d, c);
      failpoints.afterReserve?.({ purchaseId: p.id, playerId: p.playerId });
      const tickets = await issueOrVoid(p, c, token);
      failpoints.afterIssue?.({ purchaseId: p.id, playerId: p.playerId });
      await deps.counters.add(c.id, tickets.length).catch(() => {});
      const state = await post(p);
      return view(p, tickets, state);
    } catch (err) {
      if (err instanceof Refusal) throw err.problem;
      if (err instanceof Lost) {
        const now = await repo.byId(p.id);
        if (!now || now.state === 'pending') throw TicketingErrors.inProgress();
        return answer(now);
      }
      throw err;
    } finally {
      inflight.delete(p.id);
    }
  }

  /** The competition from the in-process copy; a refusal is re-read from the database first. */
  async function checkedCompetition(d: Drive): Promise<PublishedCompetition> {
    const { p } = d;
    let c: Competition | undefined = await deps.cache.get(p.competitionId);
    if (c?.state !== 'on_sale') {
      deps.cache.forget(p.competitionId);
      c = await deps.competitions.get(p.competitionId);
    }
    if (!c || c.state !== 'on_sale') await refuseBefore(d, blockOf(c, await db.now()));
    return c as PublishedCompetition;
  }

  function blockOf(c: Competition | undefined, now: Date): DomainError {
    if (!c) return TicketingErrors.competitionNotFound();
    return purchaseBlock(c.state, c.closesAt, now) === 'competition-closed' ? TicketingErrors.competitionClosed(c.closesAt!) : TicketingErrors.competitionNotOnSale(c.state);
  }

  /**
   * Near sell-out, the committed free count is read before any money moves. Refusing on it is
   * exact: uncommitted sales are not in it, so it can only overstate what is free, never understate
   * it. Far from sell-out (by the cached counter) the read is skipped; the issuing transaction
   * decides either way.
   */
  async function soldOutEarly(d: Drive, c: PublishedCompetition): Promise<void> {
    const sold = await deps.counters.sold(c.id).catch(() => undefined);
    if (sold !== undefined && c.maxTickets - sold >= d.p.quantity + NEAR_SOLD_OUT_MARGIN) return;
    const free = await deps.competitions.freeCount(c.id);
    if (free < d.p.quantity) await refuseBefore(d, TicketingErrors.soldOut(free));
  }

  /** Stores a refusal made before this request moved money, then throws it. */
  async function refuseBefore(d: Drive, problem: DomainError): Promise<never> {
    // A resumed purchase may hold a reservation from the request that died: release it first.
    if (d.resumed && !(await voidQuietly(d.p))) throw problem;
    if (!(await repo.finishWithout(d.p.id, d.resumed ? 'voided' : 'refused', stored(problem)))) throw new Lost();
    throw new Refusal(problem);
  }

  /**
   * Every check before money moves: the competition on sale, not sold out, caps, eligibility (with
   * the spend compliance has not seen yet) and the skill pass. An unexpected failure gives the key
   * back (nothing was held), so a retry with it starts afresh.
   */
  async function beforeMoney(d: Drive, skillToken: string): Promise<{ c: PublishedCompetition; token: string }> {
    try {
      const c = await checkedCompetition(d);
      await soldOutEarly(d, c);
      return { c, token: await checks(d, c, skillToken) };
    } catch (err) {
      if (err instanceof Refusal || err instanceof Lost || d.resumed) throw err;
      await repo.releaseClaim(d.p.id);
      throw err;
    }
  }

  /** Caps, eligibility and the skill pass; returns the pass id. */
  async function checks(d: Drive, c: PublishedCompetition, skillToken: string): Promise<string> {
    const { p } = d;
    const badNumbers = numbersProblem(p.numbers, p.quantity, c.maxTickets);
    if (badNumbers) await refuseBefore(d, TicketingErrors.numbersInvalid(badNumbers));
    if (p.quantity > c.perPlayerCap) {
      const held = await repo.playerTickets(c.id, p.playerId);
      await refuseBefore(d, TicketingErrors.playerCapReached(c.perPlayerCap, Math.max(0, c.perPlayerCap - held)));
    }
    const [eligibility, pass] = await Promise.all([eligible(p, c), ports.skill().verifyPassToken({ token: skillToken, playerId: p.playerId, competitionId: c.id })]);
    if (!eligibility.allowed) await refuseBefore(d, TicketingErrors.notEligible(eligibility.reasons, eligibility.remainingMinor));
    if (!pass.valid) return refuseBefore(d, TicketingErrors.skillTokenInvalid(pass.reason));
    if (pass.placements !== undefined && p.quantity > pass.placements) await refuseBefore(d, TicketingErrors.skillTokenInvalid('quantity-exceeds-placements'));
    return pass.tokenId;
  }


  /**
   * Compliance learns of spend from ledger events about a second later (ADR 0014): purchases this
   * player started within the lag window are added to the amount checked, so quick successive or
   * concurrent purchases cannot each pass a limit that together they exceed.
   */
  async function eligible(p: Purchase, c: PublishedCompetition) {
    const windowS = config.ticketingSpendLagWindowS;
    const recent = windowS > 0 ? await repo.recentSpend(p.playerId, c.currency, windowS, p.id) : 0n;
    return ports.compliance().canPurchase({ playerId: p.playerId, amountMinor: p.amountMinor! + recent, currency: c.currency, competitionId: c.id });
  }

  async function reserve(d: Drive, c: PublishedCompetition): Promise<void> {
    const { p } = d;
    try {
      await ports.payments().reserve({
        transferId: p.reservationId, playerId: p.playerId, competitionId: c.id, amountMinor: p.amountMinor!, currency: c.currency,
        timeoutS: config.ticketingReservationTimeoutS, metadata: { purchaseId: p.id },
      });
    } catch (err) {
      if (isClientError(err)) await refuseBefore(d, err);
      // The outcome is unknown: release it if it happened, and the key with it; else recovery will.
      if (await voidQuietly(p)) await repo.releaseClaim(p.id);
      throw err;
    }
  }

  /** The issuing transaction; any refusal in it voids the reservation and is stored. */
  async function issueOrVoid(p: Purchase, c: PublishedCompetition, tokenId: string): Promise<TicketView[]> {
    try {
      return await issue(p, c, tokenId);
    } catch (err) {
      if (err instanceof Lost) {
        // Someone else moved the purchase: void only if it did not issue tickets (then the money is theirs to post).
        const now = await repo.byId(p.id);
        if (now && !hasTickets(now.state)) await voidQuietly(p);
        throw err;
      }
      const refusal = err instanceof Refusal ? err : err instanceof SkillTokenUsed ? new Refusal(TicketingErrors.skillTokenUsed()) : undefined;
      const voided = await voidQuietly(p);
      if (refusal && voided) {
        if (!(await repo.finishWithout(p.id, 'voided', stored(refusal.problem)))) throw new Lost();
        throw refusal;
      }
      // Unexpected (or the void could not be confirmed): recovery finishes the purchase.
      if (!refusal) log.error({ err, purchaseId: p.id, voided }, 'issuing failed unexpectedly; the purchase is voided or left to the recovery job');
      if (voided) await repo.finishWithout(p.id, 'voided', stored(TicketingErrors.purchaseInterrupted()));
      throw refusal?.problem ?? err;
    }
  }

  /**
   * The fast path first; when it finds every free shard held, the ordered path in a new
   * transaction; when that finds no room (near sell-out), the exact path (see pool/allocator.ts).
   */
  async function issue(p: Purchase, c: PublishedCompetition, tokenId: string): Promise<TicketView[]> {
    const paths = ['fast', 'ordered', 'exact'] as const;
    for (let attempt = 1, step = 0; ; attempt++) {
      try {
        return await issueTx(p, c, tokenId, p.numbers ? 'exact' : paths[step]!);
      } catch (err) {
        if (err instanceof Contended && step < paths.length - 1) {
          step++;
          continue;
        }
        // The lock order rules deadlocks out; should one happen all the same, it is retried, not shown.
        if (pgCode(err) === PgError.deadlockDetected && attempt < DEADLOCK_RETRIES) {
          log.warn({ err, purchaseId: p.id }, 'deadlock in the issuing transaction; retried');
          continue;
        }
        throw err;
      }
    }
  }

  async function issueTx(p: Purchase, c: PublishedCompetition, tokenId: string, path: 'fast' | 'ordered' | 'exact'): Promise<TicketView[]> {
    if (path === 'fast' && !p.numbers) return issueFast(p, c, tokenId);
    const owner = { kind: 'paid' as const, purchaseId: p.id, playerId: p.playerId };
    return db.tx(async () => {
      const claim = await repo.issueAndCount({ purchaseId: p.id, skillTokenId: tokenId, competitionId: c.id, playerId: p.playerId, count: p.quantity, cap: c.perPlayerCap });
      if (!claim.issued) throw new Lost();
      if (claim.tickets === undefined) await refuseCap(p, c);
      const pool = { id: c.id, maxTickets: c.maxTickets, shardCount: c.shardCount };
      const result = p.numbers ? await allocator.chosen(pool, p.numbers, owner)
        : path === 'ordered' ? await allocator.luckyDipOrdered(pool, p.quantity, owner) : await allocator.luckyDipExact(pool, p.quantity, owner);
      // Rolls this transaction back (and any stray shard lock with it); the next path runs next.
      if (result === 'contended') throw new Contended();
      if (isRefusal(result)) throw new Refusal(await refusalOf(result, c));
      await ctx.events.publish<TicketsPurchasedV1>({ type: TicketingEvents.ticketsPurchased, subject: c.id, data: { ...purchasedEvent(p, c, tokenId), tickets: result.tickets.map((t) => ({ ticketId: t.id, number: t.number })) } });
      return result.tickets.map((t) => ticketOf(p, c, t));
    });
  }

  /** The fast path: one statement, its own transaction (`ticketing.issue_fast`, 0002_issue.sql). */
  async function issueFast(p: Purchase, c: PublishedCompetition, tokenId: string): Promise<TicketView[]> {
    const set = ticketSet({ kind: 'paid', purchaseId: p.id, playerId: p.playerId }, p.quantity);
    try {
      const out = await repo.issueFast({
        purchaseId: p.id, skillTokenId: tokenId, competitionId: c.id, playerId: p.playerId, quantity: p.quantity, cap: c.perPlayerCap,
        startShard: randomInt(c.shardCount), tickets: set,
        event: { id: uuidv7(), type: TicketingEvents.ticketsPurchased, data: { ...purchasedEvent(p, c, tokenId) }, traceparent: requestContext.traceparent() ?? null },
      });
      return issuedFrom(set, new Map(out.tickets.map((t) => [t.ticketId, t.number])), out.issuedAt).map((t) => ticketOf(p, c, t));
    } catch (err) {
      if (!(err instanceof IssueRefused)) throw err;
      switch (err.reason) {
        case 'lost': throw new Lost();
        case 'contended': throw new Contended();
        case 'cap': throw new Refusal(TicketingErrors.playerCapReached(c.perPlayerCap, Math.max(0, c.perPlayerCap - Number(err.detail ?? 0))));
        case 'closed': throw new Refusal(TicketingErrors.competitionClosed(new Date(err.detail ?? c.closesAt)));
        case 'not-on-sale': throw new Refusal(await refusalOf({ refusal: 'not-on-sale' }, c));
      }
    }
  }

  async function refuseCap(p: Purchase, c: PublishedCompetition): Promise<never> {
    const held = await repo.playerTickets(c.id, p.playerId);
    throw new Refusal(TicketingErrors.playerCapReached(c.perPlayerCap, Math.max(0, c.perPlayerCap - held)));
  }

  const purchasedEvent = (p: Purchase, c: PublishedCompetition, tokenId: string): Omit<TicketsPurchasedV1, 'tickets'> => ({
    purchaseId: p.id, competitionId: c.id, playerId: p.playerId, skillTokenId: tokenId, amountMinor: p.amountMinor!.toString(), currency: c.currency,
  });

  const ticketOf = (p: Purchase, c: PublishedCompetition, t: IssuedTicket): TicketView => ({
    ticketId: t.id, competitionId: c.id, number: t.number, kind: 'paid', holderSalt: t.holderSalt, holder: t.holder, state: 'valid', purchaseId: p.id, issuedAt: t.issuedAt,
  });

  async function refusalOf(r: PoolRefusal, c: PublishedCompetition): Promise<DomainError> {
    switch (r.refusal) {
      case 'sold-out':
        return TicketingErrors.soldOut(r.remaining);
      case 'number-taken':
        return TicketingErrors.numberTaken(r.numbers);
      case 'closed':
        return TicketingErrors.competitionClosed(r.closesAt);
      case 'not-on-sale': {
        // The shard rows only say "not selling": the competition row says why.
        deps.cache.forget(c.id);
        return blockOf(await deps.competitions.get(c.id), await db.now());
      }
    }
  }

  /** Posts the reservation; a failure leaves the purchase issued for the recovery job. */
  async function post(p: Purchase): Promise<PurchaseState> {
    try {
      await ports.payments().post({ transferId: transferIdFor(p.id, 'post'), pendingTransferId: p.reservationId });
      poster.mark(p.id);
      return 'posted';
    } catch (err) {
      log.warn({ err, purchaseId: p.id }, 'purchase issued but not posted; the recovery job will post it');
      return 'issued';
    }
  }

  /**
   * Voids the reservation; true when it is void, expired or never existed. Only called for
   * purchases that issued no tickets, whose reservation is therefore never posted.
   */
  async function voidQuietly(p: Purchase): Promise<boolean> {
    try {
      await ports.payments().void({ transferId: transferIdFor(p.id, 'void'), pendingTransferId: p.reservationId, reason: 'purchase refused' });
      return true;
    } catch (err) {
      if (isDomainError(err) && err.code === 'transfer-not-found') return true;
      if (isDomainError(err) && (err.code === 'transfer-not-pending' || err.code === 'transfer-expired')) return true;
      log.warn({ err, purchaseId: p.id }, 'reservation not voided; the recovery job will');
      return false;
    }
  }

  return { purchase, inflight: inflight as ReadonlySet<string> };
}

export type PurchaseService = ReturnType<typeof createPurchaseService>;
