/**
 * The configured KYC vendor: the sandbox (its own server, started with the module; development and
 * tests, refused in production) or Onfido.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config, HttpApp, Logger } from '@verity/kernel';
import { createOnfidoVendor } from './onfido.ts';
import { createSandboxVendor } from './sandbox/adapter.ts';
import { SandboxKycServer } from './sandbox/server.ts';
import type { KycVendor } from './types.ts';

export interface VendorRuntime {
  vendor: KycVendor;
  sandbox?: SandboxKycServer;
  /** Tells the vendor setup where this API listens (the sandbox sends its webhooks there). */
  attach(app: HttpApp): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function listeningUrl(app: HttpApp | undefined): string | undefined {
  const address = app?.server.address();
  if (!address || typeof address === 'string') return undefined;
  const { address: host, port } = address as AddressInfo;
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

export function setupVendor(config: Config, log: Logger): VendorRuntime {
  let app: HttpApp | undefined;
  if (config.kycProvider === 'onfido') {
    if (!config.kycOnfidoApiToken || !config.kycOnfidoWebhookToken) throw new Error('KYC_PROVIDER=onfido needs KYC_ONFIDO_API_TOKEN and KYC_ONFIDO_WEBHOOK_TOKEN');
    const vendor = createOnfidoVendor({
      apiToken: config.kycOnfidoApiToken,
      webhookToken: config.kycOnfidoWebhookToken,
      apiBase: config.kycOnfidoApiBase,
      reportNames: config.kycOnfidoReportNames,
      timeoutMs: config.kycVendorTimeoutMs,
      ...(config.kycOnfidoWorkflowId ? { workflowId: config.kycOnfidoWorkflowId } : {}),
    });
    return { vendor, attach: () => {}, start: async () => {}, stop: async () => {} };
  }
  if (config.env === 'production') throw new Error('KYC_PROVIDER=sandbox verifies no one and is refused in production; set KYC_PROVIDER=onfido');
  const webhookSecret = config.kycSandboxWebhookSecret ?? randomBytes(24).toString('base64url');
  const apiKey = `sbx_${randomBytes(16).toString('hex')}`;
  const sandbox = new SandboxKycServer({
    host: config.host,
    port: config.kycSandboxPort,
    apiKey,
    webhookSecret,
    control: {
      latencyMs: config.kycSandboxLatencyMs,
      checkDelayMs: config.kycSandboxCheckDelayMs,
      duplicatePercent: config.kycSandboxDuplicatePercent,
      outOfOrder: config.kycSandboxOutOfOrder,
    },
    log: log.child({ component: 'sandbox-kyc' }),
  });
  const vendor = createSandboxVendor({
    baseUrl: () => sandbox.url,
    apiKey,
    webhookSecret,
    notifyUrl: () => config.kycSandboxNotifyUrl ?? listeningUrl(app),
    timeoutMs: config.kycVendorTimeoutMs,
  });
  return {
    vendor,
    sandbox,
    attach(httpApp) {
      app = httpApp;
    },
    async start() {
      const url = await sandbox.start();
      log.info({ url, scenarios: `${url}/sandbox/scenarios` }, 'sandbox KYC vendor started (outcome chosen by the applicant last name)');
    },
    stop: () => sandbox.stop(),
  };
}
