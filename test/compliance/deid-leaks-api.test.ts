// Adversarial probe of the Safe Harbor boundary through the real server (45 CFR §164.514(b)(2)(i)):
// identifiers planted wherever FHIR R4 JSON can carry them, written by a backend service, then read,
// searched and _included by a researcher. Every planted value carries the marker ZQX (or is a full date
// of its own), so one scan of each reply finds any survivor; searches on the planted values find nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { keyIdOf } from '../../src/deid/settings.js';
import { startRoleServer, call, SYSTEM, DEID_KEY, type Reply } from './helpers.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
let server: Server;
const researcher = { role: 'researcher' as const, scopes: ['user/*.rs'], userId: 'res-zz', clientId: 'study-app' };
const pseudo = (type: string, id: string) => new Pseudonyms(Buffer.from(DEID_KEY), keyIdOf(Buffer.from(DEID_KEY)), 'default').id(type, id);
const ids: Record<string, string> = {};
const UCUM = 'http://unitsofmeasure.org';
const ext = (url: string, value: object) => ({ url: `https://zqx.example/ext/${url}`, ...value });

/** Dates planted as written (full precision): none may reach a researcher, nor the years that reveal an age over 89. */
const DATES = ['1958-03-14', '2017-02-13', '2016-05-17', '2015-06-18', '2014-07-19', '2013-08-20', '2012-09-21', '2011-10-22',
  '1921-07-08', '1931-02-03', '1930-04-05', '10:11:12.1234567890123'];
/** Years that reveal an age over 89 (relatives born in 1921 and 1925; a birth date observed as 1931; an encounter in 1930); a position. */
const OLD_YEARS = ['"1921"', '"1931"', '"1930"', '"1925"', '42.12', '71.65'];

async function post(type: string, body: object): Promise<string> {
  const r = await call(server, SYSTEM, 'POST', type, { resourceType: type, ...body });
  assert.equal(r.status, 201, `${type}: ${r.text}`);
  return r.json.id as string;
}

