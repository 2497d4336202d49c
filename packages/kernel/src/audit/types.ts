/**
 * The audit API every module uses for operator and security actions. Narrow on purpose: the
 * evidence log later replaces the hash chain behind it without touching callers.
 */
export interface AuditEntry {
  /** `operator:<id>`, `player:<id>`, `service:<module>`, `system`, or `anonymous`. */
  actor: string;
  /** `<module>.<verb>`: `identity.operator-created`, `identity.sign-in-failed`. */
  action: string;
  /** What was acted on: `operator:<id>`, `player:<id>`… */
  subject?: string;
  reason?: string;
  /** Extra facts; never personal data in clear (use keyed hashes). */
  data?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  sequence: bigint;
  id: string;
  module: string;
  traceId: string | null;
  recordedAt: Date;
  prevHash: string;
  hash: string;
}

export interface AuditLog {
  /** Appends one record; joins the current transaction when there is one. */
  record(entry: AuditEntry): Promise<AuditRecord>;
}
