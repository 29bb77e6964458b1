// What `fhirgate import` reads, at the edges of its input: an NDJSON file starting with a UTF-8 byte order
// mark, CRLF line ends and blank lines; a .ndjson.gz that is truncated or not gzip at all; a folder holding a
// broken link. Each problem is reported against its file (and line), and the rest of the import is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { useServerAndDir } from '../helpers/server.js';
import { run } from '../../src/cli/import.js';
import { ndjsonLines } from '../../src/fhir/import/ndjson-lines.js';

const fx = useServerAndDir('fhirgate-import-files-');
const deps = () => ({ db: fx.server.db, config: fx.server.config, tenant: 'default' });
type Problem = { file: string; line?: number; message: string };
const ids = async (prefix: string) =>
  (await fx.server.db.pool.query(`select id from fhir.resource where type = 'Patient' and id like $1 order by id`, [`${prefix}%`])).rows.map((r) => r.id as string);
const patients = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `${prefix}${i + 1}` }));

test('NDJSON with a byte order mark, CRLF line ends and blank lines: every resource stored, no problem', async () => {
  const path = join(fx.dir, 'bom.ndjson');
  const [a, b, c] = patients('bom-', 3);
  writeFileSync(path, `\uFEFF${a}\r\n\r\n${b}\r\n   \n${c}`);
  const r = await run(['--workers', '0', path], deps());
  assert.equal(r.problems, undefined, JSON.stringify(r.problems));
  assert.deepEqual(await ids('bom-'), ['bom-1', 'bom-2', 'bom-3']);
});

test('a truncated .ndjson.gz: the lines before the cut are stored, the cut is reported with its line, later files are imported', async () => {
  const full = gzipSync(patients('cut-', 400).join('\n') + '\n');
  const truncated = join(fx.dir, 'a-truncated.ndjson.gz');
  writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
  const notGzip = join(fx.dir, 'b-not-gzip.ndjson.gz');
  writeFileSync(notGzip, patients('plain-', 1)[0]);
  const after = join(fx.dir, 'c-after.ndjson.gz');
  writeFileSync(after, gzipSync(patients('after-gz-', 2).join('\n')));
  for (const workers of ['0', '1']) {
    const r = await run(['--workers', workers, truncated, notGzip, after], deps());
    const problems = r.problems as Problem[];
    assert.equal(problems.length, 2, JSON.stringify(problems));
    const stored = (await ids('cut-')).length;
    assert.ok(stored > 0 && stored < 400, `${stored} lines before the cut`);
    assert.equal(problems[0].file, truncated);
    assert.ok(problems[0].line! > stored, `line ${problems[0].line} follows the ${stored} stored lines`);
    assert.match(problems[0].message, /^cannot read from line \d+ on: unexpected end of file$/);
    assert.deepEqual([problems[1].file, problems[1].line, problems[1].message], [notGzip, undefined, 'cannot read: incorrect header check']);
    assert.deepEqual(await ids('after-gz-'), ['after-gz-1', 'after-gz-2']);
  }
});

test('a broken link in a folder is reported; the folder\'s other files are imported', async () => {
  const dir = join(fx.dir, 'linked');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  symlinkSync(join(fx.dir, 'gone.ndjson'), join(dir, 'a-gone.ndjson'));
  symlinkSync(join(fx.dir, 'gone.txt'), join(dir, 'ignored.txt')); // would not be imported: not reported
  writeFileSync(join(dir, 'sub', 'b.ndjson'), patients('linked-', 2).join('\n'));
  const r = await run(['--workers', '0', dir], deps());
  assert.deepEqual(r.problems, [{ file: join(dir, 'a-gone.ndjson'), message: 'cannot read: a broken link (ENOENT)' }]);
  assert.equal(r.files, 1);
  assert.deepEqual(await ids('linked-'), ['linked-1', 'linked-2']);
});

test('ndjsonLines: a read error under gunzip rejects the iteration (it was thrown uncaught, and the iteration hung)', async () => {
  await assert.rejects(async () => {
    for await (const line of ndjsonLines(fx.dir, true)) void line; // a folder: EISDIR on read
  }, /EISDIR/);
});
