// The clinician's launcher: pick a patient (and optionally an encounter) and an app launch URL; the
// server mints a launch context and sends the browser to `<launch URL>?iss=<FHIR base>&launch=…`.
import { esc, hidden, message, page } from './layout.js';

export function launcherPage(o: { csrf: string; username: string; patients: Array<{ id: string; label: string }>; error?: string }): string {
  const options = o.patients.map((p) => `<option value="${esc(p.id)}">${esc(p.label)}</option>`).join('\n');
  return page('Launch an app', `<p>Signed in as <b>${esc(o.username)}</b>.</p>${message(o.error)}
<form method="post" action="/auth/launcher">
${hidden('csrf', o.csrf)}
<label>Patient <select name="patient" required>${options}</select></label>
<label>Encounter id (optional) <input type="text" name="encounter"></label>
<label>App launch URL <input type="text" name="launch_url" required placeholder="https://app.example.org/launch"></label>
<button type="submit">Launch</button>
</form>`);
}
