-- Full-text index for _text and _content (R4 search.html#text, #content, 3.1.1.4.20: "search on the narrative
-- of the resource, and the entire content of the resource respectively"). One row per current resource, written
-- in the resource's transaction with its other index rows (src/store/search-index.ts), both documents
-- GIN-indexed; queried by src/search/params/text.ts. 'simple' configuration: no stemming or stop words, so
-- any language's words match as written (case-folded).

-- The two documents, defined once for the writer and the backfill below.
-- narrative: the text of Resource.text.div with tags and character references removed.
create function fhir.text_narrative(doc jsonb) returns tsvector language sql immutable parallel safe as $$
  select to_tsvector('simple'::regconfig, regexp_replace(coalesce(doc #>> '{text,div}', ''), '<[^>]*>|&[A-Za-z0-9#]+;', ' ', 'g'))
$$;
-- content: every string value of the resource (its contained resources included), each a separate run of words.
create function fhir.text_content(doc jsonb) returns tsvector language sql immutable parallel safe as $$
  select jsonb_to_tsvector('simple'::regconfig, doc, '["string"]')
$$;

create table fhir.sp_text (
  tenant    text not null,
  rid       bigint not null,
  type      text not null,   -- the resource's type (row-level security checks scopes on it, as on sp_*)
  narrative tsvector not null,
  content   tsvector not null
);
create index sp_text_rid on fhir.sp_text (rid);
create index sp_text_narrative on fhir.sp_text using gin (narrative);
create index sp_text_content on fhir.sp_text using gin (content);

grant select, insert, update, delete on fhir.sp_text to fhirgate_clinician, fhirgate_patient, fhirgate_system;

-- Documents of the resources already stored (a fresh database has none; 030 is not applied yet there, and where
-- it is, this runs as the migrating role: a superuser, or an owner whose rows row-level security lets it see).
insert into fhir.sp_text (tenant, rid, type, narrative, content)
select r.tenant, r.rid, r.type, fhir.text_narrative(d.doc), fhir.text_content(d.doc)
from fhir.resource r cross join lateral (select r.content::jsonb as doc) d
where not r.deleted;

-- Under row-level security a query's own conditions may serve as index conditions only when their operator
-- is LEAKPROOF (PostgreSQL: policies are enforced "prior to any conditions or functions coming from the user's
-- query. The only exceptions … are leakproof functions"); tsvector @@ tsquery (ts_match_vq) is not marked so,
-- which leaves GIN unused for every request role (a scan of the tenant's sp_text rows per text search).
-- ts_match_vq returns a boolean computed from its two arguments, with no side effects and no errors that
-- depend on the row's value, so it is marked leakproof here; only a superuser may do that. Without one the
-- searches stay correct, only unindexed (and a dump/restore drops the mark: re-run this statement).
do $$
begin
  if exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
    alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof;
  else
    raise notice 'fhir.sp_text: not a superuser, so ts_match_vq stays non-leakproof and text searches cannot use the GIN indexes under row-level security';
  end if;
end $$;

do $$
begin
  if to_regprocedure('fhir.apply_rls(regclass,text)') is not null then
    perform fhir.apply_rls('fhir.sp_text'::regclass, 'cu');
  end if;
end $$;
