// Group commit for reading requests (issue "Compliance": "with audit on, reads by id still reach
// ≥ 2,500 requests/s at 32 clients (group commit helps)"). Every access appends its AuditEvent in the
// transaction that reads the data ("no audit row, no data"), which makes each read a write transaction
// of its own: BEGIN, context, read, append, COMMIT and a WAL flush. Here concurrent reading requests
// share ONE transaction instead:
// - each request's statements are preceded by its own context step (role, tenant, patient, scopes:
//   set_config(…, true) may be called again inside a transaction and the policies read the latest
//   value), so row-level security checks every statement as the request it belongs to;
// - their AuditEvents go in one audit.append per tenant, just before the one COMMIT;
// - nothing is answered before that COMMIT has succeeded.
// Measured by pgbench (PostgreSQL CPU per audited read by id, 16 clients, pipelined as pipeline.ts does):
// one per transaction 601–630 µs; eight per transaction, one append, 266–295 µs.
//
// Only reading interactions join (dispatch.ts): a write's row locks and version checks must not meet
// another request's work in the same transaction. A statement that fails aborts the shared transaction;
// then every member runs again alone (withTx), where the failing one meets its own error and the others
// succeed. Nothing of an aborted group was committed, so running again repeats no effect.
//
// A group takes its members while it waits for a connection slot (`groupSlots` groups at a time per
// kind); at low load a request finds a free slot and runs at once, alone, as it would under withTx.
// One slot is the default for reads: a group then gathers every request that arrives during the previous
// one's reads. Measured at 32 clients (audited Patient reads): 1 slot, 8.8–9.7 members per COMMIT and
// 195–227 µs of PostgreSQL CPU per read; 2 slots, 5.4–5.5 members and 274–281 µs, at no higher throughput.
// Searches take 2 (config.ts searchGroupSlots): a group's statements run one after another on its one
// connection, and heavier searches left the second core idle with one slot (×10 mix, 16 clients: 873–1,021
// req/s with 1, 1,074–1,150 with 2).
import type { PoolClient } from './pool.js';
import { runPipeline, type Step, type StepResult } from './pipeline.js';
import { translatePgError } from './pg-errors.js';
import { withTx, contextStep, assertRole, BEGIN, COMMIT, PLAN_CUSTOM, PLAN_GENERIC, type Db, type DbContext, type Tx } from './session.js';
import { mergeAuditAppends } from './audit.js';

/** Most members one transaction carries: bounds how long the slowest member can hold the others. */
const MAX_MEMBERS = 32;
/**
 * A group still reading after this long gives up its slot (it keeps its connection and finishes as before):
 * one slow statement, a count over millions of rows say, must not hold back every request of its kind.
 * Reads by id and typical searches finish their reads in 1–3 ms, 5–10 ms when the CPU is saturated: below
 * this, groups would split under load and pay more COMMITs.
 */
const SLOW_MS = 20;

/** Thrown into a member's statements once its group has failed: the member then runs again alone. */
class GroupAborted extends Error {
  constructor() {
    super('shared transaction aborted');
  }
}

interface Member {
  ctx: DbContext;
  deferred: Step[];
  settled: boolean;
  /** The member's context step and its values as one string: equal keys set equal settings. */
  context?: { step: Step; key: string };
}

/** A context step with its key: the statement's name (which fixes its text) and its values. */
function keyedContext(ctx: DbContext): { step: Step; key: string } {
  const step = contextStep(ctx);
  return { step, key: `${step.name}\u0000${(step.values ?? []).join('\u0000')}` };
}

const contextOf = (m: Member) => (m.context ??= keyedContext(m.ctx));

interface Item {
  member: Member;
  steps: Step[];
  /** Which of `steps` answers the caller. */
  own: number;
  at?: number;
  resolve(r: { rows: never[]; rowCount: number }): void;
  reject(e: unknown): void;
}

class Group {
  readonly members: Member[] = [];
  private queue: Item[] = [];
  private client?: PoolClient;
  private begun = false;
  private inFlight = false;
  private scheduled = false;
  private finished = false;
  /** The settings the connection's transaction holds now (the last context step sent), by key. */
  private lastContext?: string;
  aborted = false;
  readonly ready: Promise<PoolClient>;
  readonly done: Promise<void>;
  private start!: (c: PoolClient) => void;
  private fail!: (e: unknown) => void;
  private commit!: () => void;
  private rollback!: (e: unknown) => void;

  private slotHeld = true;
  private slowTimer?: NodeJS.Timeout;

  constructor(private readonly releaseSlot: () => void) {
    this.ready = new Promise<PoolClient>((res, rej) => ((this.start = res), (this.fail = rej)));
    this.done = new Promise<void>((res, rej) => ((this.commit = res), (this.rollback = rej)));
    this.ready.catch(() => {});
    this.done.catch(() => {});
  }

  /** Gives the slot back, once. */
  private release(): void {
    clearTimeout(this.slowTimer);
    if (!this.slotHeld) return;
    this.slotHeld = false;
    this.releaseSlot();
  }

  /** Called once a slot is free: from now on the group takes no members. */
  async connect(db: Db): Promise<void> {
    try {
      this.client = await db.pool.connect();
      this.slowTimer = setTimeout(() => this.release(), db.groupSlowMs ?? SLOW_MS);
      this.start(this.client);
    } catch (e) {
      this.finished = true;
      this.fail(e);
      this.release();
    }
  }

  submit(member: Member, steps: Step[], own: number): Promise<{ rows: never[]; rowCount: number }> {
    if (this.aborted) return Promise.reject(new GroupAborted());
    return new Promise((resolve, reject) => {
      this.queue.push({ member, steps, own, resolve, reject });
      this.schedule();
    });
  }

