// GET [base]/OperationDefinition/fhirgate-… : the OperationDefinitions of the operations this server defines,
// so the canonical a CapabilityStatement declares resolves (R4 capabilitystatement.html: rest.resource.operation
// .definition is the canonical "Where the formal definition can be found"; operationdefinition.html: an
// OperationDefinition is referred to "From a Capability Statement, to declare what operations a system does
// … implement" and "From another OperationDefinition resource. This allows for a server to describe a limited
// implementation of a standard operation" — OperationDefinition.base). Built from capability/operations/*.json,
// the same data as GET /metadata, and only for the operations it declares.
//
// Reserved ids: a definition of this server has the id `fhirgate-<code>`, and its url is its own read URL
// ([base]/OperationDefinition/fhirgate-<code>). Those URLs belong to the server: reads answer this module's
// definition, never a stored resource, and writes to them are refused with 405 (routes.ts `owns`); a write
// that names such an id another way (a conditional update's body, a transaction entry, `fhirgate import`)
// is refused too, for every id with the prefix (reserved-ids.ts; resource-write.ts, import/plan.ts).
// Stored OperationDefinitions at any other id are read, searched and written as usual.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Services } from '../services.js';
import { declarableOperations, definitionUrl, type OperationData } from './metadata.js';
import { notFound } from '../../errors.js';
import { RESERVED_ID_PREFIX } from './reserved-ids.js';

type Json = Record<string, unknown>;


/** The reserved id of an operation this server defines (`OperationDefinition/fhirgate-…`), else undefined. */
export function ownDefinitionId(op: OperationData): string | undefined {
  const m = /^OperationDefinition\/([A-Za-z0-9\-.]{1,64})$/.exec(op.definition);
  if (!m) {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(op.definition)) throw new Error(`capability/operations/${op.name}.json: a relative definition must be OperationDefinition/${RESERVED_ID_PREFIX}…`);
    return undefined;
  }
  if (!m[1].startsWith(RESERVED_ID_PREFIX)) throw new Error(`capability/operations/${op.name}.json: the server's own definitions have ids starting '${RESERVED_ID_PREFIX}'`);
  if (!op.operationDefinition) throw new Error(`capability/operations/${op.name}.json: operationDefinition is missing for ${op.definition}`);
  return m[1];
}

/** The OperationDefinition (R4 operationdefinition.html) of one of this server's operations. */
export function operationDefinition(op: OperationData, fhirBase: string): Json {
  const id = ownDefinitionId(op);
  const od = op.operationDefinition;
  if (!id || !od) throw new Error(`${op.name} is not defined by this server`);
  return {
    resourceType: 'OperationDefinition',
    id,
    url: definitionUrl(op, fhirBase),
    name: od.name,
    ...(od.title ? { title: od.title } : {}),
    status: 'active',
    kind: 'operation',
    ...(op.documentation ? { description: op.documentation } : {}),
    affectsState: op.affectsState,
    code: op.name,
    ...(od.base ? { base: od.base } : {}),
    // `Resource`: any type (the R4 definitions of operations on every type, such as Resource-validate, say so).
    resource: op.resources === '*' ? ['Resource'] : op.resources,
    system: op.levels.includes('system'),
    type: op.levels.includes('type'),
    instance: op.levels.includes('instance'),
    parameter: structuredClone(od.parameter),
  };
}

/** The reserved ids served, for the operations declared (implemented and, when given, registered). */
export function servedDefinitionIds(registered?: Iterable<string>): string[] {
  return declarableOperations(registered).map(ownDefinitionId).filter((id): id is string => id !== undefined);
}

/** GET [base]/OperationDefinition/[reserved id]: public conformance data, like /metadata (no token scope needed). */
export async function readOwnDefinition(req: FhirRequest, svc: Services): Promise<FhirResponse> {
  const id = req.segments[1];
  const op = declarableOperations().find((o) => ownDefinitionId(o) === id);
  if (!op) throw notFound(`OperationDefinition/${id.slice(0, 64)} is not known`);
  return { status: 200, body: operationDefinition(op, svc.config.fhirBase) };
}
