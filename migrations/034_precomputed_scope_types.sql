-- ctx.types reads the type lists the request's transaction precomputed (src/store/scope-types.ts sets
-- fhirgate.types_<perms>_<contexts>: a comma list, or '-' for none). Without them (a direct connection, a
-- tool) it parses fhirgate.scopes as before, so the policies' meaning is unchanged; only their cost is.
create or replace function ctx.types(perms text, contexts text[]) returns text[] language sql stable parallel safe as $$
  select case s.v
           when '' then ctx.scope_types(current_setting('fhirgate.scopes', true), perms, contexts)
           when '-' then '{}'::text[]
           else string_to_array(s.v, ',')
         end
  from (select coalesce(current_setting('fhirgate.types_' || perms || '_' || array_to_string(contexts, '_'), true), '') as v) s
$$;
