// Narrative XHTML (R4 narrative.html#xhtml, invariants txt-1 and txt-2 on Narrative.div). The JSON schema
// only says `div` is a string, so a stored narrative could hold a script, an event handler or a javascript:
// link, and every viewer that renders it (an EHR, the SMART app beside it) would run it. The rules:
// - well-formed XML whose root is one `div` in the XHTML namespace;
// - txt-1: only "the basic html formatting elements and attributes described in chapters 7-11 (except
//   section 4 of chapter 9) and 15 of the HTML 4.0 standard, <a> elements (either name or href), images and
//   internally contained style attributes": no head, body, script, style, form, frame, iframe, object,
//   embed, link or base, no event attributes (on…), no script in a link or an image;
// - txt-2: "The narrative SHALL have some non-whitespace content" (text or an image).
// Parsed by saxes, a conformant XML parser: only XML's own entities (&lt; &gt; &amp; &quot; &apos;) and
// character references exist, as in any XHTML that is not served with a DTD.
import { SaxesParser } from 'saxes';
import type { Issue } from '../../errors.js';

const XHTML = 'http://www.w3.org/1999/xhtml';

/** The elements of FHIR's XHTML schema (fhir-xhtml.xsd): HTML 4.0 text, lists, tables, links and images. */
const ELEMENTS = new Set([
  'a', 'abbr', 'acronym', 'address', 'b', 'bdo', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col',
  'colgroup', 'dd', 'dfn', 'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd',
  'li', 'ol', 'p', 'pre', 'q', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot',
  'th', 'thead', 'tr', 'tt', 'ul', 'var',
]);

/** URL schemes that run code when followed or loaded. */
const ACTIVE_URL = /^\s*(javascript|vbscript|data\s*:\s*text\/html)/i;
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite', 'longdesc', 'usemap']);

/** The ajv keyword that runs the check on the xhtml type (schema.ts). */
export const NARRATIVE_KEYWORD = 'fhirNarrative';

/** Issues of one narrative `div` at `path` (e.g. `Patient.text.div`); empty when it is acceptable. */
export function narrativeIssues(div: string, path: string): Issue[] {
  return narrativeProblems(div).map((p) => ({ severity: 'error', code: 'invalid', diagnostics: `${path} ${p}`, expression: [path] }));
}

/** What is wrong with a narrative `div`, each as a phrase that follows its path ("holds <script>…"). */
export function narrativeProblems(div: string): string[] {
  const problems: string[] = [];
  const note = (msg: string) => { if (problems.length < 5) problems.push(msg); };
  let depth = 0;
  let roots = 0;
  let content = false;
  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on('error', (e) => {
    throw new NarrativeError(`is not well-formed XHTML (${e.message.replace(/\s+/g, ' ').slice(0, 120)})`);
  });
  parser.on('opentag', (t) => {
    if (depth === 0) {
      roots++;
      if (t.local !== 'div' || t.uri !== XHTML) note(`must be a div in the XHTML namespace (${XHTML}), not <${t.name.slice(0, 40)}>`);
    }
    depth++;
    if (t.uri !== XHTML) note(`holds <${t.name.slice(0, 40)}>, outside the XHTML namespace`);
    else if (!ELEMENTS.has(t.local)) note(`holds <${t.local.slice(0, 40)}>, which narratives may not contain (txt-1)`);
    if (t.local === 'img') content = true;
    for (const a of Object.values(t.attributes)) {
      if (a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      if (a.uri && a.uri !== 'http://www.w3.org/XML/1998/namespace') note(`<${t.local}> has the attribute ${a.name.slice(0, 40)}, outside XHTML (txt-1)`);
      else if (/^on/i.test(a.local)) note(`<${t.local}> has the event attribute ${a.local.slice(0, 40)} (txt-1)`);
      else if (URL_ATTRIBUTES.has(a.local) && ACTIVE_URL.test(a.value)) note(`<${t.local}> ${a.local} holds a script URL (txt-1)`);
    }
  });
  parser.on('closetag', () => { depth--; });
  parser.on('text', (text) => {
    if (depth === 0 && text.trim()) note('has text outside its div');
    else if (text.trim()) content = true;
  });
  parser.on('cdata', (text) => { if (text.trim()) content = true; });
  try {
    parser.write(div).close();
  } catch (e) {
    if (!(e instanceof NarrativeError)) throw e;
    return [e.message];
  }
  if (roots !== 1) note('must be exactly one div element');
  if (!content) note('has no content: a narrative needs some text or an image (txt-2)');
  return problems;
}

class NarrativeError extends Error {}
