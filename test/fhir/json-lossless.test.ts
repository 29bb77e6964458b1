// Decimal precision through parse → change → stringify (R4 datatypes.html#decimal: "0.010 is regarded as
// different to 0.01, and the original precision should be preserved"): src/json/parse.ts, stringify.ts,
// lexemes.ts and the JSON Patch that keeps them (src/fhir/json-patch.ts). Pure: no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonTooDeep, parseJson } from '../../src/json/parse.js';
import { stringifyJson } from '../../src/json/stringify.js';
import { carryLexemes, hasLexemes } from '../../src/json/lexemes.js';
import { numbersPrintAsWritten } from '../../src/json/plain-numbers.js';
import { applyJsonPatch } from '../../src/fhir/json-patch.js';
import type { Operation } from 'fast-json-patch';
import { syntheaBundles } from '../helpers/synthea.js';

type Json = Record<string, any>;
const roundTrip = (text: string): string => stringifyJson(parseJson(text));

test('numbers keep their spelling: trailing zeros, exponents, -0, more digits than a double holds', () => {
  const text = '{"a":1.50,"b":0.010,"c":1e2,"d":-0.0,"e":1.0,"f":-0,"g":12345678901234567.890,"h":1E+2,"i":0.0000001,"j":123456789012345678}';
  assert.equal(roundTrip(text), text);
  const v = parseJson(text) as Json;
  // The values are ordinary numbers for every reader (validation, search indexing).
  assert.equal(v.a, 1.5);
  assert.equal(v.c, 100);
  assert.ok(Object.is(v.f, -0));
  assert.equal(typeof v.g, 'number');
  assert.equal(JSON.stringify(v), '{"a":1.5,"b":0.01,"c":100,"d":0,"e":1,"f":0,"g":12345678901234568,"h":100,"i":1e-7,"j":123456789012345680}');
});

test('numbers in arrays and nested objects, with whitespace and indentation', () => {
  const text = '{ "x" : [ 1.50 , 2, {"y": [0.010, 3.0]} ], "z": {"w": {"v": 7.10}} }';
  assert.equal(roundTrip(text), '{"x":[1.50,2,{"y":[0.010,3.0]}],"z":{"w":{"v":7.10}}}');
  assert.equal(stringifyJson(parseJson(text), 2), '{\n  "x": [\n    1.50,\n    2,\n    {\n      "y": [\n        0.010,\n        3.0\n      ]\n    }\n  ],\n  "z": {\n    "w": {\n      "v": 7.10\n    }\n  }\n}');
  assert.equal(roundTrip('[1.50,{"a":2.0}]'), '[1.50,{"a":2.0}]');
});

test('a number changed after parsing prints as JavaScript prints it; an unchanged one keeps its spelling', () => {
  const v = parseJson('{"a":1.50,"b":2.50,"c":[1.0,2.0]}') as Json;
  v.b = 2.6;
  v.c[1] = 3;
  assert.equal(stringifyJson(v), '{"a":1.50,"b":2.6,"c":[1.0,3]}');
  v.a = 1.5; // the same value: still the same number, so still its spelling
  assert.equal(stringifyJson(v), '{"a":1.50,"b":2.6,"c":[1.0,3]}');
});

test('copies made by spread and rest keep the lexemes, also of top-level members', () => {
  const v = parseJson('{"resourceType":"ChargeItem","id":"x","factorOverride":0.50,"meta":{"tag":[{"code":"a"}]},"q":{"value":1.50}}') as Json;
  const { id: _id, meta, ...rest } = v;
  const copy = { resourceType: v.resourceType, id: 'y', meta: { ...meta, versionId: '1' }, ...rest };
  assert.equal(stringifyJson(copy), '{"resourceType":"ChargeItem","id":"y","meta":{"tag":[{"code":"a"}],"versionId":"1"},"factorOverride":0.50,"q":{"value":1.50}}');
  assert.equal(stringifyJson({ ...v, id: 'z' }), '{"resourceType":"ChargeItem","id":"z","factorOverride":0.50,"meta":{"tag":[{"code":"a"}]},"q":{"value":1.50}}');
  // A wrapper built around a marked child is not itself marked: callers share the record (summary.ts).
  assert.equal(hasLexemes({ wrapped: v }), false);
});

