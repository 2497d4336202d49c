/**
 * The notification port on Amazon SES (API v2, SendEmail), sender MAIL_FROM. Region, credentials
 * and endpoint come from the AWS SDK's standard configuration (AWS_REGION, the credential chain,
 * AWS_ENDPOINT_URL_SESV2 or AWS_ENDPOINT_URL for a local stand-in), as for every AWS client.
 * Each attempt is bounded in time and the SDK retries transient failures a few times; a message
 * that still cannot be sent is the caller's to log (a password reset can simply be asked for again).
 */
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { Logger } from '@verity/kernel';
import type { Notifier } from './notifier.ts';

const ATTEMPTS_MAX = 3;
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** The client the SES adapter needs: tests and tools may hand in their own. */
export interface SesLike {
  send(command: SendEmailCommand): Promise<{ MessageId?: string }>;
  destroy(): void;
}

export function sesNotifier(options: { from: string; log: Logger; client?: SesLike }): Notifier {
  const client: SesLike =
    options.client ??
    new SESv2Client({ maxAttempts: ATTEMPTS_MAX, requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } });
  return {
    async send(message) {
      const out = await client.send(
        new SendEmailCommand({
          FromEmailAddress: options.from,
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
            },
          },
          // Searchable in SES event publishing without reading the message (no personal data in it).
          EmailTags: [{ Name: 'template', Value: message.template }],
        }),
      );
      options.log.info({ template: message.template, messageId: out.MessageId }, 'notification sent with SES');
    },
    close: () => client.destroy(),
  };
}
