// PLACEHOLDER (helper "multiprocess" replaces): service calls between processes over HTTP.
import { createHash } from 'node:crypto';
import type { Config } from './config.ts';
import type { HttpApp } from './http/server.ts';
import type { ModuleDefinition, ModuleRuntime } from './module.ts';
import type { Logger } from './telemetry/logger.ts';
export async function serviceTokenSecret(config: Config): Promise<string> {
  return config.serviceTokenSecret ?? createHash('sha256').update(config.dataDir).digest('hex');
}
export function createRemoteService(_def: ModuleDefinition<any>, _opts: { baseUrl: string; secret: string; callerModule: string }): unknown {
  return {};
}
export function registerInternalRoutes(_app: HttpApp, _opts: { modules: readonly ModuleDefinition<any>[]; runtimes: Map<string, ModuleRuntime<unknown>>; secret: string; log: Logger }): void {}
