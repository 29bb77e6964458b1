// The commands' logger: src/log.ts's (same level, redaction and fields) writing to stderr, because stdout
// carries the command's one JSON object (../shared/CONTRACT.md "Command line": "Each prints one JSON
// object on stdout"). pino writes to stdout by default, so with the server's LOG_LEVEL=info exported, a
// log line (the embedded PostgreSQL's start, say) came before the JSON and broke every reader of it.
import { pino } from 'pino';
import { createLogger, type Logger } from '../log.js';

export function createCliLogger(level: string): Logger {
  // Synchronous, so a line is out before process.exit.
  return createLogger(level, pino.destination({ dest: 2, sync: true }));
}
