/**
 * The role → permission catalogue. Routes declare permissions, never roles, so a role can change
 * what it may do here without touching any module. Permissions are `<resource>:<action>`.
 *
 * Player permissions act only on the caller's own records (the service checks ownership); operator
 * permissions reach other people's data, so every route that needs one also requires MFA.
 */
export const PlayerPermissions = {
  profileReadOwn: 'profile:read-own',
  profileUpdateOwn: 'profile:update-own',
  kycSubmitOwn: 'kyc:submit-own',
  walletReadOwn: 'wallet:read-own',
  walletDepositOwn: 'wallet:deposit-own',
  walletWithdrawOwn: 'wallet:withdraw-own',
  ticketsBuy: 'tickets:buy',
  ticketsReadOwn: 'tickets:read-own',
  skillAnswer: 'skill:answer',
  limitsManageOwn: 'limits:manage-own',
} as const;

export const OperatorPermissions = {
  operatorsRead: 'operators:read',
  /** Create operators and change their roles. */
  operatorsManage: 'operators:manage',
  playersRead: 'players:read',
  /** Suspend, close, unlock player accounts. */
  playersManage: 'players:manage',
  auditRead: 'audit:read',
  settingsManage: 'settings:manage',
  kycRead: 'kyc:read',
  kycReview: 'kyc:review',
  /** Overturn a review decision or an automated check. */
  kycOverride: 'kyc:override',
  casesRead: 'cases:read',
  casesWork: 'cases:work',
  casesDecide: 'cases:decide',
  amlRulesManage: 'aml-rules:manage',
  sanctionsScreen: 'sanctions:screen',
  rgControlsManage: 'rg-controls:manage',
  evidenceExport: 'evidence:export',
  /** Legal holds and retention runs (erasure of closed customers' personal data). */
  retentionManage: 'retention:manage',
  ledgerRead: 'ledger:read',
  paymentsRefund: 'payments:refund',
  payoutsApprove: 'payouts:approve',
  /** Start a payout from a player's wallet (account closure, goodwill); another operator approves it. */
  payoutsRequest: 'payouts:request',
  ledgerAdjust: 'ledger:adjust',
  reconciliationRun: 'reconciliation:run',
  competitionsRead: 'competitions:read',
  competitionsManage: 'competitions:manage',
  skillTestsManage: 'skill-tests:manage',
  postalEntriesManage: 'postal-entries:manage',
  drawsRead: 'draws:read',
  drawsManage: 'draws:manage',
  drawsRun: 'draws:run',
  assetsRead: 'assets:read',
  assetsManage: 'assets:manage',
  assetsApprove: 'assets:approve',
} as const;

export type PlayerPermission = (typeof PlayerPermissions)[keyof typeof PlayerPermissions];
export type OperatorPermission = (typeof OperatorPermissions)[keyof typeof OperatorPermissions];
export type Permission = PlayerPermission | OperatorPermission;

export const OPERATOR_ROLES = ['admin', 'compliance-analyst', 'compliance-manager', 'finance', 'draw-manager', 'asset-manager', 'support'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
export const PLAYER_ROLE = 'player';
export type Role = OperatorRole | typeof PLAYER_ROLE;

const P = OperatorPermissions;
const analyst: OperatorPermission[] = [P.playersRead, P.kycRead, P.kycReview, P.casesRead, P.casesWork, P.sanctionsScreen, P.ledgerRead, P.drawsRead, P.competitionsRead];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  player: Object.values(PlayerPermissions),
  // The platform's superuser: everything an operator can do. Least-privilege deployments give
  // day-to-day staff the narrower roles and keep admin accounts for operator management.
  admin: Object.values(OperatorPermissions),
  'compliance-analyst': analyst,
  'compliance-manager': [...analyst, P.kycOverride, P.casesDecide, P.amlRulesManage, P.rgControlsManage, P.evidenceExport, P.retentionManage, P.auditRead, P.playersManage],
  finance: [P.ledgerRead, P.paymentsRefund, P.payoutsApprove, P.payoutsRequest, P.ledgerAdjust, P.reconciliationRun, P.playersRead, P.drawsRead, P.competitionsRead, P.assetsRead],
  'draw-manager': [P.competitionsRead, P.competitionsManage, P.skillTestsManage, P.postalEntriesManage, P.drawsRead, P.drawsManage, P.drawsRun, P.assetsRead],
  'asset-manager': [P.assetsRead, P.assetsManage, P.assetsApprove, P.competitionsRead],
  support: [P.playersRead, P.operatorsRead, P.kycRead, P.casesRead, P.competitionsRead, P.drawsRead],
};

const OPERATOR_PERMISSION_SET: ReadonlySet<string> = new Set(Object.values(OperatorPermissions));
const OPERATOR_ROLE_SET: ReadonlySet<string> = new Set(OPERATOR_ROLES);

export const isOperatorRole = (role: string): role is OperatorRole => OPERATOR_ROLE_SET.has(role);
export const isOperatorPermission = (permission: string): boolean => OPERATOR_PERMISSION_SET.has(permission);
export const isKnownRole = (role: string): role is Role => role === PLAYER_ROLE || OPERATOR_ROLE_SET.has(role);

/** Union of the permissions of the given roles; unknown roles grant nothing. */
export function permissionsFor(roles: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const role of roles) if (isKnownRole(role)) for (const p of ROLE_PERMISSIONS[role]) out.add(p);
  return out;
}
