// Narrative XHTML (R4 narrative.html#xhtml, txt-1 and txt-2): what a viewer would run or could not render is
// refused, with the element's path; ordinary generated narratives pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../../src/fhir/validation/validate.js';
import { narrativeIssues } from '../../../src/fhir/validation/narrative.js';

const X = 'xmlns="http://www.w3.org/1999/xhtml"';
const patient = (div: string) => ({ resourceType: 'Patient', text: { status: 'generated', div } });
const problems = (div: string) => narrativeIssues(div, 'Patient.text.div').map((i) => i.diagnostics ?? '');

test('generated narratives with text, tables, lists, links, images and styles pass', () => {
  for (const div of [
    `<div ${X}><p><b>Generated Narrative</b></p><p>id: 3123 &amp; &lt;x&gt; &#233;</p></div>`,
    `<div ${X}><table border="1"><thead><tr><th colspan="2">a</th></tr></thead><tbody><tr><td style="color: red">b</td><td>c</td></tr></tbody></table></div>`,
    `<div ${X}><ul><li><a href="Patient/1">Patient</a></li><li><a name="x">anchor</a></li></ul><img src="#photo" alt="p"/></div>`,
    `<div ${X} xml:lang="en"><span class="c">x</span><br/><pre>  y  </pre></div>`,
  ]) assert.deepEqual(problems(div), [], div);
  assert.deepEqual(validateResource(patient(`<div ${X}><p>ok</p></div>`)), []);
});

test('scripts, active content, event handlers and script URLs are refused (txt-1)', () => {
  const cases: Array<[string, RegExp]> = [
    [`<div ${X}><script>alert(1)</script></div>`, /<script>/],
    [`<div ${X}><p onclick="alert(1)">x</p></div>`, /event attribute onclick/],
    [`<div ${X}><img src="x" onerror="alert(1)"/></div>`, /event attribute onerror/],
    [`<div ${X}><a href="javascript:alert(1)">x</a></div>`, /script URL/],
    [`<div ${X}><a href=" JavaScript:alert(1)">x</a></div>`, /script URL/],
    [`<div ${X}><iframe src="http://evil.example"/>x</div>`, /<iframe>/],
    [`<div ${X}><form><input/></form>x</div>`, /<form>/],
    [`<div ${X}><style>p{}</style>x</div>`, /<style>/],
    [`<div ${X}><svg xmlns="http://www.w3.org/2000/svg"/>x</div>`, /outside the XHTML namespace/],
  ];
  for (const [div, want] of cases) assert.match(problems(div).join(' | '), want, div);
});

test('not XHTML, not one div, or empty is refused (txt-2)', () => {
  assert.match(problems('plain text').join(), /not well-formed|one div/);
  assert.match(problems('<div>no namespace</div>').join(), /XHTML namespace/);
  assert.match(problems(`<p ${X}>x</p>`).join(), /must be a div/);
  assert.match(problems(`<div ${X}><p>x</div>`).join(), /not well-formed/);
  assert.match(problems(`<div ${X}>&nbsp;</div>`).join(), /not well-formed/);
  assert.match(problems(`<div ${X}>   <p> </p></div>`).join(), /no content/);
});

test('the validator reports them with the narrative path, in contained resources too', () => {
  const issues = validateResource({ ...patient(`<div ${X}><script>x</script></div>`),
    contained: [{ resourceType: 'Organization', id: 'o', text: { status: 'generated', div: `<div ${X}><p onmouseover="x">o</p></div>` } }] });
  const paths = issues.map((i) => i.expression?.[0]);
  assert.ok(paths.includes('Patient.text.div'), JSON.stringify(issues));
  assert.ok(paths.some((p) => p?.startsWith('Patient.contained[0]') && p.endsWith('text.div')), JSON.stringify(issues));
});
