// JSON Patch (RFC 6902; R4 http.html#patch) on a stored resource parsed by parseJson, keeping decimals'
// precision as written (R4 datatypes.html#decimal; src/json/lexemes.ts): the document is patched in place,
// so members no operation touches keep their lexemes; a number an operation writes takes the lexeme it had
// in the patch body (add, replace) or at its source (copy, move); array members keep theirs when an add or
// remove shifts them. fast-json-patch applies and validates each operation, as before.
import jsonpatch from 'fast-json-patch';
import { cloneWithLexemes, isContainer, lexemeOf, recordOf, remark, setLexeme, setRecord, type LexemeRecord } from '../json/lexemes.js';

interface Slot {
  parent: object;
  key: string;
}

/** RFC 6901 reference tokens of a pointer ('' is the whole document: no slot). */
const tokens = (pointer: string): string[] => pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));

/**
 * The container and key a pointer names, or undefined (the root, or a path that does not resolve: the
 * operation then fails in fast-json-patch). '-' in an array is the index an add appends at; `appended`
 * says the element is already there (after the operation).
 */
function slotOf(doc: unknown, pointer: string, appended = false): Slot | undefined {
  const path = tokens(pointer);
  if (path.length === 0) return undefined;
  let node = doc;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isContainer(node)) return undefined;
    node = (node as Record<string, unknown>)[path[i]];
  }
  if (!isContainer(node)) return undefined;
  let key = path[path.length - 1];
  if (Array.isArray(node) && key === '-') key = String(node.length - (appended ? 1 : 0));
  return { parent: node, key };
}

const isIndex = (s: Slot): boolean => Array.isArray(s.parent) && /^(0|[1-9]\d*)$/.test(s.key);

/** After an element was inserted at (`delta` 1) or removed from (-1) index `at`, the kept lexemes follow their elements. */
function shift(arr: object, at: number, delta: 1 | -1): void {
  const rec = recordOf(arr);
  if (!rec) return;
  const next: LexemeRecord = Object.create(null);
  for (const k of Object.keys(rec)) {
    const i = Number(k);
    if (i < at) next[k] = rec[k];
    else if (delta === 1) next[String(i + 1)] = rec[k];
    else if (i > at) next[String(i - 1)] = rec[k];
  }
  setRecord(arr, next);
}

const inserted = (s: Slot | undefined): void => {
  if (s && isIndex(s)) shift(s.parent, Number(s.key), 1);
};

const removed = (s: Slot | undefined): void => {
  if (!s) return;
  if (isIndex(s)) shift(s.parent, Number(s.key), -1);
  else setLexeme(s.parent, s.key, undefined);
};

/** The lexeme of what now sits at `s`, when it is a number: `lexeme`, or none. */
const written = (s: Slot | undefined, lexeme: string | undefined): void => {
  if (s) setLexeme(s.parent, s.key, typeof (s.parent as Record<string, unknown>)[s.key] === 'number' ? lexeme : undefined);
};

/** Applies `ops` to `doc` (changed in place) and returns the patched document; throws fast-json-patch's errors. */
export function applyJsonPatch(doc: unknown, ops: readonly jsonpatch.Operation[]): unknown {
  let current = doc;
  ops.forEach((op, index) => {
    const target = slotOf(current, op.path);
    const from = op.op === 'move' || op.op === 'copy' ? slotOf(current, op.from) : undefined;
    const source = from ? (from.parent as Record<string, unknown>)[from.key] : undefined;
    const sourceLexeme = from ? lexemeOf(from.parent, from.key) : undefined;
    current = jsonpatch.applyOperation(current, op, true, true, true, index).newDocument;
    switch (op.op) {
      case 'add':
        inserted(target);
        written(target, lexemeOf(op, 'value'));
        break;
      case 'replace':
        written(target, lexemeOf(op, 'value'));
        break;
      case 'remove':
        removed(target);
        break;
      case 'copy':
        // fast-json-patch copies through JSON.stringify/parse, which drops lexemes: copy again, keeping them.
        if (target && isContainer(source)) (target.parent as Record<string, unknown>)[target.key] = cloneWithLexemes(source);
        inserted(target);
        written(target, sourceLexeme);
        break;
      case 'move': {
        // A remove at `from`, then an add at `path` in the document as it is after the remove (RFC 6902 §4.4).
        removed(from);
        const to = slotOf(current, op.path, true);
        inserted(to);
        written(to, sourceLexeme);
        break;
      }
    }
  });
  remark(current);
  return current;
}

/**
 * The top-level members of the document that `ops` write: every operation but `test` writes at its path,
 * and a move also removes at its source (RFC 6902 §4.4). '' stands for the whole document (a path of '').
 * The patch interaction uses it to tell a change of the data from a change of the narrative (http.html#patch).
 */
export function membersWritten(ops: readonly jsonpatch.Operation[]): Set<string> {
  const out = new Set<string>();
  for (const op of ops) {
    if (op.op === 'test' || op.op === '_get') continue;
    out.add(tokens(op.path)[0] ?? '');
    if (op.op === 'move') out.add(tokens(op.from)[0] ?? '');
  }
  return out;
}
