// number and quantity bounds are exact decimals (R4 search.html#number: "[parameter]=100 … [99.5 ... 100.5)";
// #prefix: ap "10% of the stated value"): a stored value sitting exactly on a bound is decided by the bound,
// not by floating-point error in computing it (5.4 − 0.05 is 5.3500000000000005 in binary floating point).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';
import { parseDecimal } from '../../src/search/params/prefix.js';

let s: SearchDb;
const obs = (id: string, value: number): Resource => ({
  resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
  valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
} as Resource);
const risk = (id: string, p: number): Resource => ({ resourceType: 'RiskAssessment', id, status: 'final', subject: { reference: 'Patient/x' }, prediction: [{ probabilityDecimal: p }] } as Resource);

before(async () => {
  s = await startSearchDb();
  await s.load([obs('v5.35', 5.35), obs('v5.4', 5.4), obs('v5.45', 5.45), obs('v0.27', 0.27), obs('v0.33', 0.33), obs('v0.99', 0.99), obs('v1.21', 1.21),
    risk('r0.065', 0.065), risk('r0.07', 0.07), risk('r0.075', 0.075)]);
});
after(async () => { await s?.stop(); });

const ids = async (q: string): Promise<string[]> => ((await search(s, q)).entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();

test('the bounds are the exact decimals, read as the double nearest them', () => {
  const b = (t: string) => { const d = parseDecimal(t, 'x'); return [d.lo, d.hi, d.apLo, d.apHi]; };
  assert.deepEqual(b('5.4'), [5.35, 5.45, 4.86, 5.94]);
  assert.deepEqual(b('100'), [99.5, 100.5, 90, 110]);
  assert.deepEqual(b('100.00'), [99.995, 100.005, 90, 110]);
  assert.deepEqual(b('5.40e-3'), [0.005395, 0.005405, 0.00486, 0.00594]); // R4: "0.0054(+/-0.000005) g"
  assert.deepEqual(b('0.054e2'), [5.35, 5.45, 4.86, 5.94]); // leading zeros are not significant
  assert.deepEqual(b('-5.4'), [-5.45, -5.35, -5.94, -4.86]);
  assert.deepEqual(b('0.3').slice(2), [0.27, 0.33]);
});

test('eq takes a value on the lower bound of the precision range and leaves the upper one out; ne the reverse', async () => {
  assert.deepEqual(await ids('Observation?value-quantity=5.4'), ['v5.35', 'v5.4']);
  assert.deepEqual(await ids('Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L'), ['v5.35', 'v5.4']);
  assert.deepEqual(await ids('Observation?value-quantity=ne5.4&value-quantity=gt5'), ['v5.45']);
  assert.deepEqual(await ids('RiskAssessment?probability=0.07'), ['r0.065', 'r0.07']);
  assert.deepEqual(await ids('Observation?code-value-quantity=http://loinc.org|2823-3$5.4'), ['v5.35', 'v5.4']);
});

test('ap is ±10% of the stated value, both ends included', async () => {
  assert.deepEqual(await ids('Observation?value-quantity=ap0.3'), ['v0.27', 'v0.33']);
  assert.deepEqual(await ids('Observation?value-quantity=ap1.1'), ['v0.99', 'v1.21']);
});
