// The fast verification path must hash exactly what audit.hash_line() hashes (migrations 032/033): the
// line TupleHasher assembles from a binary COPY tuple equals the text form used for archive files, for
// negative and large numbers, multibyte UTF-8 and the 032 timestamp form; and the COPY reader gives
// each tuple once however the bytes are split into messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CopyOut, F, PG_EPOCH_US, type TupleSink } from '../../src/store/audit-copy.js';
import { TupleHasher, chainHash, hashLine, legacyRecorded, toBin, toHex } from '../../src/audit/chain-hash.js';
import type { ChainRow } from '../../src/store/audit-copy.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function int64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

/** One tuple in COPY binary form, columns in audit-copy.ts order. */
function tuple(r: ChainRow): Buffer {
  const us = BigInt(r.recorded) - BigInt(PG_EPOCH_US);
  const fields = [int16(r.stripe), int64(BigInt(r.pos)), int64(us), int16(Number(r.outcome)), ...[r.id, r.type, r.subtype, r.action, r.agent, r.patient, r.entity, r.content]
    .map((s) => Buffer.from(s, 'utf8')), Buffer.from(r.prevHash, 'hex'), Buffer.from(r.hash, 'hex')];
  const parts = [int16(fields.length)];
  for (const f of fields) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(f.length);
    parts.push(len, f);
  }
  return Buffer.concat(parts);
}

const ROWS: ChainRow[] = [
  { stripe: 3, pos: 1, id: 'a1', recorded: '1763800000123456', type: 'rest', subtype: 'read', action: 'R', outcome: '0', agent: 'Practitioner/x', patient: 'Patient/p', entity: 'Observation/o', prevHash: '00'.repeat(32), hash: 'ab'.repeat(32), content: '{"resourceType":"AuditEvent","x":"' + 'é✓'.repeat(50) + '"}' },
  { stripe: 0, pos: 9_007_199_254, id: 'ünï-çødé', recorded: '946684800000000', type: '110114', subtype: '', action: 'E', outcome: '12', agent: '', patient: '', entity: '', prevHash: 'cd'.repeat(32), hash: 'ef'.repeat(32), content: 'y'.repeat(70_000) },
  { stripe: -1, pos: -5, id: 'neg', recorded: '-1000001', type: 't', subtype: 's', action: 'D', outcome: '4', agent: 'a'.repeat(300), patient: 'Patient/q', entity: 'x', prevHash: '11'.repeat(32), hash: '22'.repeat(32), content: '' },
];

function offsets(buf: Buffer): Int32Array {
  const s = new Int32Array(14);
  let p = 2;
  for (let f = 0; f < 14; f++) {
    s[f] = p + 4;
    p += 4 + buf.readInt32BE(p);
  }
  return s;
}

test('the line hashed from a COPY tuple is the text line of the archive form, current and 032', () => {
  const h = new TupleHasher('tenant-ä');
  for (const r of ROWS) {
    const buf = tuple(r);
    const s = offsets(buf);
    const prev = toBin(r.prevHash);
    assert.equal(toHex(h.compute(buf, s)), toHex(chainHash(prev, hashLine('tenant-ä', r))), `row ${r.id}`);
    const legacy = { ...r, recorded: legacyRecorded(Number(r.recorded)) };
    assert.equal(toHex(h.legacy()), toHex(chainHash(prev, hashLine('tenant-ä', legacy))));
    assert.equal(h.id(), Buffer.from(r.id, 'utf8').toString('binary'));
    assert.ok(h.prevIs(prev) && !h.prevIs(toBin(r.hash)));
    assert.ok(h.hashIs(toBin(r.hash)) && !h.hashIs(prev));
    assert.equal(buf.readInt16BE(s[F.stripe]), r.stripe);
  }
  // The chain hash is SHA-256 over prev_hash bytes then the UTF-8 line (migrations/032 audit.append).
  const r = ROWS[0];
  const line = Buffer.concat([Buffer.from(r.prevHash, 'hex'), Buffer.from(hashLine('t', r), 'utf8')]);
  assert.equal(toHex(chainHash(toBin(r.prevHash), hashLine('t', r))), createHash('sha256').update(line).digest('hex'));
  assert.equal(legacyRecorded(1763800000123456), '2025-11-22T08:26:40.123456Z');
});

test('the COPY reader yields every tuple once, whatever the message boundaries', async () => {
  const header = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
  const stream = Buffer.concat([header, ...ROWS.map(tuple), int16(-1)]);
  for (const cuts of [[], [5], [19, 40], [3, 100, 101, 70_050], Array.from({ length: 200 }, (_, i) => i * 397 + 1)]) {
    const seen: string[] = [];
    const sink: TupleSink = (buf, s) => {
      seen.push(buf.toString('utf8', s[F.id], s[F.id] + buf.readInt32BE(s[F.id] - 4)));
    };
    const copy = new CopyOut('unused', sink);
    const bounds = [0, ...cuts.filter((c) => c < stream.length), stream.length];
    for (let i = 1; i < bounds.length; i++) copy.handleCopyData({ chunk: Buffer.from(stream.subarray(bounds[i - 1], bounds[i])) });
    copy.handleReadyForQuery();
    assert.equal(await copy.done, ROWS.length, `cuts ${cuts.slice(0, 5)}`);
    assert.deepEqual(seen, ROWS.map((r) => r.id));
  }
  // A stream that stops inside a tuple is an error, not a shorter chain.
  const cut = new CopyOut('unused', () => {});
  cut.handleCopyData({ chunk: stream.subarray(0, 60) });
  cut.handleReadyForQuery();
  await assert.rejects(cut.done, /inside a tuple/);
});