before(async () => {
  server = await startRoleServer();
  ids.Pat = await post('Patient', {
    meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', id: 'zqx-label', extension: [ext('label', { valueString: 'ZQX-label' })] }] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">ZQX narrative</div>' },
    extension: [
      ext('s', { valueString: 'ZQX-ext-string' }), ext('a', { valueAddress: { line: ['ZQX ext street'], postalCode: '02139' } }),
      ext('h', { valueHumanName: { family: 'ZQXextname' } }), ext('i', { valueIdentifier: { value: 'ZQX-ext-id' } }),
      ext('d', { valueDate: '2017-02-13' }), ext('p', { valuePeriod: { start: '2016-05-17' } }),
      ext('c', { valueContactPoint: { system: 'email', value: 'zqx@example.org' } }), ext('att', { valueAttachment: { url: 'https://zqx.example/a.png' } }),
      ext('nested', { extension: [ext('inner', { valueString: 'ZQX-nested' })] }),
    ],
    modifierExtension: [ext('m', { valueString: 'ZQX-modifier' })],
    identifier: [{ system: 'http://hospital.example/mrn', value: 'ZQX-MRN-1' }],
    name: [{ family: 'ZQXfamily', given: ['ZQXgiven'], _family: { extension: [ext('own', { valueString: 'ZQX-primitive-ext' })] } }],
    telecom: [{ system: 'phone', value: '555-ZQX-0001' }], gender: 'female', birthDate: '1958-03-14',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1958-03-14T04:05:06Z' }] },
    address: [{ line: ['1 ZQX Way'], city: 'ZQXcity', district: 'ZQXdistrict', state: 'MA', postalCode: '02139', country: 'US', period: { start: '2015-06-18' } }],
    photo: [{ contentType: 'image/png', data: 'WlFYcGhvdG8=', url: 'https://zqx.example/photo.png', title: 'ZQX photo' }],
    contact: [{ name: { family: 'ZQXcontact' }, telecom: [{ system: 'phone', value: '555-ZQX-0002' }], address: { line: ['2 ZQX Road'], postalCode: '02139' } }],
  });
  ids.Prac = await post('Practitioner', { identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: 'ZQX-NPI' }], name: [{ family: 'ZQXdoctor' }],
    telecom: [{ system: 'email', value: 'dr.zqx@example.org' }], address: [{ line: ['3 ZQX Clinic'], city: 'ZQXtown', postalCode: '02139' }] });
  ids.Obs = await post('Observation', {
    status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8302-2', display: 'Body height' }], text: 'ZQX free text' },
    subject: { reference: `Patient/${ids.Pat}`, display: 'ZQXfamily' },
    contained: [{ resourceType: 'Practitioner', id: 'zqx-dr-family-1958', name: [{ family: 'ZQXcontained' }] }],
    performer: [{ reference: '#zqx-dr-family-1958' }, { reference: `Practitioner/${ids.Prac}`, display: 'Dr ZQXdoctor' }, { identifier: { value: 'ZQX-perf-id' } }],
    // A valid FHIR dateTime (the fraction has no length limit) long enough to escape a length-capped date check.
    effectiveDateTime: '2014-07-19T10:11:12.1234567890123+05:00',
    issued: '2013-08-20T01:02:03Z', valueQuantity: { value: 170, unit: 'cm', system: UCUM, code: 'cm' },
    note: [{ authorString: 'ZQX author', time: '2012-09-21', text: 'ZQX note' }],
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '30525-0' }] }, valueQuantity: { value: 95, unit: 'years', system: UCUM, code: 'a_j' } }],
  });
  // A relative born over 89 years ago (Safe Harbor covers relatives: "of the individual or of relatives").
  ids.Fmh = await post('FamilyMemberHistory', { status: 'completed', patient: { reference: `Patient/${ids.Pat}` }, relationship: { coding: [{ code: 'GRMTH' }] },
    bornDate: '1921-07-08', name: 'ZQX grandmother' });
  // A birth date recorded as an observation: its year alone says the patient is over 89.
  ids.Birth = await post('Observation', { status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '21112-8' }] },
    subject: { reference: `Patient/${ids.Pat}` }, valueDateTime: '1931-02-03' });
  ids.Enc = await post('Encounter', { status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids.Pat}` }, period: { start: '1930-04-05' } });
  ids.Plan = await post('CarePlan', { status: 'active', intent: 'plan', subject: { reference: `Patient/${ids.Pat}/_history/zqx-v1958` },
    instantiatesUri: ['https://ehr.example/zqx-patient-plan'], period: { start: '2011-10-22' } });
  ids.Qr = await post('QuestionnaireResponse', { status: 'completed', subject: { reference: `Patient/${ids.Pat}` },
    item: [{ linkId: 'homepage', answer: [{ valueUri: 'https://zqx-home.example/' }] }] });
  ids.Rp = await post('RelatedPerson', { patient: { reference: `Patient/${ids.Pat}` }, name: [{ family: 'ZQXrelative' }], birthDate: '1925-01-02',
    telecom: [{ system: 'phone', value: '555-ZQX-0003' }], address: [{ line: ['4 ZQX Lane'], postalCode: '02139' }], photo: [{ url: 'https://zqx.example/rp.png' }] });
  ids.Org = await post('Organization', { name: 'General Hospital', identifier: [{ value: 'ZQX-ORG-ID' }], telecom: [{ system: 'phone', value: '555-ZQX-0004' }],
    address: [{ line: ['5 ZQX Avenue'], city: 'ZQXville', state: 'MA', postalCode: '02139' }] });
  ids.Loc = await post('Location', { name: 'ZQX home ward', alias: ['ZQX alias'], address: { line: ['6 ZQX Street'], postalCode: '02139', state: 'MA' },
    position: { latitude: 42.123456, longitude: -71.654321 }, telecom: [{ system: 'email', value: 'ward@zqx.example' }] });
  ids.Dev = await post('Device', { patient: { reference: `Patient/${ids.Pat}` }, udiCarrier: [{ deviceIdentifier: 'ZQX-UDI', carrierHRF: '(01)ZQX' }],
    serialNumber: 'ZQX-SERIAL', lotNumber: 'ZQX-LOT', distinctIdentifier: 'ZQX-DISTINCT', deviceName: [{ name: 'ZQX pump', type: 'user-friendly-name' }],
    url: 'https://zqx.example/device', manufactureDate: '2016-05-17' });
  ids.Doc = await post('DocumentReference', { status: 'current', subject: { reference: `Patient/${ids.Pat}` }, description: 'ZQX letter', date: '2013-08-20T01:02:03Z',
    content: [{ attachment: { contentType: 'text/plain', url: 'https://zqx.example/doc.txt', data: 'WlFYZGF0YQ==', title: 'ZQX title', creation: '2012-09-21' } }] });
  ids.Eob = await post('ExplanationOfBenefit', { status: 'active', type: { coding: [{ code: 'professional' }] }, use: 'claim', patient: { reference: `Patient/${ids.Pat}` },
    created: '2011-10-22T10:00:00Z', insurer: { reference: `Organization/${ids.Org}` }, provider: { reference: `Practitioner/${ids.Prac}`, display: 'Dr ZQXdoctor' },
    outcome: 'complete', billablePeriod: { start: '2017-02-13', end: '2016-05-17' }, insurance: [{ focal: true, coverage: { display: 'ZQX plan member' } }],
    item: [{ sequence: 1, productOrService: { coding: [{ code: '99213' }] }, servicedDate: '2015-06-18', locationAddress: { line: ['7 ZQX Court'], postalCode: '02139' } }],
    payment: { identifier: { value: 'ZQX-PAYMENT' }, date: '2014-07-19' } });
  // Never copied (O: agents' network addresses): unknown to a researcher.
  ids.Prov = await post('Provenance', { target: [{ reference: `Patient/${ids.Pat}` }], recorded: '2017-02-13T01:02:03Z',
    agent: [{ who: { reference: `Practitioner/${ids.Prac}`, display: 'ZQXdoctor' } }] });
  ids.Bundle = await post('Bundle', { type: 'collection', entry: [{ fullUrl: `https://ehr.example/fhir/Patient/zqx-bundled`,
    resource: { resourceType: 'Patient', id: 'zqx-bundled', gender: 'male' }, response: { status: '201', location: 'Patient/zqx-bundled/_history/1' } }] });
});
after(async () => {
  await server?.stop();
});

