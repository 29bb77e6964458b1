// Write-time index extraction: evaluates every search parameter of the resource's type (extract-rows.ts) and
// turns the values into index rows (tables in migrations/010_search_index.sql), plus the resource's Patient
// compartment membership (R4 compartmentdefinition-patient.html) and the rows of its contained resources
// (R4 search.html#contained, extract-contained.ts). Synchronous and pure: no IO, no config.
import type { Resource } from 'fhir/r4';
import { searchParamsOf, type SearchParam } from '../registry/search-params.js';
import { patientCompartmentParams } from '../registry/compartments.js';
import { startResource } from './path.js';
import { Builder, emptyRows, extractParam, isIndexed, prepare, type Prepared, type RowSet } from './extract-rows.js';
import { extractContained, type ContainedIndex } from './extract-contained.js';

export type { TokenRow, StringRow, ReferenceRow, DateRow, NumberRow, CompositeRow, RowSet } from './extract-rows.js';
export type { ContainedIndex } from './extract-contained.js';

export interface ExtractedIndex extends RowSet {
  compartments: string[];
  /** Rows of the resource's contained resources (absent when it has none). */
  contained?: ContainedIndex[];
  /** The source, so the store can add a tenant's custom parameters (known only per tenant) at write time. */
  resource: Resource;
}

export function emptyIndex(resource: Resource): ExtractedIndex {
  return { compartments: [], ...emptyRows(), resource };
}

/** Rows for extra parameters (a tenant's custom ones) appended to an extracted index. */
export function extractMore(index: ExtractedIndex, params: SearchParam[]): void {
  startResource(index.resource);
  const b = new Builder(index);
  for (const sp of params) extractParam(b, sp, index.resource);
}

/** Per type: the indexed parameters, and whether each links to the Patient compartment. */
const plans = new Map<string, Array<{ sp: SearchParam; pr: Prepared; compartment: boolean }>>();
function planOf(type: string): Array<{ sp: SearchParam; pr: Prepared; compartment: boolean }> {
  let plan = plans.get(type);
  if (!plan) {
    const codes = type === 'Patient' ? [] : patientCompartmentParams(type);
    plan = searchParamsOf(type).filter(isIndexed).map((sp) => ({ sp, pr: prepare(sp), compartment: codes.includes(sp.code) }));
    plans.set(type, plan);
  }
  return plan;
}

export function extractIndex(resource: Resource): ExtractedIndex {
  startResource(resource);
  const out = emptyIndex(resource);
  const b = new Builder(out);
  const type = resource.resourceType;
  const patients = new Set<string>();
  for (const { sp, pr, compartment } of planOf(type)) {
    const refs = extractParam(b, sp, resource, pr);
    if (compartment) for (const id of refs) patients.add(id);
  }
  // A Patient is in its own compartment only (linked patients are not granted each other's data).
  if (type === 'Patient' && resource.id) patients.add(resource.id);
  out.compartments = [...patients].map((id) => `Patient/${id}`);
  const contained = extractContained(resource);
  if (contained) out.contained = contained;
  return out;
}
