// PLACEHOLDER (replaced by the search work): index rows written in the resource's transaction.
import type { Tx } from './session.js';
import type { ExtractedIndex } from '../search/extract.js';
export interface IndexWrite { rid: string; tenant: string; type: string; index: ExtractedIndex }
export async function writeIndex(_tx: Tx, _items: IndexWrite[]): Promise<void> {}
export async function deleteIndex(_tx: Tx, _rids: string[]): Promise<void> {}
