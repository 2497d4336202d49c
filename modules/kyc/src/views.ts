/** Read side: what a player sees of their verification, and what reviewers see of applications. */
import { Problems } from '@verity/kernel';
import type { ApplicationDto, KycStatusDto, ReviewPageDto } from './contracts.ts';
import { documentView } from './documents.ts';
import { requirementsStatement } from './domain/requirements.ts';
import { canStart, nextStep } from './domain/status.ts';
import type { KycRepository } from './repository.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function createViews(repo: KycRepository, documentMaxBytes: number) {
  async function playerStatus(playerId: string): Promise<KycStatusDto> {
    const [app, documents] = await Promise.all([repo.applicationByPlayer(playerId), repo.documents(playerId)]);
    const status = app?.status ?? 'not_started';
    const check = app?.currentCheckId && status === 'pending' ? await repo.check(app.currentCheckId) : undefined;
    return {
      applicationId: app?.id ?? null,
      status,
      reason: app?.reason ?? null,
      ageVerified: app?.ageVerified ?? false,
      attempt: app?.attempt ?? 0,
      canStart: canStart(status),
      nextStep: nextStep(status),
      ...(check?.verificationUrl ? { verificationUrl: check.verificationUrl } : {}),
      updatedAt: iso(app?.updatedAt ?? null),
      decidedAt: iso(app?.decidedAt ?? null),
      documents: documents.map(documentView),
      requirements: requirementsStatement(documentMaxBytes),
    };
  }

  async function application(applicationId: string): Promise<ApplicationDto> {
    const app = await repo.application(applicationId);
    if (!app) throw Problems.notFound('KYC application');
    const [checks, history, documents] = await Promise.all([repo.checks(app.id), repo.history(app.id), repo.documents(app.playerId)]);
    return {
      applicationId: app.id,
      playerId: app.playerId,
      status: app.status,
      reason: app.reason,
      ageVerified: app.ageVerified,
      attempt: app.attempt,
      reviewCaseId: app.reviewCaseId,
      openedAt: app.openedAt.toISOString(),
      updatedAt: app.updatedAt.toISOString(),
      decidedAt: iso(app.decidedAt),
      checks: checks.map((c) => ({
        checkId: c.id,
        attempt: c.attempt,
        vendor: c.vendor,
        vendorCheckId: c.vendorCheckId,
        status: c.status,
        vendorStatus: c.vendorStatus,
        reasons: c.reasons,
        startedAt: c.startedAt.toISOString(),
        deadlineAt: c.deadlineAt.toISOString(),
        completedAt: iso(c.completedAt),
      })),
      history: history.map((h) => ({ from: h.fromStatus, to: h.toStatus, reason: h.reason, actor: h.actor, checkId: h.checkId, note: h.note, at: h.at.toISOString() })),
      documents: documents.map(documentView),
    };
  }

  /** The review queue, oldest first; the cursor is opaque (base64url of the last item's position). */
  async function reviewQueue(limit: number, cursor?: string): Promise<ReviewPageDto> {
    let after: { queuedAt: string; id: string } | undefined;
    if (cursor) {
      const [queuedAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
      if (!queuedAt || !id || !/^[0-9 :.+-]{10,40}$/.test(queuedAt) || !/^[0-9a-f-]{36}$/.test(id)) throw Problems.validation([{ pointer: '/querystring/cursor', detail: 'is not a cursor from this list' }]);
      after = { queuedAt, id };
    }
    const rows = await repo.reviewQueue({ limit: limit + 1, ...(after ? { after } : {}) });
    const page = rows.slice(0, limit);
    const items = await Promise.all(
      page.map(async ({ row: app }) => {
        const [check, documents] = await Promise.all([app.currentCheckId ? repo.check(app.currentCheckId) : undefined, repo.documentCount(app.playerId)]);
        return {
          applicationId: app.id,
          playerId: app.playerId,
          attempt: app.attempt,
          reason: app.reason,
          queuedAt: (app.reviewQueuedAt ?? app.updatedAt).toISOString(),
          reviewCaseId: app.reviewCaseId,
          vendor: check?.vendor ?? app.vendor,
          vendorStatus: check?.vendorStatus ?? null,
          vendorReasons: check?.reasons ?? [],
          documentCount: documents,
        };
      }),
    );
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? Buffer.from(`${last.position.queuedAt}|${last.position.id}`).toString('base64url') : null;
    return { items, nextCursor };
  }

  return { playerStatus, application, reviewQueue };
}

export type Views = ReturnType<typeof createViews>;
