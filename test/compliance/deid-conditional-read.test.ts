// Conditional read of the de-identified copy (R4 http.html#cread; RFC 9110 §13.1.2-§13.1.3), as for identified
// reads (src/fhir/conditional-read.ts): If-None-Match with a list of ETags or `*` answers 304. The copy has no
// modification date (Safe Harbor keeps the year alone; no Last-Modified is sent), so If-Modified-Since is
// ignored (§13.1.3) and the full content sent: a 304 against the exact time would reveal it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { keyIdOf } from '../../src/deid/settings.js';
import { startRoleServer, call, SYSTEM, DEID_KEY } from './helpers.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
let server: Server;
const researcher = { role: 'researcher' as const, scopes: ['user/*.rs'], userId: 'res-cr', clientId: 'study-app' };
const pseudo = (type: string, id: string) => new Pseudonyms(Buffer.from(DEID_KEY), keyIdOf(Buffer.from(DEID_KEY)), 'default').id(type, id);
let path: string;

before(async () => {
  server = await startRoleServer();
  const id = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', gender: 'female', birthDate: '1970-02-03' })).json.id;
  await call(server, SYSTEM, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, gender: 'other', birthDate: '1970-02-03' });
  path = `Patient/${pseudo('Patient', id)}`;
});
after(async () => server?.stop());

const get = (headers: Record<string, string>) => call(server, researcher, 'GET', path, undefined, headers);

test('If-None-Match: the current ETag, in a list or as *, answers 304; other tags the content', async () => {
  const plain = await get({});
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.headers.get('etag'), 'W/"2"');
  assert.equal(plain.headers.get('last-modified'), null, 'the copy sends no modification date');
  for (const inm of ['W/"2"', 'W/"1", W/"2"', 'W/"7",W/"2"', '*']) {
    const r = await get({ 'if-none-match': inm });
    assert.equal(r.status, 304, `If-None-Match: ${inm}`);
    assert.equal(r.headers.get('etag'), 'W/"2"');
    assert.equal(r.text, '');
  }
  for (const inm of ['W/"1"', 'W/"1", W/"3"']) assert.equal((await get({ 'if-none-match': inm })).status, 200, `If-None-Match: ${inm}`);
  assert.equal((await get({ 'if-none-match': 'not-an-etag' })).status, 400, 'a malformed tag is refused as on identified reads');
});

test('If-Modified-Since is ignored on the copy (no modification date), and yields to If-None-Match', async () => {
  const later = new Date(Date.now() + 86_400_000).toUTCString();
  const ims = await get({ 'if-modified-since': later });
  assert.equal(ims.status, 200);
  assert.equal(ims.json.id, path.split('/')[1]);
  assert.equal((await get({ 'if-modified-since': later, 'if-none-match': 'W/"1"' })).status, 200);
  assert.equal((await get({ 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT', 'if-none-match': '*' })).status, 304);
});
