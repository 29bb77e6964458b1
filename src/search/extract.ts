// PLACEHOLDER (replaced by the search work): write-time index extraction.
import type { Resource } from 'fhir/r4';
export interface ExtractedIndex { compartments: string[] }
export function extractIndex(resource: Resource): ExtractedIndex {
  return { compartments: resource.resourceType === 'Patient' && resource.id ? [`Patient/${resource.id}`] : [] };
}
