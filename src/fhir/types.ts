// The plain request and response the FHIR layer works with (http/ converts to and from Express), so
// interactions and operations never see Express (Medplum's lesson in ../shared/STYLE.md).
import type { AuthContext } from '../auth/context.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FhirRequest {
  method: HttpMethod;
  /** Path segments after `/fhir`, decoded: `['Patient', '123', '_history', '2']`. */
  segments: string[];
  /** Query parameters in order; repeated names stay repeated (search AND semantics). */
  params: Array<[string, string]>;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, when there is one. */
  body?: unknown;
  ctx: AuthContext;
}

export interface FhirResponse {
  status: number;
  headers?: Record<string, string>;
  /** A value to serialise as JSON … */
  body?: unknown;
  /** … or JSON text already serialised (stored resources are served as stored). */
  raw?: string;
  /** The version's meta.lastUpdated, to the millisecond (Last-Modified, an HTTP-date, keeps seconds only). */
  lastUpdated?: string;
  /**
   * What the handler touched, for its AuditEvent (src/audit): `patients` (`Patient/<id>`) replaces the
   * default (patients written by the write path plus those found in the response body); `entity` names
   * the data entity (`Type/id[/_history/v]`) when the URL does not.
   */
  audit?: { patients?: string[]; entity?: string };
}
