/** The AML part's problems (problem+json codes clients branch on). */
import { DomainError, Problems, type FieldError } from '@verity/kernel';

export const AmlProblems = {
  unknownRule: (ruleId: string) => new DomainError('not-found', 404, 'Not found', `There is no AML rule "${ruleId}".`),
  unknownVersion: (ruleId: string, version: number) => new DomainError('not-found', 404, 'Not found', `Rule "${ruleId}" has no version ${version}.`),
  parametersInvalid: (errors: FieldError[]) => Problems.validation(errors, 'The rule parameters are not valid.'),
  alreadyActive: (ruleId: string, version: number) => new DomainError('rule-version-already-active', 409, 'Already active', `Version ${version} of "${ruleId}" is already the active one.`),
  staleLogic: (ruleId: string, version: number) =>
    new DomainError('rule-version-stale', 409, 'Version of older rule logic', `Version ${version} of "${ruleId}" was made for older rule code; create a new version from its parameters.`),
  backtestWindow: (detail: string) => Problems.validation([{ pointer: '/body', detail }]),
} as const;
