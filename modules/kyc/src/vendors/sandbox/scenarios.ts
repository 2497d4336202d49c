/**
 * Scenario control by test data, as real vendor sandboxes do it (Onfido: a surname of "Consider"):
 * the applicant's LAST NAME picks the outcome of their checks. Case-insensitive; anything else approves.
 *
 * | last name  | check result                                   | we record      |
 * |------------|------------------------------------------------|----------------|
 * | (any)      | complete / clear                               | approved       |
 * | Approve    | complete / clear                               | approved       |
 * | Reject     | complete / rejected                            | rejected_final |
 * | Resubmit   | complete / resubmit; clear once a photo ID was uploaded before the check | resubmit → approved |
 * | Review     | complete / review                              | manual_review  |
 * | Timeout    | stays in_progress for ever (no completion webhook) | pending → expired by our deadline |
 * | Expire     | expired (the applicant abandoned the flow)     | expired        |
 */
export const SCENARIOS = ['approve', 'reject', 'resubmit', 'review', 'timeout', 'expire'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export function scenarioOf(lastName: string): Scenario {
  const s = lastName.trim().toLowerCase();
  return (SCENARIOS as readonly string[]).includes(s) ? (s as Scenario) : 'approve';
}

const PHOTO_ID = new Set(['passport', 'driving_licence', 'national_id']);

/** The sandbox check's end: its status and result, or undefined when it never ends. */
export function checkEnd(scenario: Scenario, documentTypes: readonly string[]): { status: 'complete' | 'expired'; result: SandboxResult | null } | undefined {
  switch (scenario) {
    case 'approve':
      return { status: 'complete', result: 'clear' };
    case 'reject':
      return { status: 'complete', result: 'rejected' };
    case 'resubmit':
      return { status: 'complete', result: documentTypes.some((t) => PHOTO_ID.has(t)) ? 'clear' : 'resubmit' };
    case 'review':
      return { status: 'complete', result: 'review' };
    case 'expire':
      return { status: 'expired', result: null };
    case 'timeout':
      return undefined;
  }
}

export type SandboxResult = 'clear' | 'rejected' | 'resubmit' | 'review';

export const SCENARIO_TABLE = [
  { lastName: '(any other)', outcome: 'approved' },
  { lastName: 'Approve', outcome: 'approved' },
  { lastName: 'Reject', outcome: 'rejected_final' },
  { lastName: 'Resubmit', outcome: 'resubmit; approved once a passport, driving licence or national ID was uploaded before the check' },
  { lastName: 'Review', outcome: 'manual_review' },
  { lastName: 'Timeout', outcome: 'never completes; expires at KYC_CHECK_EXPIRY_S' },
  { lastName: 'Expire', outcome: 'expired (applicant abandoned)' },
];
