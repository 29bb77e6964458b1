-- Search index tables (R4 search.html; layout after HAPI's typed index tables and hashed tokens,
-- ../shared/reference/peer-servers.md §2.2). Rows are written in the resource's transaction by
-- src/store/search-index.ts and exist only for current, non-deleted resources. Every table carries
-- tenant and the resource's rid, so row-level security policies can be added like on fhir.resource.
-- Lookups use only leakproof operators (text, bigint, float8 comparisons: rls-audit-deid-patterns.md §2.4).
-- p = 64-bit hash of "<ResourceType>.<code>"; h = 64-bit hash of param + value form (src/search/keys.ts).

-- token: one row per value form (code, system|code, system|, of-type), deduplicated per resource.
create table fhir.sp_token (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  h      bigint not null,
  c      text collate "C"          -- the code, on the code-only row: the _sort key
);
create index sp_token_lookup on fhir.sp_token (tenant, h, rid);
create index sp_token_rid on fhir.sp_token (rid, p);

-- string (normalised: NFD, marks stripped, lower case; x = original when different) and uri (v = as is);
-- also token :text (p of "<Type>.<code>:text").
create table fhir.sp_string (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  v      text collate "C" not null,
  x      text collate "C"
);
create index sp_string_lookup on fhir.sp_string (tenant, p, v, rid);
create index sp_string_rid on fhir.sp_string (rid, p);

-- reference: target type and id (ttype '' and tid = URL for canonical and external absolute references).
create table fhir.sp_reference (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  ttype  text collate "C" not null,
  tid    text collate "C" not null
);
create index sp_reference_lookup on fhir.sp_reference (tenant, p, tid, ttype, rid);
create index sp_reference_rid on fhir.sp_reference (rid, p);

-- date: half-open ranges [lo, hi) in epoch milliseconds (partial dates and Periods are ranges).
create table fhir.sp_date (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  lo     bigint not null,
  hi     bigint not null
);
create index sp_date_lookup on fhir.sp_date (tenant, p, lo, hi, rid);
create index sp_date_rid on fhir.sp_date (rid, p);

-- number and quantity: closed ranges [lo, hi] (lo = hi for a point; Range low..high), units for quantities.
create table fhir.sp_number (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  lo     double precision not null,
  hi     double precision not null,
  system text collate "C",
  code   text collate "C",
  unit   text collate "C"
);
create index sp_number_lookup on fhir.sp_number (tenant, p, lo, rid);
create index sp_number_rid on fhir.sp_number (rid, p);

-- composite: h hashes every component but an ordered last one (quantity/number/date → lo/hi + units);
-- special `near`: h = p, lo = latitude, hi = longitude.
create table fhir.sp_composite (
  tenant text not null,
  rid    bigint not null,
  p      bigint not null,
  h      bigint not null,
  lo     double precision,
  hi     double precision,
  system text collate "C",
  code   text collate "C",
  unit   text collate "C"
);
create index sp_composite_lookup on fhir.sp_composite (tenant, h, lo, rid);
create index sp_composite_rid on fhir.sp_composite (rid, p);

-- Custom SearchParameters a tenant activated with $reindex (R4 searchparameter.html): searchable from then on,
-- without a schema change; the definition is the trimmed SearchParameter JSON.
create table fhir.search_param_custom (
  tenant       text not null,
  url          text not null,
  code         text not null,
  definition   text not null,
  activated_at timestamptz not null default now(),
  primary key (tenant, url)
);

grant select, insert, update, delete on fhir.sp_token, fhir.sp_string, fhir.sp_reference, fhir.sp_date, fhir.sp_number,
  fhir.sp_composite, fhir.search_param_custom to fhirgate_clinician, fhirgate_patient, fhirgate_system;
