/**
 * heat/log: oslo.log's line shapes (text, JSON, terminal), Python's strftime for log_date_format,
 * syslog priorities and facilities, and the logger's level, names and file destination.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { osloJson, osloLine, syslogFacility, syslogPriority, terminalLine, type LogRecord } from '../../heat/log/format.js';
import { createHeatLogger } from '../../heat/log/index.js';
import { strftime } from '../../heat/log/strftime.js';
import { parseArgs } from '../../heat/cmd/grammar.js';

// 2026-12-07 20:15:01.123 local time
const T = new Date(2026, 11, 7, 20, 15, 1, 123).getTime();
const rec = (over: Partial<LogRecord> = {}): LogRecord => ({
  time: T,
  level: 'info',
  name: 'heat.db.migration',
  msg: '027 -> 028 (028_havana) ... done in 41 ms',
  fields: { from: 27, to: 28 },
  pid: 4242,
  ...over,
});

describe('oslo.log line shapes', () => {
  test("text: logging_default_format_string with the default date format", () => {
    assert.equal(osloLine(rec()), '2026-12-07 20:15:01.123 4242 INFO heat.db.migration [-] 027 -> 028 (028_havana) ... done in 41 ms');
  });

  test('text: WARNING/ERROR/DEBUG level names; err ends the line; DEBUG carries its fields; passwords masked', () => {
    assert.match(osloLine(rec({ level: 'warn', fields: {} })), / 4242 WARNING heat\.db\.migration \[-\] /);
    assert.equal(osloLine(rec({ level: 'error', msg: 'unexpected error', fields: { err: 'boom' } })).split(' [-] ')[1], 'unexpected error: boom');
    assert.equal(
      osloLine(rec({ level: 'debug', msg: 'SQL', fields: { sql: 'SELECT 1', url: { password: 'sekret', host: 'db' } } })).split(' [-] ')[1],
      'SQL {"sql":"SELECT 1","url":{"password":"***","host":"db"}}',
    );
    assert.ok(!osloLine(rec({ level: 'debug', fields: { password: 'sekret' } })).includes('sekret'));
  });

  test('text: log_date_format applies to the date part, the milliseconds stay', () => {
    assert.match(osloLine(rec(), '%d/%m/%y %H:%M'), /^07\/12\/26 20:15\.123 4242 INFO /);
  });

  test("JSON: JSONFormatter's keys; the fields in extra", () => {
    const j = JSON.parse(osloJson(rec({ fields: { from: 27, to: 28, password: 'x' } }), { hostname: 'h1', startedAt: T - 5 })) as Record<string, unknown>;
    assert.equal(j.message, '027 -> 028 (028_havana) ... done in 41 ms');
    assert.equal(j.asctime, '2026-12-07 20:15:01');
    assert.equal(j.name, 'heat.db.migration');
    assert.equal(j.levelname, 'INFO');
    assert.equal(j.levelno, 20);
    assert.equal(j.created, T / 1000);
    assert.equal(j.msecs, 123);
    assert.equal(j.relative_created, 5);
    assert.equal(j.process, 4242);
    assert.equal(j.hostname, 'h1');
    assert.equal(j.traceback, null);
    assert.deepEqual(j.extra, { from: 27, to: 28, password: '***' });
    for (const k of ['msg', 'args', 'process_name', 'error_summary', 'context']) assert.ok(k in j, k);
  });

  test('terminal: [HH:MM:SS.mmm] LEVEL: message', () => {
    assert.equal(terminalLine(rec()), '[20:15:01.123] INFO: 027 -> 028 (028_havana) ... done in 41 ms');
    assert.equal(terminalLine(rec({ level: 'warn' }), true), '[20:15:01.123] \x1b[33mWARN\x1b[39m: 027 -> 028 (028_havana) ... done in 41 ms');
  });
});

describe("Python's strftime", () => {
  const d = new Date(2026, 0, 5, 9, 3, 7);
  test('the usual directives', () => {
    assert.equal(strftime('%Y-%m-%d %H:%M:%S', d), '2026-01-05 09:03:07');
    assert.equal(strftime('%a %A %b %B %j %I%p %y %e|%%|%Q', d), 'Mon Monday Jan January 005 09AM 26  5|%|%Q');
    assert.match(strftime('%z', d), /^[+-]\d{4}$/);
  });
});

describe('syslog', () => {
  test("facilities by oslo's names, priority = facility * 8 + severity", () => {
    assert.equal(syslogFacility('LOG_USER'), 1);
    assert.equal(syslogFacility('local0'), 16);
    assert.equal(syslogFacility('LOG_LOCAL7'), 23);
    assert.equal(syslogFacility('LOG_NOPE'), undefined);
    assert.equal(syslogPriority(1, 'info'), 14);
    assert.equal(syslogPriority(16, 'warn'), 132);
    assert.equal(syslogPriority(1, 'error'), 11);
    assert.equal(syslogPriority(1, 'debug'), 15);
  });
});

describe('createHeatLogger', () => {
  const base = { level: 'info', file: null, json: false, dateFormat: '%Y-%m-%d %H:%M:%S', syslog: null } as const;

  test('level: debug lines only at debug; names per module; synchronous writes', async () => {
    const out: string[] = [];
    const log = createHeatLogger(base, { stderr: (s) => out.push(s), now: () => T, pid: 7 });
    log.debug('hidden');
    log.named('heat.db.purge').info({ rows: 3 }, 'purged');
    log.child!({ name: 'heat.db.service' }).warn('down');
    assert.deepEqual(out, [
      '2026-12-07 20:15:01.123 7 INFO heat.db.purge [-] purged\n',
      '2026-12-07 20:15:01.123 7 WARNING heat.db.service [-] down\n',
    ]);
    await log.close();
    log.info('after close');
    assert.equal(out.length, 2);
    const dbg: string[] = [];
    const d = createHeatLogger({ ...base, level: 'debug' }, { stderr: (s) => dbg.push(s), now: () => T, pid: 7 });
    d.debug({ sql: 'SELECT 1' }, 'SQL');
    assert.deepEqual(dbg, ['2026-12-07 20:15:01.123 7 DEBUG heat.cmd.manage [-] SQL {"sql":"SELECT 1"}\n']);
  });

  test('a terminal gets short lines, unless JSON was asked', () => {
    const out: string[] = [];
    createHeatLogger(base, { stderr: (s) => out.push(s), terminal: true, now: () => T }).info('hi');
    createHeatLogger({ ...base, json: true }, { stderr: (s) => out.push(s), terminal: true, now: () => T }).info('hi');
    assert.match(out[0]!, /^\[20:15:01\.123\] .*INFO.*: hi\n$/);
    assert.equal((JSON.parse(out[1]!) as { message: string }).message, 'hi');
  });

  test('a file: appended, nothing on stderr; an unwritable one throws at creation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heat-log-'));
    try {
      const file = join(dir, 'x.log');
      const out: string[] = [];
      for (const m of ['one', 'two']) {
        const log = createHeatLogger({ ...base, file }, { stderr: (s) => out.push(s), terminal: true, now: () => T, pid: 1 });
        log.info(m);
        await log.close();
      }
      assert.deepEqual(out, []);
      assert.equal(readFileSync(file, 'utf8'), '2026-12-07 20:15:01.123 1 INFO heat.cmd.manage [-] one\n2026-12-07 20:15:01.123 1 INFO heat.cmd.manage [-] two\n');
      assert.throws(() => createHeatLogger({ ...base, file: join(dir, 'no', 'such', 'x.log') }, { stderr: () => {} }), /ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("heat-manage's grammar: oslo.log's options", () => {
  const globals = (argv: string[]) => {
    const r = parseArgs(argv);
    assert.equal(r.kind, 'run', JSON.stringify(r));
    return (r as { parsed: { globals: Record<string, unknown> } }).parsed.globals;
  };
  test('every option parses, with its deprecated names and --no forms', () => {
    assert.deepEqual(
      globals([
        '--logfile', 'a.log', '--logdir=/var/log/heat', '--use-json', '--use-syslog', '--syslog-log-facility', 'LOG_LOCAL0',
        '--log-date-format', '%H:%M', '--log-config', '/etc/heat/logging.conf', '--watch-log-file', '--use-journal',
        '--use-eventlog', '--nodebug', '--noverbose', 'db_version',
      ]),
      {
        logFile: 'a.log', logDir: '/var/log/heat', useJson: true, useSyslog: true, syslogLogFacility: 'LOG_LOCAL0', logDateFormat: '%H:%M',
        logConfigAppend: '/etc/heat/logging.conf', watchLogFile: true, useJournal: true, useEventlog: true, debug: false, verbose: false,
      },
    );
    assert.deepEqual(globals(['--log-file=b', '--log-dir', 'd', '--log-config-append', 'c', '--nouse-json', '--nouse-syslog', 'db_sync']), {
      logFile: 'b', logDir: 'd', logConfigAppend: 'c', useJson: false, useSyslog: false,
    });
  });
  test('--no on a string option or an unknown --no word is a usage error', () => {
    assert.equal(parseArgs(['--nolog-file', 'db_version']).kind, 'usage');
    assert.equal(parseArgs(['--nosuch', 'db_version']).kind, 'usage');
    assert.equal(parseArgs(['--nodebug=1', 'db_version']).kind, 'usage');
  });
});
