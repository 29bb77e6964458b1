// Server-owned meta (R4 http.html "the server SHALL populate meta.versionId and meta.lastUpdated"): one
// function for every write path (REST, transactions, import workers), so stored text has one shape.

/** A copy with server-owned meta; resourceType, id and meta first so stored text reads naturally. */
export function stamp<R extends object>(resource: R, id: string, version: number, lastUpdated: string): R {
  const { resourceType, id: _ignored, meta, ...rest } = resource as Record<string, unknown>;
  const { versionId: _v, lastUpdated: _l, ...otherMeta } = (meta ?? {}) as Record<string, unknown>;
  return { resourceType, id, meta: { ...otherMeta, versionId: String(version), lastUpdated }, ...rest } as unknown as R;
}
