// The request roles are cluster-wide (migrations 001, 031, 032 create them when missing and grant each to the
// migrating role, which switches into them per transaction). On PostgreSQL 16 and later a CREATEROLE role may
// grant only roles it holds WITH ADMIN OPTION, which their creator has implicitly: a second fhirgate database on
// the same managed instance, owned by another non-superuser role, found them made by the first owner and its
// migration failed with "permission denied to grant role". Checked before those migrations run, the refusal
// says what an administrator must do instead (CONTRACT "Start": a DATABASE_URL role that owns its database and
// may create roles, not a superuser).
import type { PoolClient } from './pool.js';

/** Migrations that grant request roles to the migrating role. */
export const ROLE_GRANTING = new Set(['001_core.sql', '031_deid.sql', '032_audit.sql']);

const REQUEST_ROLES = ['fhirgate_clinician', 'fhirgate_patient', 'fhirgate_researcher', 'fhirgate_auditor', 'fhirgate_admin',
  'fhirgate_system', 'fhirgate_deid_writer', 'fhirgate_audit_writer'];

/** Throws, naming the GRANT to run, when existing request roles cannot be granted by the migrating role. */
export async function assertRolesGrantable(client: PoolClient): Promise<void> {
  const r = await client.query<{ user: string; missing: string[] | null }>(
    `select current_user as user,
            array_agg(quote_ident(ro.rolname) order by ro.rolname)
              filter (where not pg_has_role(current_user, ro.oid, 'member with admin option')) as missing
       from pg_roles ro
      where ro.rolname = any($1::text[])
        and not (select rolsuper from pg_roles where rolname = current_user)
        -- Before PostgreSQL 16 CREATEROLE itself allowed granting any role that is not a superuser.
        and not ((select rolcreaterole from pg_roles where rolname = current_user) and current_setting('server_version_num')::int < 160000)`,
    [REQUEST_ROLES],
  );
  const { user, missing } = r.rows[0];
  if (!missing?.length) return;
  throw new Error(`the roles ${missing.join(', ')} already exist on this PostgreSQL cluster (another database created them) and ` +
    `${user} may not grant them to itself; have an administrator run: GRANT ${missing.join(', ')} TO "${user.replace(/"/g, '""')}" WITH ADMIN OPTION`);
}
