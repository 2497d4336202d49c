/**
 * Configuration: every environment variable the platform reads, declared once.
 * `verity config` prints this table as Markdown; the README's table is generated from it.
 */
import path from 'node:path';

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  readonly env: string;
  readonly description: string;
  /** Shown in the docs; `undefined` means "unset". */
  readonly defaultText: string;
  readonly parse: Parser<T>;
  readonly fallback: (env: NodeJS.ProcessEnv) => T;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

const int = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`expected ${min}..${max}, got ${n}`);
  return n;
};
const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};
const str: Parser<string> = (raw) => raw;
const url: Parser<string> = (raw) => {
  try {
    return new URL(raw).toString().replace(/\/$/, '');
  } catch {
    throw new Error(`expected a URL, got "${raw}"`);
  }
};
const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  if (!values.includes(raw as T)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
};
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter(Boolean);
/** `name=url,name=url` */
const urlMap: Parser<Record<string, string>> = (raw) => {
  const out: Record<string, string> = {};
  for (const pair of list(raw)) {
    const [name, value] = pair.split('=');
    if (!name || !value) throw new Error(`expected name=url pairs, got "${pair}"`);
    out[name.trim()] = url(value.trim());
  }
  return out;
};

export interface OidcIssuer {
  issuer: string;
  jwksUri: string;
  audience?: string;
  /** Claim holding roles (Cognito: `cognito:groups`). */
  rolesClaim?: string;
  /**
   * `enforced`: the issuer requires MFA at every sign-in (a Cognito user pool with MFA "required"),
   * so its tokens count as MFA-authenticated though they carry no `amr`. Step-up still needs `auth_time`.
   */
  mfa?: 'enforced';
}
const OIDC_ISSUER_KEYS = new Set(['issuer', 'jwksUri', 'audience', 'rolesClaim', 'mfa']);
const OIDC_ISSUERS_MAX = 10;
const oidcIssuers: Parser<OidcIssuer[]> = (raw) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('expected a JSON array of {issuer, jwksUri, audience?, rolesClaim?, mfa?}');
  }
  if (!Array.isArray(parsed)) throw new Error('expected a JSON array');
  if (parsed.length > OIDC_ISSUERS_MAX) throw new Error(`at most ${OIDC_ISSUERS_MAX} issuers`);
  return parsed.map((item: Record<string, unknown>, i) => {
    if (typeof item?.issuer !== 'string' || typeof item?.jwksUri !== 'string') {
      throw new Error(`entry ${i} needs "issuer" and "jwksUri" strings`);
    }
    // A misspelt key of a security setting ("mfa_enforced") must stop the start, not be ignored.
    const unknown = Object.keys(item).find((k) => !OIDC_ISSUER_KEYS.has(k));
    if (unknown) throw new Error(`entry ${i}: unknown key "${unknown}" (known: ${[...OIDC_ISSUER_KEYS].join(', ')})`);
    for (const key of ['audience', 'rolesClaim'] as const) {
      if (item[key] !== undefined && (typeof item[key] !== 'string' || item[key] === '')) throw new Error(`entry ${i}: "${key}" must be a non-empty string`);
    }
    if (item.mfa !== undefined && item.mfa !== 'enforced') throw new Error(`entry ${i}: "mfa" can only be "enforced"`);
    const out: OidcIssuer = { issuer: item.issuer, jwksUri: url(item.jwksUri) };
    if (item.audience !== undefined) out.audience = item.audience as string;
    if (item.rolesClaim !== undefined) out.rolesClaim = item.rolesClaim as string;
    if (item.mfa === 'enforced') out.mfa = 'enforced';
    return out;
  });
};

function setting<T>(env: string, description: string, defaultText: string, parse: Parser<T>, fallback: (e: NodeJS.ProcessEnv) => T): Setting<T> {
  return { env, description, defaultText, parse, fallback };
}

const dataDir = (e: NodeJS.ProcessEnv) => path.resolve(e.VERITY_DATA_DIR ?? './.verity');

