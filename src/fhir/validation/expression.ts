// Issue locations as FHIRPath-like expressions (OperationOutcome.issue.expression, R4 operationoutcome.html):
// `Patient.name[0].given[1]`. The `_x` object of a primitive is reported at the primitive (`Patient.birthDate`).

/** Appends a JSON pointer (`/name/0/_given/1`) to a base expression. */
export function expressionOf(base: string, pointer: string): string {
  if (!pointer) return base;
  let out = base;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.includes('~') ? raw.replace(/~1/g, '/').replace(/~0/g, '~') : raw;
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += `.${seg.startsWith('_') ? seg.slice(1) : seg}`;
  }
  return out;
}
