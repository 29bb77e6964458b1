// The `fhirgate` command line (../shared/CONTRACT.md "Command line"): every command works whether the
// server runs or not, on the same database (DATABASE_URL, else the embedded one in DATA_DIR). Each
// prints one JSON object on stdout and exits 0, or one line on stderr and exits non-zero.
import { loadConfig, type Config } from '../config.js';
import { createCliLogger } from './stderr-log.js';
import { openDatabase } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import type { Db } from '../store/session.js';
import { errorLine } from './error-line.js';

export interface CliDeps {
  db: Db;
  config: Config;
  tenant: string;
}

type Run = (args: string[], deps: CliDeps) => Promise<Record<string, unknown>>;

/** Command words → module under src/cli exporting `run`. */
const COMMANDS: Record<string, string> = {
  migrate: './migrate.js',
  import: './import.js',
  'client add': './client-add.js',
  'user add': './user-add.js',
  launch: './launch.js',
  'audit verify': './audit-verify.js',
  'deid report': './deid-report.js',
  'deid rebuild': './deid-rebuild.js',
};

function pickCommand(argv: string[]): { name: string; rest: string[] } {
  const two = argv.slice(0, 2).join(' ');
  if (COMMANDS[two]) return { name: two, rest: argv.slice(2) };
  if (argv[0] && COMMANDS[argv[0]]) return { name: argv[0], rest: argv.slice(1) };
  throw new Error(`unknown command '${argv.slice(0, 2).join(' ')}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
}

/** `--tenant T` applies to every command; it is taken out before the command sees its arguments. */
function takeTenant(args: string[]): { tenant: string; rest: string[] } {
  const rest: string[] = [];
  let tenant = 'default';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--tenant') tenant = args[++i] ?? '';
    else if (args[i].startsWith('--tenant=')) tenant = args[i].slice(9);
    else rest.push(args[i]);
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) throw new Error('--tenant must be 1-64 letters, digits, - or _');
  return { tenant, rest };
}

export async function runCli(argv: string[]): Promise<number> {
  let close: (() => Promise<void>) | undefined;
  try {
    const { name, rest } = pickCommand(argv);
    const { tenant, rest: args } = takeTenant(rest);
    const config = loadConfig();
    // CLI logs go to stderr (stdout carries the one JSON result), quiet unless LOG_LEVEL says otherwise.
    const log = createCliLogger(process.env.LOG_LEVEL ?? 'warn');
    const database = await openDatabase(config, log, { poolSize: 4 }).catch((e: unknown) => {
      // Says which database could not be opened (never the URL itself: it can carry a password).
      const which = config.databaseUrl ? 'the database at DATABASE_URL' : `the embedded PostgreSQL in ${config.dataDir}`;
      throw new Error(`${which} could not be opened: ${errorLine(e, 'no reason given (LOG_LEVEL=debug prints PostgreSQL\'s log on stderr)')}`);
    });
    close = database.close;
    const migrated = await migrate(database.db.pool);
    const mod = (await import(COMMANDS[name])) as { run: Run };
    const result = name === 'migrate' ? { applied: migrated.applied, total: migrated.total } : await mod.run(args, { db: database.db, config, tenant });
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`fhirgate: ${errorLine(e)}\n`);
    return 1;
  } finally {
    await close?.().catch(() => {});
  }
}

const code = await runCli(process.argv.slice(2));
process.exit(code);
