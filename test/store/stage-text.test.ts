// COPY text encodings of the bulk writer (src/store/stage-text.ts; PostgreSQL sql-copy "Text Format" and
// arrays.html "Array Value Input"): what a staging row must look like for PostgreSQL to read back exactly
// the values extracted. The database round trip itself is proved in test/cli/import-equivalence.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyText, copyTextArray, indexFields, INDEX_COLUMNS, stageLine } from '../../src/store/stage-text.js';
import { hash64, keyText } from '../../src/search/hash.js';
import type { ExtractedIndex } from '../../src/search/extract.js';

test('COPY text fields escape backslash, newline, carriage return and tab, nothing else', () => {
  assert.equal(copyText('plain "json" {}'), 'plain "json" {}');
  assert.equal(copyText('a\\b\nc\rd\te'), 'a\\\\b\\nc\\rd\\te');
});

test('text arrays quote every element, escape quotes and backslashes for the array, then for COPY', () => {
  assert.equal(copyTextArray([]), '{}');
  assert.equal(copyTextArray(['NULL', null, 'a,b}', '']), '{"NULL",NULL,"a,b}",""}');
  // Array input wants \" and \\; COPY then doubles every backslash.
  assert.equal(copyTextArray(['say "hi"', 'back\\slash', 'tab\there']), '{"say \\\\"hi\\\\"","back\\\\\\\\slash","tab\\there"}');
});

const empty = (): ExtractedIndex => ({ compartments: [], token: [], string: [], reference: [], date: [], number: [], composite: [], resource: { resourceType: 'Basic' } as never });

test('an index becomes one field per staging column, keys as signed 64-bit decimals', () => {
  const ix = empty();
  const keys = ['Observation.code', 'Observation.code|http://loinc.org|8480-6', 'x'].map(hash64);
  ix.token.push({ p: keys[0], h: keys[1], c: '8480-6' }, { p: keys[0], h: keys[2], c: null });
  ix.number.push({ p: keys[0], lo: 1.5, hi: 1e21, system: null, code: 'mm[Hg]', unit: 'mm"Hg' });
  const fields = indexFields(ix).split('\t');
  assert.equal(fields.length, INDEX_COLUMNS.length);
  assert.deepEqual(fields.slice(0, 3), [`{${keyText(keys[0])},${keyText(keys[0])}}`, `{${keyText(keys[1])},${keyText(keys[2])}}`, '{"8480-6",NULL}']);
  assert.deepEqual(fields.slice(12, 18), [`{${keyText(keys[0])}}`, '{1.5}', '{1e+21}', '{NULL}', '{"mm[Hg]"}', '{"mm\\\\"Hg"}']);
  assert.ok(fields.slice(3, 12).every((f) => f === '{}'));
  // Negative keys (the high half's sign) print as PostgreSQL reads int8.
  assert.equal(indexFields({ ...empty(), date: [{ p: [-1, -2], lo: 0, hi: 1 }] }).split('\t')[9], '{-2}');
});

test('a staging line: the version columns, then the index fields, one line', () => {
  const line = stageLine({ type: 'Patient', id: 'p1', version: 1, lastUpdated: '2020-01-02T03:04:05.678Z', compartments: ['Patient/p1'], content: '{"a":"b\\nc"}' }, 'IDX');
  assert.equal(line, 'Patient\tp1\t1\t2020-01-02T03:04:05.678Z\t{"Patient/p1"}\t{"a":"b\\\\nc"}\tIDX\n');
});
