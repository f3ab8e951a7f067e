/**
 * The commands of `migrate` as data: parameters (in positional order), which are required, the
 * usage line and the help text. The parser and `help` read this table; nothing else describes a
 * command.
 */
import { DEFAULT_LOCK_TIMEOUT_S } from '../defaults.js';

export interface CommandDef {
  readonly name: string;
  readonly params: readonly string[];
  readonly required: readonly string[];
  readonly usage: string;
  /** First line is the one-line summary of the top-level usage. */
  readonly help: string;
  /** Not implemented here (SQLAlchemy model commands): rejected with a clear message. */
  readonly unsupported?: boolean;
}

const URL_HELP = 'URL is a SQLAlchemy-style database URL: mysql://user:pass@host/db, postgresql://..., sqlite:///file.db';

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'create',
    params: ['repository', 'name'],
    required: ['repository', 'name'],
    usage: 'create REPOSITORY_PATH NAME [--table=TABLE]',
    help: 'Create an empty repository at the specified path.\n\nYou can specify the version_table to be used; by default, it is\n\'migrate_version\'.  This table is created in all version-controlled\ndatabases.',
  },
  {
    name: 'script',
    params: ['description', 'repository'],
    required: ['description', 'repository'],
    usage: 'script DESCRIPTION REPOSITORY_PATH',
    help: 'Create an empty change script using the next unused version number\nappended with the given description.\n\nFor instance, manage.js script "Add initial tables" creates:\nrepository/versions/001_Add_initial_tables.ts',
  },
  {
    name: 'script_sql',
    params: ['database', 'description', 'repository'],
    required: ['database', 'description', 'repository'],
    usage: 'script_sql DATABASE DESCRIPTION REPOSITORY_PATH',
    help: 'Create empty change SQL scripts for given DATABASE, where DATABASE\nis either specific (\'postgresql\', \'mysql\', \'oracle\', \'sqlite\', etc.)\nor generic (\'default\').\n\nFor instance, manage.js script_sql postgresql description creates:\nrepository/versions/001_description_postgresql_upgrade.sql and\nrepository/versions/001_description_postgresql_downgrade.sql',
  },
  {
    name: 'version',
    params: ['repository'],
    required: ['repository'],
    usage: 'version REPOSITORY_PATH',
    help: 'Display the latest version available in a repository.',
  },
  {
    name: 'db_version',
    params: ['url', 'repository'],
    required: ['url', 'repository'],
    usage: 'db_version URL REPOSITORY_PATH',
    help: `Show the current version of the repository with the given\nconnection string, under version control of the specified\nrepository.\n\n${URL_HELP}`,
  },
  {
    name: 'source',
    params: ['version', 'dest', 'repository'],
    required: ['version'],
    usage: 'source VERSION [DESTINATION] --repository=REPOSITORY_PATH',
    help: 'Display the script file of the given VERSION (printed, or written to\nDESTINATION when given).',
  },
  {
    name: 'version_control',
    params: ['url', 'repository', 'version'],
    required: ['url', 'repository'],
    usage: 'version_control URL REPOSITORY_PATH [VERSION]',
    help: `Mark a database as under this repository's version control.\n\nOnce a database is under version control, schema changes should\nonly be done via change scripts in this repository.\n\nThis creates the table version_table in the database.\n\nThe url should be any valid SQLAlchemy connection string.\n\nBy default, the database begins at version 0 and is assumed to be\nempty.  If the database is not empty, you may specify a version at\nwhich to begin instead.  No attempt is made to verify this\nversion's correctness - the database schema is expected to be\nidentical to what it would be if the database were created from\nscratch.`,
  },
  {
    name: 'upgrade',
    params: ['url', 'repository', 'version'],
    required: ['url', 'repository'],
    usage: 'upgrade URL REPOSITORY_PATH [VERSION] [--preview_py|--preview_sql]',
    help: `Upgrade a database to a later version.\n\nThis runs the upgrade() function defined in your change scripts.\n\nBy default, the database is updated to the latest available\nversion. You may specify a version instead, if you wish.\n\nYou may preview the SQL commands that this command will run with\n--preview_sql (nothing is executed; a step that reads data says so),\nor the script source with --preview_py.\n\nConcurrent runs against one database are serialised by a lock\n(--lock_timeout=SECONDS, default ${DEFAULT_LOCK_TIMEOUT_S}); each step is applied once.\n\nWith --fresh, an empty database at the repository's initial version gets\nthe target version's schema directly from REPOSITORY_PATH/schema/<dialect>/<NNN>.tsv\n(docs/CATALOG.md) when the repository has it, instead of running every step.`,
  },
  {
    name: 'downgrade',
    params: ['url', 'repository', 'version'],
    required: ['url', 'repository', 'version'],
    usage: 'downgrade URL REPOSITORY_PATH VERSION [--preview_py|--preview_sql]',
    help: 'Downgrade a database to an earlier version.\n\nThis is the reverse of upgrade; this runs the downgrade() function\ndefined in your change scripts.\n\nYou may preview the SQL commands that this command will run with\n--preview_sql, or the script source with --preview_py.',
  },
  {
    name: 'drop_version_control',
    params: ['url', 'repository'],
    required: ['url', 'repository'],
    usage: 'drop_version_control URL REPOSITORY_PATH',
    help: "Removes version control from a database: deletes this repository's\nrow from the version table, and the table itself when no other\nrepository's row is left.",
  },
  {
    name: 'manage',
    params: ['file'],
    required: ['file'],
    usage: 'manage FILENAME [VARIABLES...]',
    help: 'Creates a script that runs Migrate with a set of default values.\n\nFor example::\n\n    migrate manage manage.js --repository=/path/to/repository --url=sqlite:///project.db\n\nwould create the script manage.js. The following two commands would\nthen have exactly the same results::\n\n    node manage.js version\n    migrate version --repository=/path/to/repository',
  },
  {
    name: 'test',
    params: ['url', 'repository'],
    required: ['url', 'repository'],
    usage: 'test URL REPOSITORY_PATH [VERSION]',
    help: 'Performs the upgrade and downgrade option on the given\ndatabase. This is not a real test and may leave the database in\na bad state. You should therefore better run the test on a copy\nof your database.',
  },
  {
    name: 'compare_model_to_db',
    params: ['url', 'repository', 'model'],
    required: ['url', 'repository', 'model'],
    usage: 'compare_model_to_db URL REPOSITORY_PATH MODEL',
    help: 'Compare the current model (assumed to be a module level variable\nof type sqlalchemy.MetaData) against the current database.\n\nNOTE: This is EXPERIMENTAL and not supported by this implementation.',
    unsupported: true,
  },
  {
    name: 'create_model',
    params: ['url', 'repository'],
    required: ['url', 'repository'],
    usage: 'create_model URL REPOSITORY_PATH [DECLERATIVE=True]',
    help: 'Dump the current database as a Python model to stdout.\n\nNOTE: This is EXPERIMENTAL and not supported by this implementation.',
    unsupported: true,
  },
  {
    name: 'make_update_script_for_model',
    params: ['url', 'repository', 'oldmodel', 'model'],
    required: ['url', 'repository', 'oldmodel', 'model'],
    usage: 'make_update_script_for_model URL OLDMODEL MODEL REPOSITORY_PATH',
    help: 'Create a script changing the old Python model to the new (current)\nPython model, sending to stdout.\n\nNOTE: This is EXPERIMENTAL and not supported by this implementation.',
    unsupported: true,
  },
  {
    name: 'update_db_from_model',
    params: ['url', 'repository', 'model'],
    required: ['url', 'repository', 'model'],
    usage: 'update_db_from_model URL REPOSITORY_PATH MODEL',
    help: 'Modify the database to match the structure of the current Python\nmodel.\n\nNOTE: This is EXPERIMENTAL and not supported by this implementation.',
    unsupported: true,
  },
  {
    name: 'help',
    params: ['cmd'],
    required: [],
    usage: 'help COMMAND',
    help: 'Displays help on a given command.',
  },
];

export const ALIASES: Readonly<Record<string, string>> = { s: 'script', vc: 'version_control', dbv: 'db_version', v: 'version' };

export function findCommand(name: string): CommandDef | undefined {
  const real = ALIASES[name] ?? name;
  return COMMANDS.find((c) => c.name === real);
}

export function summary(c: CommandDef): string {
  return c.help.split('\n')[0]!;
}