test('plain numbers take the fast path and leave no marks; tricky strings do not fool the proof', () => {
  for (const text of ['{"a":1.5,"b":2,"c":[1,2.25],"d":{"e":-12.75,"f":0.30000000000000004,"g":63.67971012637589}}', '{"s":"urn:uuid:6e8ba06d-8f7a","t":"x: 1.50, y","n":1}']) {
    const v = parseJson(text);
    assert.equal(numbersPrintAsWritten(text, JSON.parse(text)), 'plain', text);
    assert.equal(hasLexemes(v), false, text);
    assert.equal(stringifyJson(v), JSON.stringify(JSON.parse(text)));
  }
  // The same spelling inside a string (escaped quotes) does not prove the member's: 1e2 and 5e-1 are seen.
  const tricky = '{"s":"\\"a\\": 100, \\"b\\": 0.5,","a":1e2,"b":5e-1}';
  assert.equal(numbersPrintAsWritten(tricky, JSON.parse(tricky)), 'not-plain');
  assert.equal(roundTrip(tricky), tricky);
  // A plain twin elsewhere under the same key does not stand in for the other spelling, in either order.
  for (const twins of ['{"a":{"value":1e2},"b":{"value":100}}', '{"a":{"value":100},"b":{"value":1e2}}', '{"a":{"v":0.5},"b":{"v":5e-1}}', '{"x":[1,2],"y":{"x":[1,2.0]}}']) {
    assert.equal(numbersPrintAsWritten(twins, JSON.parse(twins)), 'not-plain', twins);
    assert.equal(roundTrip(twins), twins);
  }
  // Decimals between integers of the same key, as in a Claim's items, stay on the fast path.
  const mixed = '{"item":[{"sequence":1,"net":{"value":140.52}},{"sequence":2,"net":{"value":0}}],"total":{"value":265.52}}';
  assert.equal(numbersPrintAsWritten(mixed, JSON.parse(mixed)), 'plain');
});

test('Synthea bundles (17-digit decimals, integer arrays, ids full of digits) stay on the fast path', () => {
  for (const text of syntheaBundles(5)) {
    assert.equal(numbersPrintAsWritten(text, JSON.parse(text), 256), 'plain');
    assert.equal(hasLexemes(parseJson(text)), false);
  }
});

test('JSON.parse behaviour is kept: its errors, the last of repeated keys, __proto__ as an own key', () => {
  for (const bad of ['{"a":1.50,}', '{"a":01}', '{"a":1.}', '']) {
    let native = '';
    try { JSON.parse(bad); } catch (e) { native = (e as Error).message; }
    assert.throws(() => parseJson(bad), (e: Error) => e instanceof SyntaxError && e.message === native, bad);
  }
  assert.equal(roundTrip('{"a":1,"a":1.50}'), '{"a":1.50}');
  const p = parseJson('{"__proto__":{"x":1.50}}') as Json;
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.equal(stringifyJson(p), '{"__proto__":{"x":1.50}}');
  assert.equal(parseJson('1.50'), 1.5); // a bare number has nowhere to keep its text
});

test('maxDepth refuses deeper nesting on both paths', () => {
  const deep = (inner: string) => `${'{"a":'.repeat(300)}${inner}${'}'.repeat(300)}`;
  assert.throws(() => parseJson(deep('1'), { maxDepth: 256 }), JsonTooDeep);
  assert.throws(() => parseJson(deep('1.50'), { maxDepth: 256 }), JsonTooDeep);
  assert.throws(() => parseJson(`[1.50,${'['.repeat(300)}${']'.repeat(300)}]`, { maxDepth: 256 }), JsonTooDeep);
  assert.equal(stringifyJson(parseJson(deep('1.50'), { maxDepth: 301 })), deep('1.50'));
});

