/**
 * The identity module's wire contracts: HTTP bodies (unknown fields rejected, every string bounded)
 * and its events. The OpenAPI document is generated from these.
 */
import { Type, type Static } from 'typebox';
import { OPERATOR_ROLES, Strict } from '@verity/kernel';
import { PASSWORD_CHARS_MAX, PASSWORD_CHARS_MIN } from './domain/password-policy.ts';

export const TAG_AUTH = 'Authentication';
export const TAG_ACCOUNTS = 'Accounts';
export const TAG_OPERATORS = 'Operators';
export const TAG_DISCOVERY = 'Discovery';

const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254, description: 'Email address; compared case-insensitively' });
const NewPassword = Type.String({ minLength: PASSWORD_CHARS_MIN, maxLength: PASSWORD_CHARS_MAX, description: `${PASSWORD_CHARS_MIN} to ${PASSWORD_CHARS_MAX} characters; common and breached passwords are refused` });
const AnyPassword = Type.String({ minLength: 1, maxLength: PASSWORD_CHARS_MAX });
const Country = Type.String({ pattern: '^[A-Z]{2}$', minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2 country code' });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const OpaqueToken = (description: string) => Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', minLength: 43, maxLength: 43, description });
const TotpCode = Type.String({ pattern: '^[0-9]{6}$', minLength: 6, maxLength: 6, description: 'The 6-digit code of the authenticator app' });
const CodeChallengeName = Type.Union([Type.Literal('MFA_REQUIRED'), Type.Literal('MFA_SETUP_REQUIRED')]);
const ChallengeName = Type.Union([Type.Literal('MFA_REQUIRED'), Type.Literal('MFA_SETUP_REQUIRED'), Type.Literal('NEW_PASSWORD_REQUIRED')]);
const DateTime = Type.String({ format: 'date-time', maxLength: 40 });
const OperatorStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled')]);
const OperatorRole = Type.Union(OPERATOR_ROLES.map((r) => Type.Literal(r)));
const Roles = Type.Array(OperatorRole, { minItems: 1, maxItems: OPERATOR_ROLES.length, uniqueItems: true });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const Address = Strict({
  line1: Type.String({ minLength: 1, maxLength: 200 }),
  line2: Type.Optional(Type.String({ maxLength: 200 })),
  city: Type.String({ minLength: 1, maxLength: 100 }),
  postcode: Type.String({ minLength: 1, maxLength: 20 }),
  country: Country,
});

export const RegisterPlayerBody = Strict({
  email: Email,
  password: NewPassword,
  legalName: Type.String({ minLength: 1, maxLength: 200, description: 'Full legal name, as on an identity document' }),
  dateOfBirth: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', minLength: 10, maxLength: 10, description: 'YYYY-MM-DD' }),
  address: Address,
  country: Country,
});
export const RegisterPlayerReply = Strict({ playerId: Uuid, status: Type.Literal('active') });

export const LoginBody = Strict({ email: Email, password: AnyPassword });
export const TokenSet = Strict({
  accessToken: Type.String({ maxLength: 8192 }),
  refreshToken: OpaqueToken('Opaque; single use: each refresh returns a new one'),
  idToken: Type.Optional(Type.String({ maxLength: 8192 })),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ minimum: 1, description: 'Seconds until the access token expires' }),
});
export const ChallengeReply = Strict({ challengeName: ChallengeName, session: OpaqueToken('Answer the challenge with it within 5 minutes') });
export const LoginReply = Type.Union([TokenSet, ChallengeReply]);

export const CodeChallengeBody = Strict({ challengeName: CodeChallengeName, session: OpaqueToken('From the login (or previous challenge) reply'), code: TotpCode });
export const NewPasswordChallengeBody = Strict({
  challengeName: Type.Literal('NEW_PASSWORD_REQUIRED'),
  session: OpaqueToken('From the login (or previous challenge) reply'),
  newPassword: NewPassword,
});
export const ChallengeBody = Type.Union([CodeChallengeBody, NewPasswordChallengeBody], {
  description: 'MFA_REQUIRED and MFA_SETUP_REQUIRED take a TOTP `code`; NEW_PASSWORD_REQUIRED takes the `newPassword` that replaces a temporary one.',
});
export const RefreshBody = Strict({ refreshToken: OpaqueToken('The latest refresh token') });
export const LogoutBody = Strict({ refreshToken: OpaqueToken('Any refresh token of the session to end') });

export const EnrollMfaBody = Strict({ session: Type.Optional(OpaqueToken('During MFA_SETUP_REQUIRED: the session of the login reply; otherwise send a bearer token')) });
export const EnrollMfaReply = Strict({
  secret: Type.String({ maxLength: 64, description: 'Base32 TOTP secret, for manual entry' }),
  otpauthUri: Type.String({ maxLength: 500, description: 'For a QR code' }),
});
export const VerifyMfaBody = Strict({ code: TotpCode, session: Type.Optional(OpaqueToken('During MFA_SETUP_REQUIRED')) });
export const VerifyMfaReply = Strict({
  enabled: Type.Literal(true),
  // During MFA_SETUP_REQUIRED the verified code completes the sign-in.
  accessToken: Type.Optional(Type.String({ maxLength: 8192 })),
  refreshToken: Type.Optional(OpaqueToken('As in the login reply')),
  tokenType: Type.Optional(Type.Literal('Bearer')),
  expiresIn: Type.Optional(Type.Integer({ minimum: 1 })),
  // Or, should the sign-in have a step left, its challenge.
  challengeName: Type.Optional(ChallengeName),
  session: Type.Optional(OpaqueToken('As in the login reply')),
});

