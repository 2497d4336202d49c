/**
 * The notification port: how a message to a person (password reset…) leaves the platform.
 * `file` (default) writes one JSON file per message into `$VERITY_DATA_DIR/mail/` (0600: it holds
 * reset links), `console` prints it for a developer, `ses` sends it with Amazon SES (ses-notifier.ts,
 * loaded only when chosen: the AWS SDK is heavy).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, Logger } from '@verity/kernel';

export interface Notification {
  to: string;
  subject: string;
  text: string;
  /** Stable template name, so a provider adapter can render its own layout. */
  template: 'password-reset';
  data: Record<string, string>;
}

export interface Notifier {
  send(message: Notification): Promise<void>;
  /** Releases connections at shutdown. */
  close?(): void;
}

export function fileNotifier(dir: string, from: string): Notifier {
  return {
    async send(message) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const sentAt = new Date().toISOString();
      const file = path.join(dir, `${sentAt.replace(/[:.]/g, '-')}-${randomUUID()}.json`);
      await writeFile(file, `${JSON.stringify({ from, sentAt, ...message }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    },
  };
}

export function consoleNotifier(from: string): Notifier {
  return {
    async send(message) {
      // Deliberately stdout and not the logger: logs never carry personal data, this is a dev mailbox.
      console.log(`\n----- mail from ${from} to ${message.to} -----\nSubject: ${message.subject}\n\n${message.text}\n-----\n`);
    },
  };
}

export async function notifierFromConfig(config: Config, log: Logger): Promise<Notifier> {
  switch (config.notificationSender) {
    case 'file':
      return fileNotifier(path.join(config.dataDir, 'mail'), config.mailFrom);
    case 'console':
      return consoleNotifier(config.mailFrom);
    case 'ses': {
      const { sesNotifier } = await import('./ses-notifier.ts');
      return sesNotifier({ from: config.mailFrom, log });
    }
  }
}
