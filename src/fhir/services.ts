// What interactions and operations are given to do their work: passed explicitly, never ambient.
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import type { FhirRequest, FhirResponse } from './types.js';

export interface Services {
  db: Db;
  config: Config;
}

export type Handler = (req: FhirRequest, svc: Services) => Promise<FhirResponse>;
