/**
 * Child process of galera.test.ts: dumps one database of one Galera node with the project's
 * dumper (test/support/dump.ts), which reads its server from env TEST_MYSQL_URL at import time.
 *
 *   TEST_MYSQL_URL=mysql://root@127.0.0.1:<port> node dist/test/galera/dump-node.js <database>
 *
 * Prints the MysqlDump ({columns, indexes, indexesExt, fks}) as JSON on stdout.
 */
import { dumpMysql } from '../support/dump.js';

const db = process.argv[2];
if (!db) {
  process.stderr.write('usage: dump-node.js DATABASE (server from env TEST_MYSQL_URL)\n');
  process.exit(2);
}
process.stdout.write(JSON.stringify(await dumpMysql(db)));
