// The CPU half of import, pure apart from reading the task's file: parse, plan ids (plan.ts), rewrite
// references (references.ts), validate, stamp meta, extract the search index and serialise, exactly as
// the REST write path does (src/fhir/resource-write.ts), so imported and REST-created resources are
// stored alike; also the de-identified copy of each (src/deid/copy.ts), and the staging row the bulk writer
// copies in (store/stage-text.ts). Runs in worker threads (worker.ts) or inline; everything in and out is
// cloneable, and mostly strings (cheap to clone).
import { stamp } from '../meta.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Resource } from 'fhir/r4';
import { validateResource } from '../validation/validate.js';
import { extractIndex } from '../../search/extract.js';
import { indexFields, stageLine } from '../../store/stage-text.js';
import { planValue, type Plan, type Resolution, type WriteMode } from './plan.js';
import { collectReferences, rewriteSlots, unresolvedConditionals, type RefSlot } from './references.js';
import { locateJsonError } from './json-error.js';
import { deidRowOf } from '../../deid/copy.js';
import type { DeidSettings } from '../../deid/settings.js';
import type { DeidRow } from '../../store/deid.js';
import { parseJson } from '../../json/parse.js';
import { stringifyJson } from '../../json/stringify.js';

export interface ImportTask {
  seq: number;
  file: string;
  gzip: boolean;
  /** Bytes of a whole JSON file (decides where it is prepared: pool.ts). */
  size?: number;
  /** NDJSON chunk: its lines, the first being line `firstLine` of the file. Absent: a whole JSON file. */
  lines?: string[];
  firstLine?: number;
  keepIds: boolean;
  base: string;
  /** The tenant written to: de-identified pseudonyms are keyed per tenant. */
  tenant: string;
  /** De-identification settings (src/deid/settings.ts), the key as base64: workers make the copies. */
  deid: { mode: DeidSettings['mode']; key: string; keyId: string; k: number };
  /** Answers to conditional criteria (`Type?query` → ids), once the importer has looked them up. */
  resolved: Array<[string, Resolution]>;
  /** meta.lastUpdated of everything this task writes (one instant per Bundle, as a REST transaction). */
  now: string;
}

export interface PreparedItem {
  type: string;
  id: string;
  mode: WriteMode;
  lastUpdated: string;
  /** The stored JSON text, version 1; a later version is re-stamped from it by the writer. */
  content: string;
  /** Patient compartments (`Patient/<id>`) from the index. */
  compartments: string[];
  /** Version 1 with its search index as one COPY row of the bulk writer's staging table (store/stage-text.ts). */
  stage: string;
  /** The de-identified copy of version 1 (absent for types never copied), its index without the source object. */
  deid?: DeidRow;
  line?: number;
  entry?: number;
}

export interface PreparedUnit {
  file: string;
  /** A transaction Bundle: stored whole or not at all. */
  atomic: boolean;
  line?: number;
  items: PreparedItem[];
  /** ifNoneExist entries that matched: counted as imported, nothing written. */
  matched: number;
}

export interface ImportProblem {
  file: string;
  line?: number;
  entry?: number;
  message: string;
}

export interface TaskResult {
  seq: number;
  units: PreparedUnit[];
  problems: ImportProblem[];
  /** Criteria to look up before the task can be prepared; when set, nothing else was done. */
  needs: string[];
  /** Resources (entries or lines) the task rejected. */
  rejected: number;
}

let settings: DeidSettings | undefined;
/** The task's de-identification settings, decoded once per key. */
function settingsOf(task: ImportTask): DeidSettings {
  if (settings?.keyId !== task.deid.keyId || settings.mode !== task.deid.mode) settings = { ...task.deid, key: Buffer.from(task.deid.key, 'base64') };
  return settings;
}

function firstIssue(resource: unknown, mode: WriteMode): string | undefined {
  const issues = validateResource(resource, { mode: mode === 'create' ? 'create' : 'update' });
  const bad = issues.find((i) => i.severity === 'error' || i.severity === 'fatal');
  if (!bad) return undefined;
  return `${bad.expression?.[0] ? `${bad.expression[0]}: ` : ''}${bad.diagnostics ?? bad.code}`.slice(0, 300);
}

interface Source {
  file: string;
  line?: number;
}