export const settings = {
  env: setting('VERITY_ENV', 'Environment: `development` prints demo secrets and starts sandboxes; `production` refuses unsafe defaults.', 'development', oneOf('development', 'test', 'production'), () => 'development' as const),
  port: setting('PORT', 'HTTP port of the API.', '8080', int(0, 65535), () => 8080),
  host: setting('HOST', 'Interface the API binds to (`0.0.0.0` in containers).', '127.0.0.1', str, () => '127.0.0.1'),
  publicUrl: setting('PUBLIC_URL', 'Public base URL; the token issuer (`iss`) and links use it.', 'http://localhost:$PORT', url, (e) => `http://localhost:${e.PORT ?? 8080}`),
  dataDir: setting('VERITY_DATA_DIR', 'Where the embedded PostgreSQL, the local key file and the file stores live.', './.verity', (raw) => path.resolve(raw), dataDir),
  databaseUrl: setting('DATABASE_URL', 'PostgreSQL to use. Unset: start the embedded PostgreSQL in `$VERITY_DATA_DIR/pg`.', '(unset)', str, () => undefined as string | undefined),
  databasePoolMax: setting('DATABASE_POOL_MAX', 'Connections in the pool of each process.', '10', int(2, 200), () => 10),
  databasePreparedStatements: setting('DATABASE_PREPARED_STATEMENTS', 'Prepare parameterised statements by name on each connection (parsed and planned once per connection). Turn off behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).', 'true', bool, () => true),
  databaseStatementTimeoutMs: setting('DATABASE_STATEMENT_TIMEOUT_MS', 'Upper bound on any one SQL statement.', '15000', int(100, 600_000), () => 15_000),
  embeddedPgPort: setting('EMBEDDED_PG_PORT', 'TCP port of the embedded PostgreSQL on 127.0.0.1, for other tools (0 picks a free port); the platform itself connects over a Unix socket in `$VERITY_DATA_DIR/pg`.', '0', int(0, 65535), () => 0),
  modules: setting('VERITY_MODULES', 'Modules this process runs (comma list); `verity start --modules` overrides. Default: all.', '(all)', list, () => [] as string[]),
  serviceUrls: setting('VERITY_SERVICE_URLS', 'Where modules not in this process run: `identity=http://identity:8080,payments=…`.', '(none)', urlMap, () => ({}) as Record<string, string>),
  serviceCallTimeoutMs: setting('SERVICE_CALL_TIMEOUT_MS', 'Deadline of one call to a module in another process; after it the outcome is unknown and the caller gets a 503.', '10000', int(100, 120_000), () => 10_000),
  serviceTokenSecret: setting('SERVICE_TOKEN_SECRET', 'Shared secret (≥32 chars) for service-to-service calls between processes. Default: derived from the local key file.', '(derived)', (raw) => {
    if (raw.length < 32) throw new Error('must be at least 32 characters');
    return raw;
  }, () => undefined as string | undefined),
  logLevel: setting('LOG_LEVEL', 'pino log level.', 'info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), () => 'info' as const),
  corsOrigins: setting('CORS_ORIGINS', 'Origins allowed by CORS (comma list). Empty: no cross-origin access.', '(empty)', list, () => [] as string[]),
  bodyLimitBytes: setting('BODY_LIMIT_BYTES', 'Largest accepted request body.', '1048576', int(1024, 50 * 1024 * 1024), () => 1_048_576),
  rateLimitMax: setting('RATE_LIMIT_MAX', 'Requests per client per window, for all routes (auth routes have tighter limits).', '600', int(1, 1_000_000), () => 600),
  rateLimitWindowMs: setting('RATE_LIMIT_WINDOW_MS', 'Rate-limit window.', '60000', int(1000, 3_600_000), () => 60_000),
  requestTimeoutMs: setting('REQUEST_TIMEOUT_MS', 'Longest a request may take before the server answers 503.', '30000', int(1000, 600_000), () => 30_000),
  redisUrl: setting('REDIS_URL', 'Redis for cache and rate limits. Unset: in-process.', '(unset)', url, () => undefined as string | undefined),
  otlpEndpoint: setting('OTEL_EXPORTER_OTLP_ENDPOINT', 'OTLP/HTTP endpoint for traces. Unset: traces are not exported.', '(unset)', url, () => undefined as string | undefined),
  kmsKeyId: setting('KMS_KEY_ID', 'AWS KMS key for envelope encryption of personal data. Unset: a local key file.', '(unset)', str, () => undefined as string | undefined),
  keyFile: setting('VERITY_KEY_FILE', 'Local master key file (created on first start when absent).', '$VERITY_DATA_DIR/keys/master.key', (raw) => path.resolve(raw), (e) => path.join(dataDir(e), 'keys', 'master.key')),
  oidcIssuers: setting(
    'OIDC_ISSUERS',
    'Extra token issuers trusted besides the built-in one, as JSON: `[{"issuer","jwksUri","audience","rolesClaim","mfa"}]` (e.g. a Cognito user pool, `rolesClaim` `cognito:groups`). ' +
      '`"mfa": "enforced"` declares that the issuer requires MFA at every sign-in (Cognito access tokens carry no `amr`), so its operator tokens pass the MFA guard; step-up still needs a recent `auth_time`. ' +
      'Omit it unless the pool really enforces MFA.',
    '[]',
    oidcIssuers,
    () => [] as OidcIssuer[],
  ),
  accessTokenTtlS: setting('ACCESS_TOKEN_TTL_S', 'Lifetime of access tokens.', '900', int(60, 3600), () => 900),
  refreshTokenTtlS: setting('REFRESH_TOKEN_TTL_S', 'Lifetime of a refresh-token family.', '2592000', int(3600, 90 * 86400), () => 30 * 86400),
  stepUpMaxAgeS: setting('STEP_UP_MAX_AGE_S', 'How recent `auth_time` must be for privileged operator actions.', '300', int(30, 3600), () => 300),
  argon2MemoryKib: setting('ARGON2_MEMORY_KIB', 'argon2id memory cost.', '19456', int(1024, 1_048_576), () => 19_456),
  argon2TimeCost: setting('ARGON2_TIME_COST', 'argon2id iterations.', '2', int(1, 20), () => 2),
  argon2Parallelism: setting('ARGON2_PARALLELISM', 'argon2id lanes.', '1', int(1, 16), () => 1),
  notificationSender: setting('NOTIFICATION_SENDER', 'How notifications (password reset…) leave: `file` writes JSON to `$VERITY_DATA_DIR/mail`, `console` logs them, `ses` sends with Amazon SES.', 'file', oneOf('file', 'console', 'ses'), () => 'file' as const),
  mailFrom: setting('MAIL_FROM', 'Sender address of notifications.', 'no-reply@verity.local', str, () => 'no-reply@verity.local'),
  breachedPasswordApiUrl: setting('BREACHED_PASSWORD_API_URL', 'k-anonymity range API (Have I Been Pwned shape) checked at registration. Unset: the offline common-password list only.', '(unset)', url, () => undefined as string | undefined),
  seedDemo: setting('SEED_DEMO', 'Create the demo admin operator on first start and print its credentials once.', 'true (not in production)', bool, (e) => (e.VERITY_ENV ?? 'development') !== 'production'),
  eventRetentionDays: setting('EVENT_RETENTION_DAYS', 'How long published outbox events are kept for `verity replay`.', '30', int(1, 3650), () => 30),
  queueSuperviseIntervalS: setting('QUEUE_SUPERVISE_INTERVAL_S', 'How often the queue engine retries jobs whose process died (their `timeoutS` passed) and refreshes queue counts.', '10', int(1, 300), () => 10),
  shutdownGraceMs: setting('SHUTDOWN_GRACE_MS', 'How long shutdown waits for in-flight requests and jobs.', '10000', int(0, 120_000), () => 10_000),
  logOrigin: setting('LOG_ORIGIN', 'Origin of the evidence log: the first line of its signed checkpoints and the name of its key (C2SP), e.g. `log.example.com/verity`. Never changes once the log started. Required in production.', 'verity.local/log', (raw) => {
    if (!/^[^\s+]{1,200}$/u.test(raw)) throw new Error('must be 1..200 characters without whitespace or "+"');
    return raw;
  }, () => 'verity.local/log'),
  logIntegrateIntervalMs: setting('LOG_INTEGRATE_INTERVAL_MS', 'How often each process looks for committed evidence-log appends to sequence (appends and waiters also wake it at once).', '250', int(10, 60_000), () => 250),
  logIntegrateBatchMax: setting('LOG_INTEGRATE_BATCH_MAX', 'Evidence-log leaves sequenced in one transaction.', '2000', int(1, 50_000), () => 2_000),
  logCheckpointIntervalMs: setting('LOG_CHECKPOINT_INTERVAL_MS', 'Least time between two signed checkpoints of the evidence log while it grows (a module asking for one gets it at once).', '5000', int(0, 86_400_000), () => 5_000),
  logAnchorDir: setting('LOG_ANCHOR_DIR', 'Directory the file anchor writes checkpoints to (one file each); `none` turns it off.', '$VERITY_DATA_DIR/log-anchors', (raw) => (raw === 'none' ? undefined : path.resolve(raw)), (e) => path.join(dataDir(e), 'log-anchors') as string | undefined),
  logAnchorUrls: setting('LOG_ANCHOR_URLS', 'HTTP anchors (comma list): each gets checkpoints POSTed as JSON `{origin,size,rootHash,note}`, retried with backoff on failure.', '(none)', (raw) => list(raw).map(url), () => [] as string[]),
  logAnchorIntervalMs: setting('LOG_ANCHOR_INTERVAL_MS', 'Least time between two checkpoints handed to the same anchor.', '60000', int(0, 86_400_000), () => 60_000),
  logAnchorTimeoutMs: setting('LOG_ANCHOR_TIMEOUT_MS', 'Deadline of one HTTP anchor delivery.', '5000', int(100, 120_000), () => 5_000),
  paymentsWithdrawalApprovalThresholdMinor: setting('PAYMENTS_WITHDRAWAL_APPROVAL_THRESHOLD_MINOR', 'Withdrawals of at least this many minor units wait for a finance operator\'s approval (four eyes); operator-initiated payouts always do.', '50000', int(1, 1_000_000_000_000), () => 50_000),
  paymentsWithdrawalSecondApprovalThresholdMinor: setting('PAYMENTS_WITHDRAWAL_SECOND_APPROVAL_THRESHOLD_MINOR', 'Withdrawals of at least this many minor units need two different approvers.', '1000000', int(1, 1_000_000_000_000), () => 1_000_000),
  paymentsWithdrawalMaxMinor: setting('PAYMENTS_WITHDRAWAL_MAX_MINOR', 'Largest single withdrawal, in minor units.', '10000000', int(1, 1_000_000_000_000), () => 10_000_000),
  paymentsWithdrawalHoldTimeoutS: setting('PAYMENTS_WITHDRAWAL_HOLD_TIMEOUT_S', 'How long the wallet hold of a withdrawal lasts before the ledger expires it (it must outlive approval and payout; the ledger allows at most 7 days).', '604800', int(3600, 7 * 86_400), () => 7 * 86_400),
  paymentsPayoutRetryLimit: setting('PAYMENTS_PAYOUT_RETRY_LIMIT', 'Retries of a payout or payout-settle job before it goes to the dead-letter queue.', '8', int(0, 100), () => 8),
  paymentsPayoutRetryDelayS: setting('PAYMENTS_PAYOUT_RETRY_DELAY_S', 'First retry delay of payout jobs (doubles each retry).', '30', int(1, 3600), () => 30),
  paymentsPayoutSettleDelayS: setting('PAYMENTS_PAYOUT_SETTLE_DELAY_S', 'Wait before asking the PSP for the status of a payout whose outcome is unknown or pending.', '60', int(1, 86_400), () => 60),
  paymentsPayoutUnknownAlertS: setting('PAYMENTS_PAYOUT_UNKNOWN_ALERT_S', 'A payout still unknown or pending after this long becomes a finance exception and a compliance case.', '3600', int(60, 30 * 86_400), () => 3_600),
  pspProvider: setting('PSP_PROVIDER', 'Card PSP for deposits, payouts and refunds: `sandbox` (a simulated card PSP this process starts on its own port; not in production) or `stripe`.', 'sandbox', oneOf('sandbox', 'stripe'), () => 'sandbox' as 'sandbox' | 'stripe'),
  pspTimeoutMs: setting('PSP_TIMEOUT_MS', 'Deadline of one PSP call; after it the outcome is unknown and is settled by a status query or a webhook, never re-sent under a new key.', '8000', int(100, 120_000), () => 8_000),
  pspRetryMax: setting('PSP_RETRY_MAX', 'Retries of a PSP call that failed fast (network error, 5xx, 429), with the same idempotency key and exponential backoff.', '2', int(0, 10), () => 2),
  pspBreakerFailures: setting('PSP_BREAKER_FAILURES', 'Consecutive failed PSP calls that open the PSP\'s circuit breaker.', '5', int(1, 1000), () => 5),
  pspBreakerHalfOpenMs: setting('PSP_BREAKER_HALF_OPEN_MS', 'How long an open breaker refuses PSP calls (`psp-unavailable`, 503) before one trial call may pass.', '30000', int(100, 3_600_000), () => 30_000),
  pspBulkheadMax: setting('PSP_BULKHEAD_MAX', 'PSP calls in flight at once in one process.', '16', int(1, 1000), () => 16),
  pspBulkheadQueue: setting('PSP_BULKHEAD_QUEUE', 'PSP calls waiting for a bulkhead slot; more fail fast with `psp-unavailable`.', '64', int(0, 10_000), () => 64),
  pspSandboxPort: setting('PSP_SANDBOX_PORT', 'Port of the sandbox PSP (0 picks a free port).', '0', int(0, 65535), () => 0),
  pspSandboxWebhookSecret: setting('PSP_SANDBOX_WEBHOOK_SECRET', 'Secret (≥ 16 chars) the sandbox PSP signs webhooks with. Default: random per start.', '(random)', (raw) => {
    if (raw.length < 16) throw new Error('must be at least 16 characters');
    return raw;
  }, () => undefined as string | undefined),
  pspSandboxNotifyUrl: setting('PSP_SANDBOX_NOTIFY_URL', 'Base URL the sandbox PSP sends webhooks to (`/v1/payments/webhooks/sandbox` is appended). Default: the address this API listens on.', '(listening address)', url, () => undefined as string | undefined),
  pspSandboxLatencyMs: setting('PSP_SANDBOX_LATENCY_MS', 'Sandbox PSP: added latency of every API call.', '0', int(0, 120_000), () => 0),
  pspSandboxFailurePercent: setting('PSP_SANDBOX_FAILURE_PERCENT', 'Sandbox PSP: share of API calls answered 500 without effect.', '0', int(0, 100), () => 0),
  pspSandboxTimeoutPercent: setting('PSP_SANDBOX_TIMEOUT_PERCENT', 'Sandbox PSP: share of API calls that take effect and then never answer.', '0', int(0, 100), () => 0),
  pspSandboxDuplicatePercent: setting('PSP_SANDBOX_DUPLICATE_PERCENT', 'Sandbox PSP: share of webhooks delivered twice.', '0', int(0, 100), () => 0),
  pspSandboxOutOfOrder: setting('PSP_SANDBOX_OUT_OF_ORDER', 'Sandbox PSP: hold each payment\'s webhooks until it settles and deliver them newest first.', 'false', bool, () => false),
  stripeSecretKey: setting('STRIPE_SECRET_KEY', 'Stripe secret API key (PSP_PROVIDER=stripe).', '(unset)', str, () => undefined as string | undefined),
  stripeWebhookSecret: setting('STRIPE_WEBHOOK_SECRET', 'Signing secret of the Stripe webhook endpoint `/v1/payments/webhooks/stripe` (`whsec_…`).', '(unset)', str, () => undefined as string | undefined),
  stripeApiBase: setting('STRIPE_API_BASE', 'Stripe API base URL (protocol, host, port), e.g. a local stripe-mock. Default: Stripe.', '(Stripe)', url, () => undefined as string | undefined),
  paymentsDepositMaxMinor: setting('PAYMENTS_DEPOSIT_MAX_MINOR', 'Largest single deposit, in minor units.', '1000000', int(1, 1_000_000_000_000), () => 1_000_000),
  paymentsDepositStatusCheckS: setting('PAYMENTS_DEPOSIT_STATUS_CHECK_S', 'Wait before asking the PSP for the status of a deposit not yet settled (doubles per check).', '30', int(1, 86_400), () => 30),
  paymentsDepositUnknownGraceS: setting('PAYMENTS_DEPOSIT_UNKNOWN_GRACE_S', 'A deposit the PSP has no record of this long after it was sent is failed (and stops counting against deposit limits).', '900', int(1, 7 * 86_400), () => 900),
  paymentsReservationTimeoutS: setting('PAYMENTS_RESERVATION_TIMEOUT_S', 'How long a purchase reservation holds wallet funds before the ledger expires it (when the caller gives no timeout).', '600', int(1, 7 * 86_400), () => 600),
  paymentsHouseShards: setting('PAYMENTS_HOUSE_SHARDS', 'Shard rows per hot house account (house sales of a competition), so a ticket surge does not queue on one row (ADR 0006).', '8', int(1, 64), () => 8),
  paymentsLedgerBatchMax: setting('PAYMENTS_LEDGER_BATCH_MAX', 'Most ledger commands one group commit carries (1 = one transaction per command; ADR 0006).', '64', int(1, 64), () => 64),
  ticketingNumberShards: setting('TICKETING_NUMBER_SHARDS', 'Most rows the ticket numbers of one competition are split over (each owns a slice of the range and its sold counter), so buyers of one hot competition do not queue on one row (ADR 0014). Small competitions get fewer (at least 64 numbers a shard).', '32', int(1, 64), () => 32),
  ticketingReservationTimeoutS: setting('TICKETING_RESERVATION_TIMEOUT_S', 'How long the wallet hold of a ticket purchase lasts; the purchase recovery job posts or voids a stuck purchase long before (ADR 0014).', '600', int(2, 86_400), () => 600),
  ticketingRecoveryAfterS: setting('TICKETING_RECOVERY_AFTER_S', 'A purchase still unfinished this long after it started is finished by the recovery job (posted when its tickets were issued, else voided).', '30', int(1, 3_600), () => 30),
  ticketingCompetitionCacheTtlMs: setting('TICKETING_COMPETITION_CACHE_TTL_MS', 'How long a process keeps a competition\'s terms in memory for the purchase path (the database re-checks state and closing time when tickets are issued). 0: no cache.', '1000', int(0, 60_000), () => 1_000),
  ticketingCounterTtlMs: setting('TICKETING_COUNTER_TTL_MS', 'How long the tickets-sold counter shown in competition lists is served from the cache before it is read from the database again (each sale adjusts it in between).', '5000', int(100, 600_000), () => 5_000),
  ticketingSpendLagWindowS: setting('TICKETING_SPEND_LAG_WINDOW_S', 'Purchases of a player started this recently are added to the amount compliance checks against spend limits, because compliance learns of spend from ledger events a moment later (ADR 0014).', '10', int(0, 3_600), () => 10),
  objectStore: setting('OBJECT_STORE', 'Where documents and evidence files go: `fs` (content-addressed files under OBJECT_STORE_DIR) or `s3`.', 'fs', oneOf('fs', 's3'), () => 'fs' as 'fs' | 's3'),
  objectStoreDir: setting('OBJECT_STORE_DIR', 'Root of the filesystem object store (OBJECT_STORE=fs).', '$VERITY_DATA_DIR/objects', (raw) => path.resolve(raw), () => undefined as string | undefined),
  objectStoreObjectMaxBytes: setting('OBJECT_STORE_OBJECT_MAX_BYTES', 'Largest object the store accepts (objects are held in memory while hashed and encrypted).', '104857600', int(1024, 1024 * 1024 * 1024), () => 104_857_600),
  objectStoreS3Bucket: setting('OBJECT_STORE_S3_BUCKET', 'S3 bucket (OBJECT_STORE=s3). Evidence needs a bucket with Object Lock enabled.', '(unset)', str, () => undefined as string | undefined),
  objectStoreS3Prefix: setting('OBJECT_STORE_S3_PREFIX', 'Key prefix inside the bucket (e.g. `verity/`).', '(none)', (raw) => {
    if (!/^[A-Za-z0-9!_.*'()/-]{1,200}$/.test(raw)) throw new Error('must be 1..200 characters safe in S3 keys');
    return raw;
  }, () => ''),
  objectStoreS3Region: setting('OBJECT_STORE_S3_REGION', 'Region of the bucket. Default: the SDK\'s (AWS_REGION).', '(SDK default)', str, () => undefined as string | undefined),
  objectStoreS3Endpoint: setting('OBJECT_STORE_S3_ENDPOINT', 'S3-compatible endpoint (MinIO, LocalStack). Default: AWS.', '(AWS)', url, () => undefined as string | undefined),
  objectStoreS3ForcePathStyle: setting('OBJECT_STORE_S3_FORCE_PATH_STYLE', 'Path-style addressing (`endpoint/bucket/key`), as most S3-compatible servers need.', 'false', bool, () => false),
  objectStoreS3ObjectLockMode: setting('OBJECT_STORE_S3_OBJECT_LOCK_MODE', 'Object Lock mode of objects stored with a retention date (evidence): `COMPLIANCE` (no one can delete them early) or `GOVERNANCE`.', 'COMPLIANCE', oneOf('COMPLIANCE', 'GOVERNANCE'), () => 'COMPLIANCE' as 'COMPLIANCE' | 'GOVERNANCE'),
  kycProvider: setting('KYC_PROVIDER', 'KYC vendor: `sandbox` (a simulated vendor this process starts on its own port; not in production) or `onfido`.', 'sandbox', oneOf('sandbox', 'onfido'), () => 'sandbox' as 'sandbox' | 'onfido'),
  kycVendorTimeoutMs: setting('KYC_VENDOR_TIMEOUT_MS', 'Deadline of one call to the KYC vendor.', '10000', int(100, 120_000), () => 10_000),
  kycCheckPollS: setting('KYC_CHECK_POLL_S', 'Wait before asking the vendor for the result of a check no webhook settled (doubles per query).', '60', int(1, 86_400), () => 60),
  kycCheckExpiryS: setting('KYC_CHECK_EXPIRY_S', 'A vendor check still unfinished this long after it started expires; the player may start again.', '604800', int(5, 90 * 86_400), () => 604_800),
  kycDocumentMaxBytes: setting('KYC_DOCUMENT_MAX_BYTES', 'Largest identity or proof-of-address document a player may upload (JPEG, PNG or PDF).', '10485760', int(1024, 50 * 1024 * 1024), () => 10_485_760),
  kycDocumentsPerPlayerMax: setting('KYC_DOCUMENTS_PER_PLAYER_MAX', 'Documents one player may upload in all.', '20', int(1, 1000), () => 20),
  drawsBeacon: setting('DRAWS_BEACON', 'Randomness beacon of the draws: `sandbox` (a local drand-compatible beacon this process starts, labelled non-production in every bundle; refused in production) or `drand` (League of Entropy quicknet through the relays below).', 'sandbox (drand in production)', (raw) => {
    if (raw !== 'sandbox' && raw !== 'drand') throw new Error('expected sandbox or drand');
    return raw;
  }, (e) => ((e.VERITY_ENV ?? 'development') === 'production' ? 'drand' : 'sandbox') as 'sandbox' | 'drand'),
  drawsDrandRelays: setting('DRAWS_DRAND_RELAYS', 'drand HTTP relays (comma list), tried in turn; every answer is verified against the pinned chain key.', 'api.drand.sh, api2.drand.sh, drand.cloudflare.com', (raw) => list(raw).map(url), () => ['https://api.drand.sh', 'https://api2.drand.sh', 'https://drand.cloudflare.com']),
  drawsDrandChainHash: setting('DRAWS_DRAND_CHAIN_HASH', 'The pinned drand chain (hex chain hash).', 'quicknet', str, () => '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971'),
  drawsDrandPublicKey: setting('DRAWS_DRAND_PUBLIC_KEY', 'The pinned chain\'s BLS12-381 G2 public key (hex): relays are not trusted to say it.', 'quicknet', str, () => '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a'),
  drawsDrandPeriodS: setting('DRAWS_DRAND_PERIOD_S', 'The pinned chain\'s period.', '3', int(1, 3600), () => 3),
  drawsDrandGenesisTime: setting('DRAWS_DRAND_GENESIS_TIME', 'The pinned chain\'s genesis (unix seconds).', '1692803367', int(1, 2 ** 40), () => 1692803367),
  drawsBeaconTimeoutMs: setting('DRAWS_BEACON_TIMEOUT_MS', 'Deadline of one call to one beacon relay.', '5000', int(100, 120_000), () => 5_000),
  drawsMarginRounds: setting('DRAWS_MARGIN_ROUNDS', 'The draw round R is the first round after the close plus this many (time to take, log and checkpoint the close snapshot; 100 = 5 min on quicknet).', '100', int(1, 10_000), () => 100),
  drawsFallbackRounds: setting('DRAWS_FALLBACK_ROUNDS', 'Fallback rounds named in the manifest, used in order when R cannot be had.', '3', int(0, 8), () => 3),
  drawsRoundWindowS: setting('DRAWS_ROUND_WINDOW_S', 'How long a draw keeps asking for a round before moving to the next fallback.', '600', int(1, 86_400), () => 600),
  drawsDrawSlackMs: setting('DRAWS_DRAW_SLACK_MS', 'The draw job runs this long after round R\'s time.', '2000', int(0, 600_000), () => 2_000),
  drawsLogTimeoutMs: setting('DRAWS_LOG_TIMEOUT_MS', 'How long a draw step waits for the evidence log to sequence a record or sign a checkpoint.', '30000', int(100, 600_000), () => 30_000),
  drawsSnapshotPageSize: setting('DRAWS_SNAPSHOT_PAGE_SIZE', 'Entries read per page when taking the close snapshot.', '5000', int(1, 10_000), () => 5_000),
  drawsBeaconSandboxPort: setting('DRAWS_BEACON_SANDBOX_PORT', 'Port of the sandbox beacon (0 picks a free port).', '0', int(0, 65535), () => 0),
  drawsBeaconSandboxPeriodS: setting('DRAWS_BEACON_SANDBOX_PERIOD_S', 'Sandbox beacon: seconds between rounds.', '3', int(1, 3600), () => 3),
  drawsBeaconSandboxGenesisTime: setting('DRAWS_BEACON_SANDBOX_GENESIS_TIME', 'Sandbox beacon: unix time of round 1. Default: its first start.', '(first start)', int(0, 2 ** 40), () => undefined as number | undefined),
  drawsBeaconSandboxLatencyMs: setting('DRAWS_BEACON_SANDBOX_LATENCY_MS', 'Sandbox beacon: added latency of every call.', '0', int(0, 120_000), () => 0),
  drawsBeaconSandboxFailurePercent: setting('DRAWS_BEACON_SANDBOX_FAILURE_PERCENT', 'Sandbox beacon: share of calls answered 500.', '0', int(0, 100), () => 0),
  kycSandboxPort: setting('KYC_SANDBOX_PORT', 'Port of the sandbox KYC vendor (0 picks a free port).', '0', int(0, 65535), () => 0),
  kycSandboxWebhookSecret: setting('KYC_SANDBOX_WEBHOOK_SECRET', 'Secret (≥ 16 chars) the sandbox KYC vendor signs webhooks with. Default: random per start.', '(random)', (raw) => {
    if (raw.length < 16) throw new Error('must be at least 16 characters');
    return raw;
  }, () => undefined as string | undefined),
  kycSandboxNotifyUrl: setting('KYC_SANDBOX_NOTIFY_URL', 'Base URL the sandbox KYC vendor sends webhooks to (`/v1/kyc/webhooks/sandbox` is appended). Default: the address this API listens on.', '(listening address)', url, () => undefined as string | undefined),
  kycSandboxLatencyMs: setting('KYC_SANDBOX_LATENCY_MS', 'Sandbox KYC vendor: added latency of every API call.', '0', int(0, 120_000), () => 0),
  kycSandboxCheckDelayMs: setting('KYC_SANDBOX_CHECK_DELAY_MS', 'Sandbox KYC vendor: how long a check takes before its result is ready.', '200', int(0, 3_600_000), () => 200),
  kycSandboxDuplicatePercent: setting('KYC_SANDBOX_DUPLICATE_PERCENT', 'Sandbox KYC vendor: share of webhooks delivered twice.', '0', int(0, 100), () => 0),
  kycSandboxOutOfOrder: setting('KYC_SANDBOX_OUT_OF_ORDER', 'Sandbox KYC vendor: deliver each check\'s webhooks newest first.', 'false', bool, () => false),
  kycOnfidoApiToken: setting('KYC_ONFIDO_API_TOKEN', 'Onfido API token (KYC_PROVIDER=onfido).', '(unset)', str, () => undefined as string | undefined),
  kycOnfidoWebhookToken: setting('KYC_ONFIDO_WEBHOOK_TOKEN', 'Token of the Onfido webhook registered for `/v1/kyc/webhooks/onfido` (verifies `X-SHA2-Signature`).', '(unset)', str, () => undefined as string | undefined),
  kycOnfidoApiBase: setting('KYC_ONFIDO_API_BASE', 'Onfido API base URL including the version (region: api.eu / api.us / api.ca).', 'https://api.eu.onfido.com/v3.6', url, () => 'https://api.eu.onfido.com/v3.6'),
  kycOnfidoWorkflowId: setting('KYC_ONFIDO_WORKFLOW_ID', 'Onfido Studio workflow to run for each verification (the player completes it at the returned link). Unset: a check with KYC_ONFIDO_REPORT_NAMES.', '(unset)', str, () => undefined as string | undefined),
  kycOnfidoReportNames: setting('KYC_ONFIDO_REPORT_NAMES', 'Reports of an Onfido check when no workflow is set (comma list).', 'identity_enhanced', list, () => ['identity_enhanced']),
  complianceCaseSlaSeconds: setting('COMPLIANCE_CASE_SLA_SECONDS', 'Per case type, the SLA in seconds instead of the built-in table (`complaint=3600,sanctions-hit=600`); reminders go at 75 %, escalation when overdue.', '(built-in: kyc-review 48 h, aml-alert 120 h, sanctions-hit 24 h, payout-exception 24 h, operator-override 8 h, complaint 8 weeks)', (raw) => {
    const out: Record<string, number> = {};
    for (const pair of list(raw)) {
      const [type, seconds] = pair.split('=').map((x) => x.trim());
      if (!type || !/^(kyc-review|aml-alert|sanctions-hit|payout-exception|operator-override|complaint)$/.test(type)) throw new Error(`unknown case type in "${pair}"`);
      out[type] = int(1, 365 * 86_400)(seconds ?? '');
    }
    return out;
  }, () => ({}) as Record<string, number>),
  complianceCaseReopenDays: setting('COMPLIANCE_CASE_REOPEN_DAYS', 'How long after closing a case may be reopened.', '90', int(0, 3650), () => 90),
  complianceEvidenceMaxBytes: setting('COMPLIANCE_EVIDENCE_MAX_BYTES', 'Largest evidence file an operator may attach to a case.', '10485760', int(1024, 50 * 1024 * 1024), () => 10_485_760),
  complianceRetentionYears: setting('COMPLIANCE_RETENTION_YEARS', 'Customer and transaction records are kept this long after the account closes, then erased by destroying the player\'s data key (unless on legal hold).', '5', int(1, 100), () => 5),
  complianceRetentionBatchMax: setting('COMPLIANCE_RETENTION_BATCH_MAX', 'Players one retention run erases at most (the next run continues).', '500', int(1, 100_000), () => 500),
  complianceSelfExclusionRegister: setting('COMPLIANCE_SELF_EXCLUSION_REGISTER', 'National self-exclusion register checked at registration and periodically: `sandbox` (a simulated GAMSTOP this process starts on its own port; refused in production), `gamstop` (needs COMPLIANCE_GAMSTOP_API_KEY), or `none` (not for a GB licensee).', 'sandbox (gamstop in production)', oneOf('sandbox', 'gamstop', 'none'), (e) => ((e.VERITY_ENV ?? 'development') === 'production' ? 'gamstop' : 'sandbox') as 'sandbox' | 'gamstop' | 'none'),
  complianceGamstopApiUrl: setting('COMPLIANCE_GAMSTOP_API_URL', 'GAMSTOP API base URL (COMPLIANCE_SELF_EXCLUSION_REGISTER=gamstop).', 'https://api.gamstop.io', url, () => 'https://api.gamstop.io'),
  complianceGamstopApiKey: setting('COMPLIANCE_GAMSTOP_API_KEY', 'GAMSTOP API key (`X-API-Key`).', '(unset)', str, () => undefined as string | undefined),
  complianceRegisterTimeoutMs: setting('COMPLIANCE_REGISTER_TIMEOUT_MS', 'Deadline of one call to the self-exclusion register.', '5000', int(100, 60_000), () => 5_000),
  complianceRegisterSandboxPort: setting('COMPLIANCE_REGISTER_SANDBOX_PORT', 'Port of the sandbox self-exclusion register (0 picks a free port).', '0', int(0, 65535), () => 0),
  complianceRegisterRecheckHours: setting('COMPLIANCE_REGISTER_RECHECK_HOURS', 'Players are checked against the self-exclusion register again when their last check is older than this.', '24', int(1, 24 * 365), () => 24),
  complianceRegisterBatchMax: setting('COMPLIANCE_REGISTER_BATCH_MAX', 'Players one periodic register run checks at most.', '500', int(1, 100_000), () => 500),
  sanctionsHitThreshold: setting('SANCTIONS_HIT_THRESHOLD', 'Sanctions screening: a match scoring at least this (0..1) is a hit (payouts held, a case opened).', '0.70', (raw) => {
    const n = Number(raw);
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw.trim()) || n <= 0) throw new Error(`expected a number in (0, 1], got "${raw}"`);
    return n;
  }, () => 0.7),
  sanctionsCandidateCutoff: setting('SANCTIONS_CANDIDATE_CUTOFF', 'Sanctions screening: matches scoring at least this (but under the hit threshold) are shown as candidates.', '0.50', (raw) => {
    const n = Number(raw);
    if (!/^0(\.\d+)?$/.test(raw.trim()) || n <= 0) throw new Error(`expected a number in (0, 1), got "${raw}"`);
    return n;
  }, () => 0.5),
  sanctionsOfsiUrl: setting('SANCTIONS_OFSI_URL', 'Where the daily job downloads the UK OFSI consolidated list (CSV). Unset: no download (import files with POST /v1/sanctions/lists/import).', '(unset)', url, () => undefined as string | undefined),
  sanctionsOfacUrl: setting('SANCTIONS_OFAC_URL', 'Where the daily job downloads the OFAC SDN list (sdn.xml or sdn.csv, told apart by content). Unset: no download.', '(unset)', url, () => undefined as string | undefined),
  sanctionsDownloadTimeoutMs: setting('SANCTIONS_DOWNLOAD_TIMEOUT_MS', 'Deadline of one sanctions list download.', '60000', int(1000, 600_000), () => 60_000),
  sanctionsImportMaxBytes: setting('SANCTIONS_IMPORT_MAX_BYTES', 'Largest sanctions list file accepted (upload or download).', '52428800', int(1024, 200 * 1024 * 1024), () => 50 * 1024 * 1024),
  sanctionsRescreenBatchSize: setting('SANCTIONS_RESCREEN_BATCH_SIZE', 'Players one re-screening job screens before it hands over to the next (after a list changes).', '200', int(1, 10_000), () => 200),
  amlFxRatesToEur: setting('AML_FX_RATES_TO_EUR', 'Static FX table for AML thresholds (which are in EUR): `GBP=1.17,USD=0.92` = value of one unit in EUR. EUR is 1. Amounts in other currencies do not count towards EUR thresholds (and are logged).', 'GBP=1.17', (raw) => {
    const out: Record<string, number> = {};
    for (const pair of list(raw)) {
      const m = /^([A-Z]{3})=(\d{1,6}(\.\d{1,6})?)$/.exec(pair);
      if (!m || Number(m[2]) <= 0) throw new Error(`expected CUR=rate pairs (GBP=1.17), got "${pair}"`);
      out[m[1]!] = Number(m[2]);
    }
    return out;
  }, () => ({ GBP: 1.17 }) as Record<string, number>),
} as const;

type Settings = typeof settings;
export type Config = { -readonly [K in keyof Settings]: ReturnType<Settings[K]['fallback']> };

/** Reads and validates the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  // Defaults that live under the data directory follow an overridden one (tests, benches).
  const fallbackEnv = overrides.dataDir ? { ...env, VERITY_DATA_DIR: overrides.dataDir } : env;
  for (const [key, s] of Object.entries(settings) as [keyof Settings, Setting<unknown>][]) {
    const raw = env[s.env];
    if (raw === undefined || raw === '') {
      out[key] = s.fallback(fallbackEnv);
      continue;
    }
    try {
      out[key] = s.parse(raw);
    } catch (err) {
      problems.push(`${s.env}: ${(err as Error).message}`);
    }
  }
  const config = { ...(out as Config), ...overrides };
  if (config.env === 'production') {
    if (!config.databaseUrl) problems.push('DATABASE_URL: required in production (the embedded PostgreSQL is for one machine)');
    if (!config.kmsKeyId) problems.push('KMS_KEY_ID: required in production (personal data keys must live in KMS)');
    if (!config.serviceTokenSecret) problems.push('SERVICE_TOKEN_SECRET: required in production');
    if (!env.LOG_ORIGIN && !overrides.logOrigin) problems.push('LOG_ORIGIN: required in production (the evidence log\'s public name never changes)');
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The configuration table in Markdown, for the README. */
export function configTableMarkdown(): string {
  const rows = Object.values(settings).map((s) => `| \`${s.env}\` | ${s.defaultText} | ${s.description} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
