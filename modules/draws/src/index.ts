/**
 * The draws module: draw manifests committed before sales, close snapshots reconciled with sales,
 * randomness from a verified beacon (drand, or a local non-production sandbox), winners selected by
 * the protocol of @verity/evidence, evidence bundles anyone can verify offline, and prizes paid or
 * handed to fulfilment (ADR 0015). This file is its only import surface.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '@verity/kernel';
import { setupBeacons } from './beacon/setup.ts';
import { DrawProblems } from './draws/problems.ts';
import { drawView } from './draws/routes.ts';
import { setupDraws } from './draws/setup.ts';
import { drawsSettings } from './settings.ts';

export type { DrawState } from './domain/state.ts';
export type {
  DrawBlockedV1, DrawCompletedV1, DrawFailedV1, DrawSettledV1, FulfilmentRequestedV1, ManifestCommittedV1, PrizeCreditedV1, WinnerSelectedV1,
} from './contract.ts';
export { DrawEvents } from './contract.ts';
export type { RandomnessBeacon, BeaconChain, VerifiedBeacon } from './beacon/port.ts';
export { DRAWS_DEFAULTS, CONFIG_KEYS as DRAWS_CONFIG_KEYS, type DrawsSettings } from './settings.ts';

export type DrawView = ReturnType<typeof drawView>;

/** What other modules (and the console) may ask of draws. */
export interface DrawsService {
  /** The draw of a competition (undefined: none, e.g. a spot-the-ball competition). */
  getDraw(input: { competitionId: string }): Promise<DrawView | undefined>;
  /** Runs a snapshotted draw whose beacon round exists, to the end (what the timer job does at round R's time). Not inside a transaction. */
  runDraw(input: { competitionId: string }): Promise<DrawView>;
  /** The URL of the running beacon sandbox (DRAWS_BEACON=sandbox), for the start log and tests. */
  beaconSandboxUrl(): Promise<string | undefined>;
}

export const drawsModule = defineModule<DrawsService>({
  name: 'draws',
  migrationsDir: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations'),
  remoteMethods: ['getDraw', 'runDraw', 'beaconSandboxUrl'],
  setup(ctx) {
    const settings = drawsSettings(ctx.config);
    const beacons = setupBeacons(ctx, settings);
    const draws = setupDraws(ctx, beacons, settings);
    const { repo } = draws.deps;
    const view = async (competitionId: string) => {
      const d = await repo.byCompetition(competitionId);
      return d ? drawView(d, d.manifest ? draws.run.roundTimeOf(d) : undefined) : undefined;
    };
    return {
      service: {
        getDraw: ({ competitionId }) => view(competitionId),
        async runDraw({ competitionId }) {
          const d = await repo.byCompetition(competitionId);
          if (!d) throw DrawProblems.notFound();
          await draws.run.run(d.drawId);
          return (await view(competitionId))!;
        },
        beaconSandboxUrl: async () => beacons.sandbox()?.url,
      },
      routes: draws.routes,
      subscribers: draws.subscribers,
      jobs: draws.jobs,
      start: () => beacons.start(),
      stop: () => beacons.stop(),
    };
  },
});