const replies: Array<[string, Reply]> = [];
async function asResearcher(path: string): Promise<Reply> {
  const r = await call(server, researcher, 'GET', path);
  replies.push([path, r]);
  return r;
}

/** What a researcher was served, without the search's own self link (it echoes the query). */
function served(r: Reply): string {
  if (r.json?.resourceType !== 'Bundle' || r.json?.type !== 'searchset') return r.text;
  return JSON.stringify([r.json.entry ?? [], r.json.total]);
}

function assertClean(path: string, r: Reply): void {
  const text = served(r);
  for (const phi of ['ZQX', 'zqx', ...DATES, ...OLD_YEARS, ...Object.values(ids)]) assert.ok(!text.includes(phi), `${path}: '${phi}' survived`);
  assert.doesNotMatch(text, /"\d{4}-\d{2}/, `${path}: a date finer than its year`);
  assert.doesNotMatch(text, /"0213/, `${path}: a ZIP beyond 3 digits`);
}

test('researcher reads of every planted resource hold no identifier, no date finer than a year, no year revealing an age over 89', async () => {
  for (const [key, type] of [['Pat', 'Patient'], ['Prac', 'Practitioner'], ['Obs', 'Observation'], ['Fmh', 'FamilyMemberHistory'], ['Birth', 'Observation'],
    ['Enc', 'Encounter'], ['Plan', 'CarePlan'], ['Qr', 'QuestionnaireResponse'], ['Bundle', 'Bundle'], ['Rp', 'RelatedPerson'], ['Org', 'Organization'],
    ['Loc', 'Location'], ['Dev', 'Device'], ['Doc', 'DocumentReference'], ['Eob', 'ExplanationOfBenefit']] as const) {
    const path = `${type}/${pseudo(type, ids[key])}`;
    const r = await asResearcher(path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assertClean(path, r);
  }
  assert.equal((await asResearcher(`Provenance/${pseudo('Provenance', ids.Prov)}`)).status, 404, 'Provenance is never copied');
});

test('the researcher copy keeps what research needs: years, ZIP3, state, codes, measurements, resolvable references', async () => {
  const pat = (await asResearcher(`Patient/${pseudo('Patient', ids.Pat)}`)).json;
  assert.equal(pat.birthDate, '1958');
  assert.deepEqual(pat.meta.security[0], { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }, 'the writer\'s label, as a code');
  assert.deepEqual(pat.address, [{ state: 'MA', postalCode: '021', country: 'US' }]);
  const obs = (await asResearcher(`Observation/${pseudo('Observation', ids.Obs)}`)).json;
  assert.equal(obs.effectiveDateTime, '2014');
  assert.deepEqual(obs.valueQuantity, { value: 170, unit: 'cm', system: UCUM, code: 'cm' });
  assert.equal(obs.component[0].valueQuantity.value, 90, 'an age of 95 (UCUM a_j) is grouped as 90 or older');
  assert.equal(obs.component[0].valueQuantity.comparator, '>=');
  const local = obs.performer.find((p: { reference: string }) => p.reference.startsWith('#')).reference.slice(1);
  assert.equal(obs.contained[0].id, local, 'a contained resource and its local reference keep matching');
  assert.equal(obs.subject.reference, `Patient/${pseudo('Patient', ids.Pat)}`);
  const bundle = (await asResearcher(`Bundle/${pseudo('Bundle', ids.Bundle)}`)).json;
  assert.equal(bundle.entry[0].resource.id, pseudo('Patient', 'zqx-bundled'), 'a resource inside a stored Bundle is pseudonymised like any other');
  assert.equal((await asResearcher(`Organization/${pseudo('Organization', ids.Org)}`)).json.name, 'General Hospital');
});

test('researcher searches and _include serve nothing planted, and never match on the removed values', async () => {
  const P = pseudo('Patient', ids.Pat);
  for (const q of [`Observation?patient=${P}&_include=Observation:subject&_include=Observation:performer`,
    `Patient?_id=${P}&_revinclude=Observation:subject&_revinclude=FamilyMemberHistory:patient&_revinclude=Encounter:subject&_revinclude=CarePlan:subject`,
    `QuestionnaireResponse?subject=${P}`, `ExplanationOfBenefit?patient=${P}&_include=ExplanationOfBenefit:provider&_include=ExplanationOfBenefit:coverage`,
    `Device?patient=${P}`, `DocumentReference?subject=${P}`, `RelatedPerson?patient=${P}`, `Location?_id=${pseudo('Location', ids.Loc)}`, `Bundle?_id=${pseudo('Bundle', ids.Bundle)}`, `Practitioner?_id=${pseudo('Practitioner', ids.Prac)}`]) {
    const r = await asResearcher(q);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    assert.ok((r.json.entry ?? []).length > 0, `${q} finds the copies`);
    assertClean(q, r);
  }
  assert.equal((await asResearcher('Patient?birthdate=1958')).json.entry?.length, 1, 'the year still matches');
  const prov = await asResearcher(`Provenance?target=${P}`);
  assert.ok(prov.status === 403 || (prov.status === 200 && (prov.json.entry ?? []).length === 0), `${prov.status} ${prov.text}`);
  for (const q of ['Patient?name=ZQXfamily', 'Patient?given=ZQXgiven', 'Patient?identifier=ZQX-MRN-1', 'Patient?birthdate=1958-03-14',
    'Patient?telecom=555-ZQX-0001', 'Patient?address-city=ZQXcity', 'Patient?address-postalcode=02139', 'Practitioner?name=ZQXdoctor',
    'Practitioner?identifier=ZQX-NPI', 'Observation?date=2014-07-19', 'FamilyMemberHistory?date=1921', 'Encounter?date=1930',
    'Observation?value-date=1931', 'CarePlan?instantiates-uri=https://ehr.example/zqx-patient-plan', 'Patient?_content=ZQXfamily',
    'Location?name=ZQX', 'Location?address=ZQX', 'Organization?identifier=ZQX-ORG-ID', 'Organization?address-city=ZQXville', 'Device?udi-di=ZQX-UDI', 'RelatedPerson?birthdate=1925',
    'RelatedPerson?name=ZQXrelative', 'DocumentReference?description=ZQX', 'ExplanationOfBenefit?identifier=ZQX-PAYMENT', `Patient?_id=zqx-bundled`, `Observation?performer=${ids.Prac}`, 'Observation?performer.name=ZQXdoctor']) {
    const r = await asResearcher(q);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    assert.deepEqual(r.json.entry ?? [], [], q);
  }
});