  settle(member: Member, ok: boolean): void {
    member.settled = true;
    if (!ok) member.deferred = [];
    this.schedule();
  }

  // After the microtasks of the answers just handed out: their follow-up statements then travel together.
  private schedule(): void {
    if (this.scheduled || this.finished) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.finished || !this.client) return;
    if (this.queue.length === 0) {
      if (this.members.every((m) => m.settled)) await this.end();
      return;
    }
    const items = this.queue.splice(0);
    const steps: Step[] = [];
    if (!this.begun) steps.push(BEGIN);
    for (const it of items) {
      // A member whose settings equal the ones in force needs no step of its own: set_config(…, true)
      // with the same values would leave the same state, and row-level security reads only that state.
      const c = contextOf(it.member);
      if (this.lastContext !== c.key) steps.push(c.step);
      this.lastContext = c.key;
      it.at = steps.length + it.own;
      steps.push(...it.steps);
    }
    this.begun = true;
    this.inFlight = true;
    try {
      const results: StepResult[] = await runPipeline(this.client, steps);
      this.inFlight = false;
      for (const it of items) it.resolve(results[it.at!] as { rows: never[]; rowCount: number });
      this.schedule();
    } catch {
      this.inFlight = false;
      this.aborted = true;
      for (const it of [...items, ...this.queue.splice(0)]) it.reject(new GroupAborted());
      await this.end();
    }
  }

  /** COMMIT with every member's deferred steps (their AuditEvents), or ROLLBACK after a failure. */
  private async end(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    // The slot frees as the COMMIT leaves: the next group reads while this one waits for its WAL flush.
    this.release();
    const client = this.client!;
    let broken = false;
    try {
      if (this.aborted) throw new GroupAborted();
      if (this.begun || this.members.some((m) => m.deferred.length)) {
        const steps: Step[] = this.begun ? [] : [BEGIN];
        for (const { ctx, deferred } of mergeAuditAppends(this.members.filter((m) => m.deferred.length))) {
          const { step, key } = keyedContext(ctx);
          if (this.lastContext !== key) steps.push(step);
          this.lastContext = key;
          steps.push(...deferred);
        }
        steps.push(COMMIT);
        await runPipeline(client, steps);
      }
      this.commit();
    } catch (e) {
      this.aborted = true;
      try {
        await client.query('rollback');
      } catch {
        broken = true;
      }
      this.rollback(e);
    } finally {
      client.release(broken);
    }
  }

  memberTx(member: Member, client: PoolClient): Tx {
    const run = (steps: Step[], own = 0) => this.submit(member, steps, own);
    return {
      client,
      ctx: member.ctx,
      beforeCommit: (step) => void member.deferred.push(step),
      // Direct use of the connection (COPY) cannot share it: such work runs alone.
      open: () => Promise.reject(new GroupAborted()),
      query: (text, values) => run([{ text, values }]),
      queryPrepared: (name, text, values) => run([{ name, text, values }]),
      queryCustomPlan: (text, values) => run([PLAN_CUSTOM, { text, values }, PLAN_GENERIC], 1),
    };
  }
}

/** The groups of one kind of request on one database: at most `slots` of them hold a connection. */
class Committer {
  private busy = 0;
  private forming?: Group;
  private readonly waiting: Group[] = [];

  constructor(private readonly db: Db, private readonly slots: number) {}

  join(ctx: DbContext): { group: Group; member: Member } {
    let group = this.forming;
    if (!group || group.members.length >= MAX_MEMBERS) {
      group = new Group(() => {
        this.busy--;
        this.pump();
      });
      this.forming = group;
      this.waiting.push(group);
    }
    const member: Member = { ctx, deferred: [], settled: false };
    group.members.push(member);
    this.pump();
    return { group, member };
  }

  private pump(): void {
    while (this.busy < this.slots && this.waiting.length) {
      const g = this.waiting.shift()!;
      if (this.forming === g) this.forming = undefined;
      this.busy++;
      void g.connect(this.db);
    }
  }
}

const committers = new WeakMap<Db, Map<string, Committer>>();

function committerOf(db: Db, kind: string, slots: number): Committer {
  let byKind = committers.get(db);
  if (!byKind) committers.set(db, (byKind = new Map()));
  let c = byKind.get(kind);
  if (!c) byKind.set(kind, (c = new Committer(db, slots)));
  return c;
}

/**
 * Runs `fn` as withTx would, inside a transaction shared with concurrent requests of the same `kind`
 * (db.kindSlots[kind] or db.groupSlots groups at a time; no kind, or 0 or unset slots: withTx). `fn` must only read; its deferred steps
 * (tx.beforeCommit: the AuditEvent) commit with the group, and its result is returned only after that.
 */
export async function withGroupTx<T>(db: Db, ctx: DbContext, kind: string | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const slots = (kind !== undefined ? db.kindSlots?.[kind] : undefined) ?? db.groupSlots ?? 0;
  if (!kind || slots <= 0) return withTx(db, ctx, fn);
  assertRole(ctx);
  const { group, member } = committerOf(db, kind, slots).join(ctx);
  let client: PoolClient;
  try {
    client = await group.ready;
  } catch (e) {
    throw translatePgError(e);
  }
  let result: T;
  try {
    result = await fn(group.memberTx(member, client));
  } catch (e) {
    group.settle(member, false);
    if (e instanceof GroupAborted || group.aborted) return withTx(db, ctx, fn);
    throw e;
  }
  group.settle(member, true);
  try {
    await group.done;
  } catch {
    return withTx(db, ctx, fn);
  }
  return result;
}
