/**
 * The audit API every module uses for operator and security actions. Narrow on purpose: records
 * are leaves of the evidence log (ADR 0012), which replaced the hash chain behind this interface.
 */
export interface AuditEntry {
  /** `operator:<id>`, `player:<id>`, `service:<module>`, `system`, or `anonymous`. */
  actor: string;
  /** `<module>.<verb>`: `identity.operator-created`, `identity.sign-in-failed`. */
  action: string;
  /** What was acted on: `operator:<id>`, `player:<id>`… */
  subject?: string;
  reason?: string;
  /**
   * Extra facts; never personal data in clear (use ids and keyed hashes): the log is never erased.
   * Fields named like personal data (email, dateOfBirth, iban…) are refused unless they hold a
   * boolean, null or a 64-hex hash.
   */
  data?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  /** Orders audit records (gaps where a transaction rolled back); the log index comes later. */
  sequence: bigint;
  id: string;
  module: string;
  traceId: string | null;
  recordedAt: Date;
  /**
   * RFC 9162 leaf hash (hex) of the record's canonical JSON in the evidence log; its index is given
   * after the commit (`evidenceLog.integrated(leafHash)`).
   */
  leafHash: string;
}

export interface AuditLog {
  /** Appends one record to the evidence log; joins the current transaction when there is one. */
  record(entry: AuditEntry): Promise<AuditRecord>;
}
