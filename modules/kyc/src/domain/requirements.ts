/**
 * What we may ask of a player, told up front (UKGC LCCP licence condition 17.1.1: before they can
 * deposit, the kinds of identity documents or information that may be required, when, and how they
 * will be asked for). Static and versioned: a change is a new version, so what a player was shown
 * at a given time can be reproduced.
 */
export const DOCUMENT_TYPES = ['passport', 'driving_licence', 'national_id', 'proof_of_address'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Formats accepted for uploads, recognised by their content (magic bytes), never by name or header. */
export const DOCUMENT_CONTENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const;
export type DocumentContentType = (typeof DOCUMENT_CONTENT_TYPES)[number];

export interface RequirementItem {
  id: string;
  title: string;
  /** When it is asked for. */
  when: string;
  /** Why we ask. */
  why: string;
}

export interface DocumentRequirement {
  type: DocumentType;
  title: string;
  examples: string;
  when: string;
  why: string;
}

export interface RequirementsStatement {
  version: string;
  effectiveFrom: string;
  basis: string;
  summary: string;
  checks: RequirementItem[];
  documents: DocumentRequirement[];
  howWeAsk: string;
  accepted: { contentTypes: string[]; maxBytes: number };
}

export const REQUIREMENTS_VERSION = '2025-01';

export function requirementsStatement(maxBytes: number): RequirementsStatement {
  return {
    version: REQUIREMENTS_VERSION,
    effectiveFrom: '2025-01-01',
    basis: 'UK Gambling Commission Licence Conditions and Codes of Practice, licence condition 17 (customer identity and age verification), and the Money Laundering Regulations 2017.',
    summary: 'You must be 18 or over and we must confirm who you are before you can deposit, buy entries or withdraw. Most people are verified from the details they registered with, in seconds.',
    checks: [
      { id: 'age', title: 'Age (18 or over)', when: 'Before your first deposit or entry.', why: 'The law forbids gambling by anyone under 18. Anyone under 18 is refused.' },
      { id: 'identity', title: 'Name, date of birth and address', when: 'Before your first deposit or entry.', why: 'We confirm your details with our identity verification provider against electronic records.' },
      { id: 'documents', title: 'Photo ID and proof of address', when: 'Only if your details cannot be confirmed electronically, or a reviewer needs them.', why: 'To confirm your identity and address from the documents themselves.' },
      { id: 'sanctions', title: 'Sanctions and politically exposed persons screening', when: 'At registration, before each payout, and when the lists change.', why: 'We may not do business with people on financial sanctions lists.' },
      { id: 'source-of-funds', title: 'Source of funds', when: 'If your deposits reach the levels that anti-money-laundering rules set (for example EUR 2,000 within 24 hours).', why: 'We must understand where the money you gamble with comes from.' },
      { id: 'payout', title: 'Re-verification before a prize is paid', when: 'Before we pay out a prize, if anything has changed.', why: 'To make sure we pay the right person.' },
    ],
    documents: [
      { type: 'passport', title: 'Passport', examples: 'A current passport (photo page).', when: 'If asked for photo ID.', why: 'Proves your identity and age.' },
      { type: 'driving_licence', title: 'Driving licence', examples: 'A current photocard driving licence (front).', when: 'If asked for photo ID.', why: 'Proves your identity and age.' },
      { type: 'national_id', title: 'National identity card', examples: 'A current national identity card (front and back in one file).', when: 'If asked for photo ID.', why: 'Proves your identity and age.' },
      { type: 'proof_of_address', title: 'Proof of address', examples: 'A utility bill, bank statement or council tax bill dated within the last 3 months.', when: 'If your address cannot be confirmed electronically.', why: 'Proves where you live.' },
    ],
    howWeAsk: 'Only in your account, in this app or on our website. We will never ask you to send documents by email, text message or social media.',
    accepted: { contentTypes: ['image/jpeg', 'image/png', 'application/pdf'], maxBytes },
  };
}