test('no string value can pose as a kept lexeme when written back', () => {
  const v = parseJson('{"a":1.50,"s":"\\u00001.5","t":["\\u00002.0"]}') as Json;
  assert.equal(stringifyJson(v), '{"a":1.50,"s":"\\u00001.5","t":["\\u00002.0"]}');
});

test('carryLexemes: a member-by-member copy gets the lexemes where the same path holds the same number', () => {
  const from = parseJson('{"a":1.50,"b":{"c":0.010,"d":2.0},"e":[1.0,2.0],"f":[1.0,2.0]}') as Json;
  const to = { a: 1.5, b: { c: 0.01, d: 3 }, e: [1, 2], f: [2] };
  assert.equal(stringifyJson(carryLexemes(from, to)), '{"a":1.50,"b":{"c":0.010,"d":3},"e":[1.0,2.0],"f":[2]}');
});

const patch = (doc: string, ops: string): string => stringifyJson(applyJsonPatch(parseJson(doc), parseJson(ops) as Operation[]));

test('JSON Patch keeps untouched decimals and writes the patch body’s own spelling', () => {
  const doc = '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":1.50},"component":[{"v":0.010},{"v":2.0}]}';
  assert.equal(patch(doc, '[{"op":"replace","path":"/status","value":"final"}]'),
    '{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.50},"component":[{"v":0.010},{"v":2.0}]}');
  assert.equal(patch(doc, '[{"op":"replace","path":"/valueQuantity/value","value":2.50}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":2.50},"component":[{"v":0.010},{"v":2.0}]}');
  // The same value spelled otherwise: the patch's spelling wins.
  assert.equal(patch(doc, '[{"op":"replace","path":"/valueQuantity/value","value":1.5}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":1.5},"component":[{"v":0.010},{"v":2.0}]}');
  assert.equal(patch(doc, '[{"op":"add","path":"/component/0","value":{"v":9.90}}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":1.50},"component":[{"v":9.90},{"v":0.010},{"v":2.0}]}');
  assert.equal(patch(doc, '[{"op":"copy","from":"/valueQuantity","path":"/q2"},{"op":"replace","path":"/q2/value","value":3}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":1.50},"component":[{"v":0.010},{"v":2.0}],"q2":{"value":3}}');
  assert.equal(patch(doc, '[{"op":"move","from":"/valueQuantity/value","path":"/x"}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{},"component":[{"v":0.010},{"v":2.0}],"x":1.50}');
  assert.equal(patch(doc, '[{"op":"test","path":"/valueQuantity/value","value":1.5},{"op":"remove","path":"/component/0"}]'),
    '{"resourceType":"Observation","status":"preliminary","valueQuantity":{"value":1.50},"component":[{"v":2.0}]}');
});

test('JSON Patch on arrays of numbers: lexemes follow their elements when others are added or removed', () => {
  const doc = '{"a":[1.0,2.50,3.0]}';
  assert.equal(patch(doc, '[{"op":"add","path":"/a/1","value":7.70}]'), '{"a":[1.0,7.70,2.50,3.0]}');
  assert.equal(patch(doc, '[{"op":"remove","path":"/a/0"}]'), '{"a":[2.50,3.0]}');
  assert.equal(patch(doc, '[{"op":"add","path":"/a/-","value":4.0}]'), '{"a":[1.0,2.50,3.0,4.0]}');
  assert.equal(patch(doc, '[{"op":"move","from":"/a/0","path":"/a/2"}]'), '{"a":[2.50,3.0,1.0]}');
  assert.equal(patch(doc, '[{"op":"copy","from":"/a/1","path":"/a/0"}]'), '{"a":[2.50,1.0,2.50,3.0]}');
});
