/** Wire contracts of the AML routes (unknown fields rejected, every string bounded). */
import { Type } from 'typebox';
import { Strict } from '@verity/kernel';

export const TAG_AML = 'AML';
export const Problem = { type: 'object', additionalProperties: true, description: 'RFC 9457 problem details' } as const;

const RuleId = Type.String({ pattern: '^[a-z][a-z0-9-]{1,62}$', maxLength: 63 });
const DateTime = Type.String({ format: 'date-time' });
const Parameters = Type.Record(Type.String({ maxLength: 64 }), Type.Number(), { maxProperties: 30, description: 'Numbers only; each rule documents its own (see parameterSchema)' });
const Reason = Type.String({ minLength: 3, maxLength: 1000, description: 'Why (audited)' });

export const RuleParams = Strict({ ruleId: RuleId });
export const VersionParams = Strict({ ruleId: RuleId, version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) });

export const RuleVersionDto = Strict({
  version: Type.Integer(),
  logicVersion: Type.Integer({ description: 'Version of the rule\'s code this version runs' }),
  parameters: Parameters,
  status: Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('retired')]),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: DateTime,
  activatedBy: Type.Union([Type.String(), Type.Null()]),
  activatedAt: Type.Union([DateTime, Type.Null()]),
  retiredAt: Type.Union([DateTime, Type.Null()]),
});

export const RuleDto = Strict({
  ruleId: RuleId,
  title: Type.String(),
  description: Type.String(),
  logicVersion: Type.Integer(),
  triggers: Type.Array(Type.String(), { maxItems: 4 }),
  parameterSchema: Type.Object({}, { additionalProperties: true, description: 'JSON Schema of the parameters' }),
  activeVersion: Type.Union([RuleVersionDto, Type.Null()]),
  versions: Type.Array(RuleVersionDto, { maxItems: 1000 }),
});
export const RuleList = Strict({ items: Type.Array(RuleDto, { maxItems: 50 }) });

export const CreateVersionBody = Strict({
  parameters: Parameters,
  reason: Reason,
});
export const ActivateBody = Strict({ reason: Reason });

export const BacktestBody = Strict({
  parameters: Type.Optional(Parameters),
  version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Replay a stored version (its parameters, with `parameters` over them)' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Default: 30 days before `to`' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now' })),
});

export const BacktestReply = Strict({
  ruleId: RuleId,
  logicVersion: Type.Integer(),
  basedOnVersion: Type.Union([Type.Integer(), Type.Null()]),
  parameters: Parameters,
  from: DateTime,
  to: DateTime,
  triggersReplayed: Type.Integer(),
  truncated: Type.Boolean({ description: 'The window held more history than one back-test replays; narrow it' }),
  alertCount: Type.Integer(),
  players: Type.Integer(),
  alerts: Type.Array(Strict({
    playerId: Type.String(),
    dedupeKey: Type.String(),
    trigger: Type.String(),
    triggeredAt: DateTime,
    summary: Type.String(),
    facts: Type.Object({}, { additionalProperties: true }),
    alreadyRaised: Type.Boolean({ description: 'The live rule raised an alert for this same trigger' }),
  }), { maxItems: 500 }),
});

export const AlertsQuery = Strict({
  ruleId: Type.Optional(RuleId),
  playerId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', maxLength: 64 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});
export const AlertDto = Strict({
  alertId: Type.String({ format: 'uuid' }),
  ruleId: RuleId,
  ruleVersion: Type.Integer(),
  logicVersion: Type.Integer(),
  playerId: Type.String(),
  dedupeKey: Type.String(),
  trigger: Type.String(),
  facts: Type.Object({}, { additionalProperties: true }),
  caseId: Type.Union([Type.String(), Type.Null()]),
  triggeredAt: DateTime,
  createdAt: DateTime,
});
export const AlertList = Strict({ items: Type.Array(AlertDto, { maxItems: 200 }), nextCursor: Type.Optional(Type.String()) });
