-- The audit hash line's timestamp becomes integer microseconds since the Unix epoch (was to_char(…
-- at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')): still independent of the session's TimeZone
-- and DateStyle (patterns §3.2 pitfall 15), and verification streams binary COPY without formatting a
-- timestamp per event in either PostgreSQL or Node (issue: `audit verify` ≥100,000 events/s).
-- audit.append calls audit.hash_line, so every event appended from now on uses the new line; events
-- hashed before this migration keep their line, which src/audit/chain.ts still accepts (032 format).
create or replace function audit.hash_line(p_tenant text, p_stripe smallint, p_pos bigint, p_id text, p_recorded timestamptz,
  p_type text, p_subtype text, p_action text, p_outcome smallint, p_agent text, p_patient text, p_entity text, p_content text) returns text
language sql stable parallel safe as $$
  select concat_ws(E'\n', p_tenant, p_stripe::text, p_pos::text, p_id,
    (extract(epoch from p_recorded) * 1000000)::bigint::text,
    p_type, p_subtype, p_action, p_outcome::text, p_agent, p_patient, p_entity, p_content)
$$;
