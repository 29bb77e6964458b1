// The ids this server reserves for its own OperationDefinitions (operation-definitions.ts serves them at
// OperationDefinition/fhirgate-<code>). A leaf, imported by every write path (resource-write.ts for REST and
// transactions, import/plan.ts for `fhirgate import`) without the route table operation-definitions.ts needs.

/** The prefix of every id this server reserves for its own OperationDefinitions. */
export const RESERVED_ID_PREFIX = 'fhirgate-';

/**
 * True for `OperationDefinition/fhirgate-…`, served or not: a resource stored there would be hidden behind
 * the server's definition as soon as one is served at that id (a later version, an operation registered).
 */
export function isReservedId(type: string, id: string): boolean {
  return type === 'OperationDefinition' && id.startsWith(RESERVED_ID_PREFIX);
}

/** Why a write at a reserved id is refused, for the answer or the import problem. */
export function reservedIdMessage(id: string): string {
  return `OperationDefinition/${id.slice(0, 64)} is reserved for this server's own definitions (ids starting '${RESERVED_ID_PREFIX}'): store the OperationDefinition under another id`;
}
