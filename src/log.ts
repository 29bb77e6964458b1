// JSON logs (pino) that never carry PHI: callers log ids of requests and counts, never bodies,
// names, identifiers, dates of birth or addresses. Redaction below is a second line of defence.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'fhirgate' },
    redact: {
      paths: ['body', 'resource', 'req.body', 'headers.authorization', 'authorization', 'password', 'query', 'url'],
      censor: '[redacted]',
    },
  });
}

/** The process-wide logger; tests silence it with LOG_LEVEL=silent. */
export const log: Logger = createLogger();
