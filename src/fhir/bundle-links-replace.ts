// The links of a transaction that are not references (R4 http.html#trules): "Servers SHALL replace all
// matching links in the bundle, whether they are found in the resource ids, resource references, elements
// of type uri, url, oid, uuid, and <a href=""> & <img src=""> in the narrative." References are rewritten
// with the rest of their rules in bundle.ts; this walk covers the other strings, in place (the Bundle is
// the request's own).

const NARRATIVE_LINK = /(<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*)(["'])([^"']*)\2/gi;

/** Replaces every string equal to a key of `idMap` (a fullUrl) and every narrative link to one. */
export function replaceLinksInPlace(resource: object, idMap: ReadonlyMap<string, string>): void {
  if (idMap.size === 0) return;
  const walk = (node: Record<string, unknown> | unknown[]): void => {
    const keys = Array.isArray(node) ? node.keys() : Object.keys(node);
    for (const k of keys) {
      const v = (node as Record<string | number, unknown>)[k as string];
      if (typeof v === 'string') {
        const mapped = idMap.get(v);
        if (mapped !== undefined) (node as Record<string | number, unknown>)[k as string] = mapped;
        else if (k === 'div' && v.includes('<')) {
          (node as Record<string, unknown>)[k] = v.replace(NARRATIVE_LINK, (all, head: string, q: string, url: string) => {
            const to = idMap.get(url);
            return to === undefined ? all : `${head}${q}${to}${q}`;
          });
        }
      } else if (v !== null && typeof v === 'object') walk(v as Record<string, unknown>);
    }
  };
  walk(resource as Record<string, unknown>);
}
