// AuditEvent.outcomeDesc of a refused or failed REST access, without the values the request carried.
// IHE BALP keeps an AuditEvent minimal (ITI.BasicAudit 1:52.4.1.3.1: identifiers, the search parameters,
// "never the results"; less "exposure of privacy and security information"), and this server keeps the
// query's values only in the base64 entity[query].query (request.ts). Error messages echo the offending
// value, single-quoted by this server's convention ("parameter birthdate: '<value>' is not a date", "the
// body's id '<value>' does not match …"), and a transaction entry's failure names its URL with any
// conditional criteria ("entry 0 (PUT Patient?identifier=…)"): a name, a birth date, an MRN, read from the
// query or from the body, which nothing else in the event holds. Those are cut; the text around them, which
// says what went wrong, stays. Runs only for failures.

/** A quoted value: opened after a non-word character, closed before one (so "token's" is no quote). */
const QUOTED = /(^|[^\p{L}\p{N}_'])'[^'\n]*'(?=$|[^\p{L}\p{N}_'])/gu;
/** A URL's query string: from `?` to the next space or closing bracket. */
const QUERY = /\?[^\s)\]]+/g;

export const REDACTED = '…';

/** `<status> <message>`, with quoted values and query strings cut, at most 500 characters. */
export function failureDescription(status: number, message: string | undefined): string {
  const text = (message ?? '').replace(QUOTED, `$1'${REDACTED}'`).replace(QUERY, `?${REDACTED}`);
  return `${status} ${text}`.trim().slice(0, 500);
}
