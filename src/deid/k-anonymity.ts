// k-anonymity over the de-identified patients' quasi-identifiers (patterns §4.5): birth year (90+ grouped),
// sex and ZIP3. Each distinct combination is an equivalence class; the data set is k-anonymous for the
// size of its smallest class. Records in classes smaller than the configured k are the re-identification
// risk a release must generalise further or suppress.
import type { Db } from '../store/session.js';
import { withTx } from '../store/session.js';
import { qiClasses, type QiClass } from '../store/deid.js';

export interface KAnonymityReport {
  quasiIdentifiers: string[];
  k: number;
  patients: number;
  classes: number;
  /** Size of the smallest class (0 when there are no patients). */
  smallestK: number;
  /** Patients in classes smaller than k, and how many such classes. */
  belowK: number;
  classesBelowK: number;
  kAnonymous: boolean;
}

export function summarize(classes: readonly QiClass[], k: number): KAnonymityReport {
  let patients = 0;
  let belowK = 0;
  let classesBelowK = 0;
  let smallest = Infinity;
  for (const c of classes) {
    patients += c.n;
    smallest = Math.min(smallest, c.n);
    if (c.n < k) {
      belowK += c.n;
      classesBelowK++;
    }
  }
  const smallestK = classes.length ? smallest : 0;
  return { quasiIdentifiers: ['birthYear', 'sex', 'zip3'], k, patients, classes: classes.length, smallestK, belowK, classesBelowK, kAnonymous: classes.length > 0 && smallestK >= k };
}

/** Reads only the de-identified copy, as the researcher role (the boundary applies to reports too). */
export async function kAnonymityReport(db: Db, tenant: string, k: number): Promise<KAnonymityReport> {
  const classes = await withTx(db, { tenant, role: 'researcher', scopes: 'user/Patient.rs' }, (tx) => qiClasses(tx), { readOnly: true });
  return summarize(classes, k);
}
