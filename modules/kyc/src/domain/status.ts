/**
 * The verification state machine of a KYC application and the age rule. Pure: no I/O.
 *
 *   not_started ─start─▶ pending ─vendor─▶ approved | rejected_final | resubmit | manual_review | expired
 *   resubmit, expired ─start─▶ pending          manual_review ─operator─▶ approved | rejected_final | resubmit
 *   any open state ─under 18─▶ rejected_final   approved and rejected_final are final.
 */
export const VERIFICATION_STATUSES = ['not_started', 'pending', 'approved', 'rejected_final', 'resubmit', 'manual_review', 'expired'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];
/** What a vendor check (or a review) can come to; `pending` while it runs. */
export type CheckOutcome = Exclude<VerificationStatus, 'not_started'>;

const NEXT: Readonly<Record<VerificationStatus, readonly VerificationStatus[]>> = {
  not_started: ['pending', 'rejected_final'],
  pending: ['approved', 'rejected_final', 'resubmit', 'manual_review', 'expired', 'not_started'],
  resubmit: ['pending', 'rejected_final'],
  // A result that arrives after we gave up waiting still counts: the vendor did check the person.
  expired: ['pending', 'rejected_final', 'approved', 'resubmit', 'manual_review'],
  manual_review: ['approved', 'rejected_final', 'resubmit'],
  approved: [],
  rejected_final: [],
};

export const canMove = (from: VerificationStatus, to: VerificationStatus): boolean => NEXT[from].includes(to);
export const isFinal = (s: VerificationStatus): boolean => NEXT[s].length === 0;
/** States from which the player may start (or restart) a check. */
export const canStart = (s: VerificationStatus): boolean => s === 'not_started' || s === 'resubmit' || s === 'expired';

/** Stable reason codes (shown to players and operators; never personal data). */
export const Reasons = {
  underAge: 'under-age',
  vendorApproved: 'identity-confirmed',
  vendorRejected: 'identity-not-confirmed',
  vendorResubmit: 'documents-needed',
  vendorReview: 'needs-manual-review',
  vendorExpired: 'check-expired',
  checkTimedOut: 'check-timed-out',
  vendorUnavailable: 'vendor-unavailable',
  operatorApproved: 'operator-approved',
  operatorRejected: 'operator-rejected',
  operatorResubmit: 'operator-requested-documents',
} as const;

export const MINIMUM_AGE_YEARS = 18;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/**
 * Full years between a YYYY-MM-DD birth date and `today` (UTC). Someone born on 29 February comes of
 * age on 1 March in a common year, as UK law counts it.
 */
export function ageInYears(dateOfBirth: string, today: Date): number {
  const m = DATE.exec(dateOfBirth);
  if (!m) throw new Error('date of birth must be YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ty = today.getUTCFullYear();
  const tmo = today.getUTCMonth() + 1;
  const td = today.getUTCDate();
  const hadBirthday = tmo > mo || (tmo === mo && td >= d);
  return ty - y - (hadBirthday ? 0 : 1);
}

export const isAdult = (dateOfBirth: string, today: Date): boolean => ageInYears(dateOfBirth, today) >= MINIMUM_AGE_YEARS;

/** What the player is told to do next. */
export function nextStep(status: VerificationStatus): string {
  switch (status) {
    case 'not_started':
      return 'Start verification (POST /v1/kyc). It usually takes a few seconds.';
    case 'pending':
      return 'We are checking your details. Follow the verification link if one is shown; otherwise nothing to do.';
    case 'resubmit':
      return 'We could not confirm your identity from your details alone. Upload a photo ID and a proof of address, then start verification again.';
    case 'manual_review':
      return 'A member of our compliance team is reviewing your verification. We will let you know the outcome.';
    case 'expired':
      return 'Your last verification was not completed in time. Start verification again.';
    case 'approved':
      return 'You are verified.';
    case 'rejected_final':
      return 'Your verification was refused. Contact support if you believe this is a mistake.';
  }
}
