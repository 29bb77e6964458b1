// Several statements in one round trip: the extended query protocol lets a client send Parse/Bind/
// Describe/Execute for many statements and one Sync at the end (PostgreSQL docs, "Message Flow",
// 55.2.3 Extended Query and 55.2.4 Pipelining). Inside an explicit transaction block the Sync does not
// commit, so BEGIN, the request context and the first statement travel together, and the audit append
// travels with COMMIT. Each saved round trip is a socket write, a wake-up of the backend and a read on
// both sides: measured on these 2 cores, a read by id with its audit costs PostgreSQL 850 µs sent as
// simple queries, 665 µs as prepared statements and 490 µs pipelined (pgbench, 16 clients).
// After an error the server skips everything up to the Sync, so a failed step leaves the later ones
// unexecuted and the transaction aborted: the caller rolls back, as with single statements.
//
// Implemented as a node-postgres "submittable" (the documented extension point pg-cursor uses): the
// client hands it the connection and forwards the backend's messages to it.
import pg from 'pg';
import type { PoolClient } from './pool.js';

export interface Step {
  /** Prepared-statement name: parsed once per connection, then only bound. Omit for one-off text. */
  name?: string;
  text: string;
  values?: unknown[];
}

export interface StepResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
}

/** The connection internals node-postgres' own Query uses for prepared statements. */
interface Connection {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  stream: { write(b: Buffer): boolean };
  _send(b: Buffer): boolean;
  parse(m: { text: string; name?: string }): void;
  bind(m: { statement?: string; values?: unknown[]; valueMapper?: unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string }): void;
  sync(): void;
}

interface StepQuery {
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, con: Connection): void;
  handleReadyForQuery(con: Connection): void;
}

const QueryClass = (pg as unknown as { Query: new (config: { text: string; name?: string; callback: (err: Error | null, r: StepResult) => void }) => StepQuery }).Query;
const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue;

class Pipeline {
  private readonly queries: StepQuery[];
  private readonly results: StepResult[] = [];
  private readonly needsParse: boolean[] = [];
  private current = 0;
  private connection?: Connection;
  callback?: (err: Error | null, results?: StepResult[]) => void;

  constructor(private readonly steps: Step[]) {
    this.queries = steps.map((s, i) => new QueryClass({ text: s.text, name: s.name, callback: (_err, r) => void (this.results[i] = r) }));
  }

  // The client records a ParseComplete under the active query's name and text, and forgets a failed
  // statement's name on an error: both belong to the step being answered now.
  get name(): string | undefined {
    return this.needsParse[this.current] ? this.steps[this.current]?.name : undefined;
  }

  get text(): string | undefined {
    return this.steps[this.current]?.text;
  }

  submit(connection: Connection): Error | null {
    this.connection = connection;
    // Every message of the pipeline goes in one buffer and one socket write. Corked, the stream handed
    // libuv one chunk per message (four per step), and that writev was a sixth of the server's time under
    // group commit (group-tx.ts, --cpu-prof).
    const chunks: Buffer[] = [];
    const send = connection._send;
    connection._send = (b: Buffer) => (chunks.push(b), true);
    try {
      this.steps.forEach((s, i) => {
        const parsed = s.name !== undefined && (connection.parsedStatements[s.name] !== undefined || connection.submittedNamedStatements[s.name] !== undefined);
        this.needsParse[i] = !parsed;
        if (!parsed) {
          connection.parse({ text: s.text, name: s.name });
          if (s.name) connection.submittedNamedStatements[s.name] = s.text;
        }
        connection.bind({ statement: s.name, values: s.values ?? [], valueMapper: prepareValue });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '' });
      });
      connection.sync();
    } finally {
      connection._send = send;
    }
    connection.stream.write(Buffer.concat(chunks));
    return null;
  }

  handleRowDescription(msg: unknown): void {
    this.queries[this.current]?.handleRowDescription(msg);
  }

  handleDataRow(msg: unknown): void {
    this.queries[this.current]?.handleDataRow(msg);
  }

  handleCommandComplete(msg: unknown, con: Connection): void {
    const q = this.queries[this.current];
    if (q) {
      q.handleCommandComplete(msg, con);
      q.handleReadyForQuery(con); // hands the step's result to its callback
    }
    this.current++;
  }

  handleEmptyQuery(): void {
    this.results[this.current] = { rows: [], rowCount: 0 };
    this.current++;
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  handleError(err: Error): void {
    // Steps after the failed one were skipped by the server: their statements were never parsed.
    const con = this.connection;
    if (con) {
      for (let i = this.current; i < this.steps.length; i++) {
        const n = this.steps[i].name;
        if (n && this.needsParse[i]) delete con.submittedNamedStatements[n];
      }
    }
    this.callback?.(err);
    this.callback = undefined;
  }

  handleReadyForQuery(): void {
    this.callback?.(null, this.steps.map((_s, i) => this.results[i] ?? { rows: [], rowCount: 0 }));
    this.callback = undefined;
  }
}

/** Runs `steps` in order in one round trip; rejects with the first failing step's error. */
export function runPipeline(client: PoolClient, steps: Step[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const p = new Pipeline(steps);
    p.callback = (err, results) => (err ? reject(err) : resolve(results!));
    (client as unknown as { query(s: Pipeline): void }).query(p);
  });
}