/** Prepares one parsed value; appends its unit and problems. Returns the criteria still needed, if any. */
function prepareValue(value: unknown, src: Source, task: ImportTask, resolved: Map<string, Resolution>, out: TaskResult, keepIds: boolean): void {
  const plan: Plan = planValue(value, { keepIds, base: task.base, resolved });
  const slots: RefSlot[][] = plan.entries.map((e) => collectReferences(e.resource, []));
  const needs = [...plan.needs, ...unresolvedConditionals(slots.flat(), resolved)];
  if (needs.length) {
    for (const n of needs) if (!out.needs.includes(n)) out.needs.push(n);
    return;
  }
  const where = (entry: number | undefined) => ({ file: src.file, ...(src.line ? { line: src.line } : {}), ...(entry !== undefined && entry >= 0 ? { entry } : {}) });
  const problems: ImportProblem[] = plan.problems.map((p) => ({ ...where(p.entry), message: p.message }));
  const items: PreparedItem[] = [];
  let matched = 0;
  plan.entries.forEach((e, k) => {
    const bad = rewriteSlots(slots[k], plan.idMap, task.base, resolved) ?? (e.existing ? undefined : firstIssue(e.resource, e.mode));
    if (bad) return void problems.push({ ...where(e.entry), message: bad });
    if (e.existing) return void matched++;
    const stamped = stamp(e.resource as unknown as Resource, e.id, 1, task.now);
    const index = extractIndex(stamped);
    const content = stringifyJson(stamped); // decimals as written, like the REST path (resource-write.ts)
    const v = { type: e.type, id: e.id, version: 1, lastUpdated: task.now, compartments: index.compartments, content };
    const deid = deidRowOf(task.tenant, stamped, 1, index.compartments, settingsOf(task));
    if (deid) delete (deid.index as { resource?: unknown }).resource; // not needed to write it; costly to clone
    items.push({ type: e.type, id: e.id, mode: e.mode, lastUpdated: task.now, content, compartments: index.compartments, stage: stageLine(v, indexFields(index)),
      ...(deid ? { deid } : {}), ...(src.line ? { line: src.line } : {}), ...(e.entry >= 0 ? { entry: e.entry } : {}) });
  });
  const total = plan.entries.length + plan.problems.length;
  if (plan.atomic && problems.length) {
    const p = problems.sort((a, b) => (a.entry ?? 0) - (b.entry ?? 0))[0];
    out.problems.push({ ...p, message: `transaction Bundle rejected (${total} entries, none stored): ${p.message}` });
    out.rejected += total;
    return;
  }
  out.problems.push(...problems);
  out.rejected += problems.length;
  if (items.length || matched) out.units.push({ file: src.file, atomic: plan.atomic, ...(src.line ? { line: src.line } : {}), items, matched });
}

function parse(text: string, file: string, firstLine: number, out: TaskResult): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJson(text) }; // decimals keep their lexemes (src/json/parse.ts)
  } catch {
    const at = locateJsonError(text, firstLine);
    out.problems.push({ file, line: at.line, message: `malformed JSON at line ${at.line} column ${at.column}: ${at.message}` });
    out.rejected++;
    return { ok: false };
  }
}

/** Merges consecutive non-atomic units of an NDJSON chunk, so one chunk is one write unit. */
function mergeLines(units: PreparedUnit[]): PreparedUnit[] {
  const out: PreparedUnit[] = [];
  for (const u of units) {
    const last = out.at(-1);
    if (last && !last.atomic && !u.atomic && u.line !== undefined) {
      last.items.push(...u.items);
      last.matched += u.matched;
    } else out.push(u.atomic ? u : { ...u, items: [...u.items] });
  }
  return out;
}

export function prepareTask(task: ImportTask): TaskResult {
  const out: TaskResult = { seq: task.seq, units: [], problems: [], needs: [], rejected: 0 };
  const resolved = new Map(task.resolved);
  if (task.lines) {
    // NDJSON (Bulk Data export format): every line a resource that keeps its id.
    const first = task.firstLine ?? 1;
    task.lines.forEach((text, k) => {
      if (!text.trim()) return;
      const parsed = parse(text, task.file, first + k, out);
      if (parsed.ok) prepareValue(parsed.value, { file: task.file, line: first + k }, task, resolved, out, true);
    });
    out.units = mergeLines(out.units);
  } else {
    let text: string;
    try {
      const buf = readFileSync(task.file);
      text = (task.gzip ? gunzipSync(buf) : buf).toString('utf8');
    } catch (e) {
      out.problems.push({ file: task.file, message: `cannot read: ${(e as Error).message.split('\n')[0]}` });
      return out;
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is not JSON
    const parsed = parse(text, task.file, 1, out);
    if (parsed.ok) prepareValue(parsed.value, { file: task.file }, task, resolved, out, task.keepIds);
  }
  if (out.needs.length) return { seq: task.seq, units: [], problems: [], needs: out.needs, rejected: 0 };
  return out;
}
