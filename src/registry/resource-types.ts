// PLACEHOLDER (replaced by the validation work): the R4 core resource types.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'capability', 'definitions', 'summary-elements.json');
export const RESOURCE_TYPES: readonly string[] = Object.keys(JSON.parse(readFileSync(FILE, 'utf8')));
const SET = new Set(RESOURCE_TYPES);
export function isResourceType(t: string): boolean { return SET.has(t); }