const TemporaryPassword = Type.String({ maxLength: 128, description: 'Shown once and stored nowhere in clear: the operator must replace it at first sign-in (NEW_PASSWORD_REQUIRED)' });
export const CreateOperatorBody = Strict({ email: Email, displayName: Type.String({ minLength: 1, maxLength: 200 }), roles: Roles });
export const CreateOperatorReply = Strict({
  operatorId: Uuid,
  temporaryPassword: TemporaryPassword,
  temporaryPasswordExpiresAt: DateTime,
});
export const TemporaryPasswordReply = CreateOperatorReply;
export const OperatorParams = Strict({ operatorId: Uuid });
export const ReasonBody = Strict({ reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why: kept in the audit record' }) });
export const OperatorReply = Strict({
  operatorId: Uuid,
  email: Type.String({ maxLength: 254 }),
  displayName: Type.String({ maxLength: 200 }),
  roles: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 16 }),
  status: OperatorStatus,
  mfaEnabled: Type.Boolean(),
  passwordChangeRequired: Type.Boolean({ description: 'Still on a temporary password' }),
  temporaryPasswordExpiresAt: Type.Optional(DateTime),
  createdAt: DateTime,
  createdBy: Type.String({ maxLength: 300, description: 'Audit actor who created it, or `system`' }),
});
export const OperatorPage = Strict({
  items: Type.Array(OperatorReply, { maxItems: 100 }),
  nextCursor: Type.Optional(Type.String({ maxLength: 64, description: 'Pass as `cursor` for the next page; absent on the last page' })),
});
export const ListOperatorsQuery = Strict({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
  role: Type.Optional(OperatorRole),
  status: Type.Optional(OperatorStatus),
});
export const SetRolesBody = Strict({ roles: Roles });
export const SetRolesReply = Strict({ operatorId: Uuid, roles: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 16 }) });

export const PasswordResetBody = Strict({ email: Email });
export const PasswordResetReply = Strict({ status: Type.Literal('accepted') });
export const PasswordResetConfirmBody = Strict({ token: OpaqueToken('From the reset message'), newPassword: NewPassword });

export const PlayerProfile = Strict({
  email: Type.String({ maxLength: 254 }),
  legalName: Type.String({ maxLength: 200 }),
  dateOfBirth: Type.String({ maxLength: 10 }),
  address: Address,
  country: Country,
});
export const OperatorProfile = Strict({ email: Type.String({ maxLength: 254 }), displayName: Type.String({ maxLength: 200 }) });
export const MeReply = Strict({
  subject: Type.String({ maxLength: 200 }),
  kind: Type.Union([Type.Literal('player'), Type.Literal('operator'), Type.Literal('service')]),
  roles: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 32 }),
  permissions: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 }),
  amr: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 8 }),
  authTime: Type.String({ format: 'date-time' }),
  issuer: Type.String({ maxLength: 500 }),
  // Accounts of this issuer only: tokens of an external issuer have no account here.
  mfaEnabled: Type.Optional(Type.Boolean()),
  player: Type.Optional(PlayerProfile),
  operator: Type.Optional(OperatorProfile),
});
export const UpdateAddressReply = Strict({ address: Address });

export const Jwks = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true }), { maxItems: 20 }) }, { additionalProperties: false });
export const OpenIdConfiguration = Type.Object({ issuer: Type.String(), jwks_uri: Type.String() }, { additionalProperties: true });
export const NoContent = Type.Null({ description: 'No content' });

// ---- events ---------------------------------------------------------------------------------------
export const PLAYER_REGISTERED_V1 = 'identity.player-registered.v1';
export const OPERATOR_CREATED_V1 = 'identity.operator-created.v1';
export const PLAYER_ADDRESS_CHANGED_V1 = 'identity.player-address-changed.v1';
export const SIGNED_IN_V1 = 'identity.signed-in.v1';

/** No personal data: consumers that need more ask identity, which can refuse after erasure. */
export const PlayerRegisteredV1 = Strict({ playerId: Uuid, country: Country, registeredAt: Type.String({ format: 'date-time' }) });
export const OperatorCreatedV1 = Strict({ operatorId: Uuid, roles: Type.Array(Type.String()), createdAt: Type.String({ format: 'date-time' }) });
/** The new address is not in it: a consumer that must re-check it (KYC) asks identity. */
export const PlayerAddressChangedV1 = Strict({ playerId: Uuid, changedAt: Type.String({ format: 'date-time' }) });
/** A player signed in (AML: one device or IP across accounts). Keyed hashes only, never the address or id. */
export const SignedInV1 = Strict({
  accountId: Uuid,
  ipHash: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
  deviceHash: Type.Union([Type.String({ maxLength: 128 }), Type.Null()], { description: 'Of the X-Device-Id header the app sends, when it does' }),
});

export type RegisterPlayerInput = Static<typeof RegisterPlayerBody>;
export type TokenSetDto = Static<typeof TokenSet>;
export type ChallengeDto = Static<typeof ChallengeReply>;
export type LoginResult = TokenSetDto | ChallengeDto;
export type PlayerRegisteredV1Data = Static<typeof PlayerRegisteredV1>;
export type OperatorCreatedV1Data = Static<typeof OperatorCreatedV1>;
export type PlayerAddressChangedV1Data = Static<typeof PlayerAddressChangedV1>;
export type SignedInV1Data = Static<typeof SignedInV1>;
export type AddressDto = Static<typeof Address>;
export type OperatorDto = Static<typeof OperatorReply>;
export type OperatorPageDto = Static<typeof OperatorPage>;
export type MeDto = Static<typeof MeReply>;
