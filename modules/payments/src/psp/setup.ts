/**
 * The PSP part: the configured provider's adapter behind the resilience wrapper, the sandbox PSP
 * server when PSP_PROVIDER=sandbox (development, tests, the embedded default), and the webhook
 * endpoint that hands verified events to the parts that own them (ADR 0007).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Config, HttpApp, JobDefinition } from '@verity/kernel';
import type { ModulePart, PartContext, PspEventHandler } from '../contract.ts';
import { webhookEventRepository } from './repository.ts';
import { createResilientPsp, type ResiliencePolicy, type ResilientPsp } from './resilient.ts';
import { SandboxPsp } from './sandbox/adapter.ts';
import { SandboxServer } from './sandbox/server.ts';
import { StripePsp } from './stripe.ts';
import type { PspDriver } from './types.ts';
import { registerWebhookRoute } from './webhooks.ts';

export interface PspRuntime extends ModulePart {
  psp: ResilientPsp;
  /** The running sandbox PSP (PSP_PROVIDER=sandbox). */
  sandbox?: SandboxServer;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The parts whose `pspEvents` receive verified webhooks. */
  dispatchTo(parts: readonly ModulePart[]): void;
}

export function resiliencePolicy(config: Config): ResiliencePolicy {
  return {
    timeoutMs: config.pspTimeoutMs,
    retryMax: config.pspRetryMax,
    retryInitialDelayMs: 100,
    retryMaxDelayMs: 2_000,
    breakerFailures: config.pspBreakerFailures,
    breakerHalfOpenMs: config.pspBreakerHalfOpenMs,
    bulkheadMax: config.pspBulkheadMax,
    bulkheadQueue: config.pspBulkheadQueue,
  };
}

/** Where the API listens, once it does: the sandbox runs beside it and calls it there. */
function listeningUrl(app: HttpApp | undefined): string | undefined {
  const address = app?.server.address();
  if (!address || typeof address === 'string') return undefined;
  const { address: host, port } = address as AddressInfo;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

export async function setupPsp(ctx: PartContext): Promise<PspRuntime> {
  const { config, log } = ctx;
  let app: HttpApp | undefined;
  let handlers: readonly PspEventHandler[] = [];
  let sandbox: SandboxServer | undefined;
  let driver: PspDriver;

  if (config.pspProvider === 'sandbox') {
    if (config.env === 'production') throw new Error('PSP_PROVIDER=sandbox takes no real money and is refused in production; set PSP_PROVIDER=stripe');
    const webhookSecret = config.pspSandboxWebhookSecret ?? randomBytes(24).toString('base64url');
    const apiKey = `sk_sandbox_${randomBytes(16).toString('hex')}`;
    sandbox = new SandboxServer({
      host: config.host,
      port: config.pspSandboxPort,
      apiKey,
      webhookSecret,
      dir: path.join(config.dataDir, 'psp-sandbox'),
      control: {
        latencyMs: config.pspSandboxLatencyMs,
        failurePercent: config.pspSandboxFailurePercent,
        timeoutPercent: config.pspSandboxTimeoutPercent,
        duplicatePercent: config.pspSandboxDuplicatePercent,
        outOfOrder: config.pspSandboxOutOfOrder,
      },
      log: log.child({ component: 'sandbox-psp' }),
    });
    const server = sandbox;
    driver = new SandboxPsp({ baseUrl: () => server.url, apiKey, webhookSecret, notifyUrl: () => config.pspSandboxNotifyUrl ?? listeningUrl(app) });
  } else {
    if (!config.stripeSecretKey || !config.stripeWebhookSecret) throw new Error('PSP_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
    driver = new StripePsp({ secretKey: config.stripeSecretKey, webhookSecret: config.stripeWebhookSecret, timeoutMs: config.pspTimeoutMs, ...(config.stripeApiBase ? { apiBase: config.stripeApiBase } : {}) });
  }

  const psp = createResilientPsp(driver, resiliencePolicy(config), log);
  const events = webhookEventRepository(ctx.db);
  const retention: JobDefinition = {
    name: 'psp-webhook-event-retention',
    cron: '41 4 * * *',
    retryLimit: 3,
    async handle() {
      const purged = await events.purgeOld();
      if (purged) log.info({ purged }, 'old PSP webhook event ids purged');
    },
  };

  return {
    psp,
    ...(sandbox ? { sandbox } : {}),
    jobs: [retention],
    async start() {
      if (!sandbox) return;
      const url = await sandbox.start();
      log.info({ url, settlements: `${url}/sandbox/settlements/<YYYY-MM-DD>.csv` }, 'sandbox PSP started (test cards: GET /sandbox/cards)');
    },
    async stop() {
      await sandbox?.stop();
    },
    dispatchTo(parts) {
      handlers = parts.flatMap((p) => (p.pspEvents ? [p.pspEvents] : []));
    },
    async routes(httpApp) {
      app = httpApp;
      await registerWebhookRoute(httpApp, { db: ctx.db, log, psps: new Map([[psp.name, psp]]), handlers: () => handlers, events });
    },
  };
}
