-- Contained resources in the search index (R4 search.html#contained, 3.1.1.5.5): "By default, search results
-- only include resources that are not contained in other resources"; _contained=true|both searches them.
-- A contained resource's rows go into the typed index tables of 010 under its CONTAINER's rid and type (so
-- row-level security treats them as part of the container, which they are: 030's policies apply unchanged),
-- distinguished by:
--   * parameter identities prefixed '#' (src/search/keys.ts containedParam): their p and h never equal a
--     top-level key, so normal searches, sorts, counts and :missing never meet them, with no SQL change;
--   * cx, the position in the container's `contained` array (NULL on every top-level row), so a _contained
--     search holds all its conditions on one contained resource, not spread over siblings.
-- ADD COLUMN without a default is a catalog change only: no table rewrite, existing rows read NULL.
do $$
declare t text;
begin
  foreach t in array array['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] loop
    execute format('alter table fhir.%I add column cx smallint', t);
  end loop;
end $$;

-- One row per indexed contained resource (those with a known resourceType and an id): where a _contained search
-- starts (src/search/contained.ts). Written and deleted with the container's index rows (src/store/search-index.ts).
-- Resources stored before this migration get these rows when rewritten or reindexed ($reindex).
create table fhir.sp_contained (
  tenant text not null,
  rid    bigint not null,               -- the container's rid
  cx     smallint not null,             -- position in the container's contained array
  type   text not null,                 -- the container's type (row-level security checks scopes on it)
  ctype  text collate "C" not null,     -- the contained resource's type
  cid    text collate "C" not null      -- its id, local to the container
);
create index sp_contained_lookup on fhir.sp_contained (tenant, ctype, rid, cx) include (type);
create index sp_contained_rid on fhir.sp_contained (rid);

grant select, insert, update, delete on fhir.sp_contained to fhirgate_clinician, fhirgate_patient, fhirgate_system;

-- Row-level security as on the other index tables: on a fresh database 030 (applied later) covers every table
-- of schema fhir with a tenant column; where 030 already ran, apply it here.
do $$
begin
  if to_regprocedure('fhir.apply_rls(regclass,text)') is not null then
    perform fhir.apply_rls('fhir.sp_contained'::regclass, 'cu');
  end if;
end $$;
