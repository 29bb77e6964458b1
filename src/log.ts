// JSON logs (pino) that never carry PHI: callers log ids of requests and counts, never bodies,
// names, identifiers, dates of birth or addresses. Redaction below is a second line of defence.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `destination`: where lines go, stdout unless given (the CLI sends them to stderr: src/cli/stderr-log.ts). */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'fhirgate' },
    redact: {
      paths: ['body', 'resource', 'req.body', 'headers.authorization', 'authorization', 'password', 'query', 'url'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The process-wide logger; tests silence it with LOG_LEVEL=silent. */
export const log: Logger = createLogger();
