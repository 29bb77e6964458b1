// Synthea transaction Bundles (test/helpers/synthea.ts) as a flat array of resources with ids, for
// loading into a search test database and an in-memory oracle alike: `urn:uuid:` references become
// `Type/id` (each entry's fullUrl mapped to its resource), resources without an id get a fresh,
// deterministic one, repeated Organizations/Practitioners (each Synthea bundle carries its own copy)
// are kept once, conditional references (`Organization?identifier=sys|val`) point at a stub resource
// added to the array, and references to anything else outside the bundles are dropped.
import type { Resource } from 'fhir/r4';

export function bundlesToResources(bundles: string[]): Resource[] {
  const out: Resource[] = [];
  const seen = new Set<string>();
  const byFullUrl = new Map<string, string>();
  let fresh = 0;
  for (const text of bundles) {
    const bundle = JSON.parse(text) as { entry?: Array<{ fullUrl?: string; resource?: Resource }> };
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (!r) continue;
      if (!r.id) r.id = `syn-${++fresh}`;
      const ref = `${r.resourceType}/${r.id}`;
      if (e.fullUrl) byFullUrl.set(e.fullUrl, ref);
      if (seen.has(ref)) continue;
      seen.add(ref);
      out.push(r);
    }
  }
  const stubs = new Map<string, Resource>();
  const fix = (x: unknown): void => {
    if (Array.isArray(x)) { x.forEach(fix); return; }
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (typeof o.reference === 'string') {
      const ref = o.reference;
      const cond = /^([A-Z][A-Za-z]+)\?(.*)$/.exec(ref);
      if (ref.startsWith('urn:')) {
        const to = byFullUrl.get(ref);
        if (to) o.reference = to; else drop(o);
      } else if (cond) {
        let stub = stubs.get(ref);
        if (!stub) {
          const ident = new URLSearchParams(cond[2]).get('identifier') ?? '';
          const [system, value] = ident.includes('|') ? ident.split('|') : [undefined, ident];
          stub = { resourceType: cond[1], id: `stub-${stubs.size + 1}`, identifier: [{ system, value }] } as Resource;
          stubs.set(ref, stub);
        }
        o.reference = `${stub.resourceType}/${stub.id}`;
      }
    }
    for (const v of Object.values(o)) fix(v);
  };
  const drop = (o: Record<string, unknown>) => {
    delete o.reference;
    if (!o.display) o.display = 'unresolved reference';
  };
  for (const r of out) fix(r);
  return [...out, ...stubs.values()];
}
