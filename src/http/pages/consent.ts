// The patient picker (field `patient`) and the consent page (one checkbox `scope` per requested
// scope, checked by default, with narrower sub-resource scopes offered unchecked; a `deny` button).
import { esc, hidden, message, page } from './layout.js';

export function patientPage(o: { req: string; patients: Array<{ id: string; label: string }>; error?: string }): string {
  const options = o.patients.map((p) => `<option value="${esc(p.id)}">${esc(p.label)}</option>`).join('\n');
  return page('Choose a patient', `${message(o.error)}
<form method="post" action="/auth/patient">
${hidden('req', o.req)}
<label>Patient <select name="patient" required>${options}</select></label>
<button type="submit">Continue</button>
</form>`);
}

const DESCRIBE: Record<string, string> = {
  openid: 'Know who you are (OpenID Connect)',
  fhirUser: 'Know your FHIR user record',
  profile: 'Know your profile',
  launch: 'Receive the launch context from the EHR',
  'launch/patient': 'Know which patient is selected',
  'launch/encounter': 'Know which encounter is selected',
  offline_access: 'Keep access after you sign out (refresh token)',
  online_access: 'Keep access while you are signed in',
};

function describe(scope: string): string {
  if (DESCRIBE[scope]) return DESCRIBE[scope];
  const m = /^(patient|user|system)\/([^.]+)\.([^?]+)(\?.*)?$/.exec(scope);
  if (!m) return scope;
  const [, ctx, type, acc, q] = m;
  const v1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
  const letters = v1[acc] ?? acc;
  const verbs = [...letters].map((l) => ({ c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' })[l]).join(', ');
  const who = ctx === 'patient' ? "the selected patient's" : ctx === 'user' ? 'all records you can see:' : 'all';
  return `${verbs} ${who} ${type === '*' ? 'data of every type' : type}${q ? ` limited to ${decodeURIComponent(q.slice(1))}` : ''}`;
}

function box(scope: string, checked: boolean): string {
  return `<label><input type="checkbox" name="scope" value="${esc(scope)}"${checked ? ' checked' : ''}> ${esc(describe(scope))} <span class="scope">(${esc(scope)})</span></label>`;
}

export function consentPage(o: { req: string; clientId: string; items: Array<{ scope: string; checked: boolean; narrower: string[] }>; patient?: string }): string {
  const rows = o.items.map((i) => {
    const sub = i.narrower.length
      ? `<details><summary>or only part of it</summary><ul>${i.narrower.map((n) => `<li>${box(n, false)}</li>`).join('')}</ul></details>`
      : '';
    return `<li>${box(i.scope, i.checked)}${sub}</li>`;
  }).join('\n');
  return page('Allow access?', `<p>The application <b>${esc(o.clientId)}</b> asks for the access below.${o.patient ? ` Patient: <b>${esc(o.patient)}</b>.` : ''} Untick what you do not want to share.</p>
<form method="post" action="/auth/consent">
${hidden('req', o.req)}
<fieldset><legend>Requested access</legend><ul>
${rows}
</ul></fieldset>
<button type="submit">Allow</button>
<button type="submit" name="deny" value="1" formnovalidate>Deny</button>
</form>`);
}
