// The importer's database side: batches written by up to `writers` concurrent transactions (while the
// database works on one, Node serialises the next), each retried unit by unit when it fails, so one bad
// resource costs only itself. Order is kept where it matters: a batch that carries a resource an
// earlier, still running batch also carries with other content starts only once that batch is done, so
// the later content always becomes the later version. Repeats with the same content (Synthea's
// Organizations in every bundle) do not wait: whichever lands second is "unchanged".
import { withTx, type Db, type DbContext } from '../../store/session.js';
import { FhirError } from '../../errors.js';
import type { ImportProblem, PreparedItem, PreparedUnit } from './prepare.js';
import { RefusedItem, writeUnits, type WriteCounts } from './write.js';

export interface BatchWriter {
  /** Starts writing `units` once a writer is free (and ordering allows); resolves when it has started. */
  submit(units: PreparedUnit[]): Promise<void>;
  /** Resolves when every submitted batch is written; rethrows a fatal error of any of them. */
  drain(): Promise<void>;
}

/**
 * Errors a resource's content can cause (data, integrity, limits such as an index row too large): retried
 * alone and reported. Anything else (connection lost, privileges: 403) stops the import, since every
 * other resource would fail the same way.
 */
function isDataError(e: unknown): boolean {
  if (e instanceof FhirError) return e.status < 500 && e.status !== 401 && e.status !== 403;
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|54|P0001)/.test(code);
}

/** A concurrent writer got there first: unique violation, or a serialization failure or deadlock (409 transient). */
function isConflict(e: unknown): boolean {
  if (e instanceof FhirError) return e.status === 409;
  return (e as { code?: unknown })?.code === '23505';
}

const where = (u: PreparedUnit, item?: PreparedItem) => ({
  file: u.file,
  ...(item?.line ?? u.line ? { line: item?.line ?? u.line } : {}),
  ...(item?.entry !== undefined ? { entry: item.entry } : {}),
});

const keyOf = (i: PreparedItem) => `${i.type}/${i.id}`;
/** The prepared text without the instant stamped into it: equal for the same content prepared at different times. */
const sansStamp = (i: PreparedItem) => i.content.replace(`"versionId":"1","lastUpdated":"${i.lastUpdated}"`, '');

interface Running {
  done: Promise<void>;
  upserts: Map<string, PreparedItem>;
}

export function createBatchWriter(
  db: Db, ctx: DbContext, writers: number, counts: WriteCounts,
  report: (p: ImportProblem, resources: number) => void, onWritten: () => void,
): BatchWriter {
  const running = new Set<Running>();
  let fatal: unknown;

  async function write(units: PreparedUnit[], attempt = 0): Promise<void> {
    try {
      const c = await withTx(db, ctx, (tx) => writeUnits(tx, units));
      counts.created += c.created;
      counts.updated += c.updated;
      counts.unchanged += c.unchanged;
    } catch (e) {
      if (!isDataError(e)) throw e;
      if (e instanceof RefusedItem) return refused(units, e);
      if (units.length > 1) {
        for (const u of units) await write([u]);
        return;
      }
      const [u] = units;
      // Another transaction created one of these resources meanwhile (PostgreSQL raises the unique
      // violation once it committed) or a deadlock was broken: again, now that it is visible.
      if (isConflict(e) && attempt < 4) {
        await new Promise((r) => setTimeout(r, 20 << attempt));
        return write(units, attempt + 1);
      }
      const message = `not stored: ${(e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300)}`;
      if (u.atomic || u.items.length <= 1) return report({ ...where(u, u.atomic ? undefined : u.items[0]), message }, u.items.length);
      for (const item of u.items) await write([{ ...u, items: [item], matched: 0 }]);
    }
  }

  /**
   * An item the write path's rules refuse (a SearchParameter that does not fit): reported with its line or
   * entry, and the batch written again without it, or without its whole transaction Bundle (all or nothing).
   */
  async function refused(units: PreparedUnit[], e: RefusedItem): Promise<void> {
    const u = units.find((x) => x.items.includes(e.item));
    if (!u) throw e;
    const why = `not stored: ${e.message.split('\n')[0].slice(0, 300)}`;
    if (u.atomic) report({ ...where(u, e.item), message: `transaction Bundle rejected (${u.items.length} entries, none stored): ${why}` }, u.items.length);
    else report({ ...where(u, e.item), message: why }, 1);
    const rest = u.atomic ? units.filter((x) => x !== u) : units.map((x) => (x === u ? { ...x, items: x.items.filter((i) => i !== e.item) } : x));
    if (rest.some((x) => x.items.length)) await write(rest);
  }

  /** Running batches this one must follow: they carry one of its resources with other content. */
  function predecessors(upserts: Map<string, PreparedItem>): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const r of running) {
      for (const [key, item] of upserts) {
        const other = r.upserts.get(key);
        if (other && sansStamp(other) !== sansStamp(item)) {
          out.push(r.done);
          break;
        }
      }
    }
    return out;
  }

  const check = () => {
    if (fatal) throw fatal;
  };

  return {
    async submit(units) {
      if (units.length === 0) return;
      const upserts = new Map<string, PreparedItem>();
      for (const u of units) for (const i of u.items) if (i.mode === 'upsert') upserts.set(keyOf(i), i);
      for (;;) {
        check();
        const before = predecessors(upserts);
        if (running.size < writers && before.length === 0) break;
        await Promise.race(before.length ? before : [...running].map((r) => r.done));
      }
      const r: Running = { upserts, done: Promise.resolve() };
      r.done = write(units).then(onWritten, (e) => { fatal ??= e; }).finally(() => running.delete(r));
      running.add(r);
    },
    async drain() {
      while (running.size) await Promise.race([...running].map((r) => r.done));
      check();
    },
  };
}
