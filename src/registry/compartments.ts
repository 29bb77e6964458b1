// Patient compartment membership (R4 compartmentdefinition-patient.html): for each resource type, the
// search parameters whose Patient references make a resource a member of that Patient's compartment.
import { loadCapabilityJson, once } from './load-json.js';

const patientCompartment = once(() => loadCapabilityJson<Record<string, string[]>>('search-parameters/compartment-patient.json'));

/** Parameter codes linking `resourceType` to the Patient compartment ([] when the type is not in it). */
export function patientCompartmentParams(resourceType: string): string[] {
  return patientCompartment()[resourceType] ?? [];
}

/** Resource types that can belong to a Patient compartment (Patient itself included). */
export function patientCompartmentTypes(): string[] {
  return Object.keys(patientCompartment());
}
