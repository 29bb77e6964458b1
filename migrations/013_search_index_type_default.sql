-- An index row written without its type (a writer other than src/store/search-index.ts, e.g. a direct
-- INSERT in a test or a repair script) takes it from its resource, so the NOT NULL type of 012 never
-- rejects a valid row. The WHEN clause keeps the trigger free for the normal path, which sets type.
create function fhir.sp_fill_type() returns trigger language plpgsql as $$
begin
  select r.type into new.type from fhir.resource r where r.rid = new.rid;
  return new;
end $$;

do $$
declare t text;
begin
  foreach t in array array['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] loop
    execute format('create trigger %I before insert on fhir.%I for each row when (new.type is null) execute function fhir.sp_fill_type()', t || '_fill_type', t);
  end loop;
end $$;
