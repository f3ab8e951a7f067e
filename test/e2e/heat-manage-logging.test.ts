/**
 * heat-manage's logging as oslo.log's (issue 18 point 3), through the built CLI on SQLite:
 *  - off a terminal, oslo.log's default line: `2026-12-07 20:15:01.123 4242 INFO heat.db.migration [-] ...`
 *  - every oslo.log option, on the command line and in [DEFAULT]: log_file/log_dir (file written,
 *    nothing on stderr), use_json (oslo JSONFormatter lines), log_date_format, use_syslog (+ facility)
 *    to a Unix datagram socket a python3 receiver binds, debug/--nodebug; log_config_append,
 *    watch_log_file, use_journal, use_eventlog: accepted, said once to have no effect
 *  - on a terminal (util-linux `script` gives it a pty): short lines, one per step
 *  - puppet-heat's cron line (`... >>/var/log/heat/heat-purge_deleted.log 2>&1`): the file holds oslo lines
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEAT_MANAGE, OSLO_LINE, describeRun, logLines, plainLines, runHeat, type HeatResult } from '../support/heat-cli.js';

let dir: string;
let url: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'heat-logging-'));
  url = `sqlite:///${join(dir, 'heat.sqlite')}`;
  const r = await runHeat(['db_sync'], { url, cwd: dir });
  assert.equal(r.code, 0, describeRun(r));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A heat.conf in the test directory, mode 0600 (no "readable by others" warning). */
function conf(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, `[database]\nconnection = ${url}\n${text}`, { mode: 0o600 });
  return p;
}

const run = (args: readonly string[], env: Record<string, string> = {}): Promise<HeatResult> =>
  runHeat(args, { url, cwd: dir, env });

const ok = (r: HeatResult) => {
  assert.equal(r.code, 0, describeRun(r));
  assert.deepEqual(plainLines(r.stderr), [], describeRun(r));
};

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('the oslo.log line off a terminal', () => {
  test('every stderr line of db_sync is one: date, msecs, pid, level, logger name, [-], message', async () => {
    const fresh = `sqlite:///${join(dir, 'fresh.sqlite')}`;
    // an empty database gets 28 in one step (the fresh install); the steps' lines come from 28 -> 30
    assert.equal((await runHeat(['db_sync', '28'], { url: fresh, cwd: dir })).code, 0);
    const r = await runHeat(['db_sync', '30'], { url: fresh, cwd: dir });
    assert.equal(r.code, 0, describeRun(r));
    const all = lines(r.stderr);
    assert.ok(all.length >= 4, describeRun(r));
    for (const l of all) assert.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \d+ (DEBUG|INFO|WARNING|ERROR) heat\.[a-z_.]+ \[-\] \S/);
    assert.match(all[0]!, new RegExp(`^\\S+ \\S+ ${r.pid} INFO heat\\.cmd\\.manage \\[-\\] using database sqlite:///`));
    assert.ok(all.some((l) => / INFO heat\.db\.migration \[-\] 028 -> 029 \(029_event_id_to_uuid\) \.\.\. done in \d+ ms$/.test(l)), r.stderr);
    assert.match(all.at(-1)!, / INFO heat\.db\.migration \[-\] database migrated from 28 to 30 in \d+ ms$/);
    // the clock the line carries is now (local time, like Python's logging)
    const t = logLines(r.stderr)[0]!.time;
    assert.ok(Math.abs(Date.now() - r.ms - t) < 60_000, `line time ${new Date(t).toISOString()}`);
  });

  test('db_version: the number alone on stdout, logs on stderr', async () => {
    const r = await run(['db_version']);
    ok(r);
    assert.equal(r.stdout, '71\n');
    assert.ok(lines(r.stderr).every((l) => OSLO_LINE.test(l)), r.stderr);
  });
});

describe('log_file and log_dir', () => {
  test('--log-file: appended to the file, nothing on stderr; --logfile too', async () => {
    const f = join(dir, 'a.log');
    ok(await run(['--log-file', f, 'db_version']));
    const r = await run(['--logfile', f, 'db_version']);
    ok(r);
    assert.equal(r.stderr, '');
    const got = lines(readFileSync(f, 'utf8'));
    assert.equal(got.filter((l) => /using database/.test(l)).length, 2, got.join('\n'));
    for (const l of got) assert.match(l, OSLO_LINE);
  });

  test('--log-dir alone: DIR/heat-manage.log; [DEFAULT] log_dir + a relative log_file', async () => {
    const d = join(dir, 'logs');
    mkdirSync(d);
    ok(await run(['--log-dir', d, 'db_version']));
    assert.match(readFileSync(join(d, 'heat-manage.log'), 'utf8'), / INFO heat\.cmd\.manage \[-\] using database /);
    const c = conf('dir.conf', `[DEFAULT]\nlog_dir = ${d}\nlog_file = purge.log\n`);
    const r = await runHeat(['--config-file', c, 'purge_deleted', '-g', 'minutes', '60'], { cwd: dir, bare: true });
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stderr, '');
    assert.match(readFileSync(join(d, 'purge.log'), 'utf8'), / INFO heat\.db\.purge \[-\] purge_deleted: deleting what was deleted before /);
  });

  test('an unwritable log file: one ERROR line naming it, exit 1', async () => {
    const r = await run(['--log-file', join(dir, 'no', 'such', 'x.log'), 'db_version']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^ERROR: cannot open the log file .*no\/such\/x\.log/);
  });
});

describe('use_json', () => {
  const jsonLines = (s: string) => lines(s).map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const [how, args, env] of [
    ['--use-json', ['--use-json', 'db_version'], {}],
    ['--log-json (ours)', ['--log-json', 'db_version'], {}],
    ['OS_DEFAULT__USE_JSON=true', ['db_version'], { OS_DEFAULT__USE_JSON: 'true' }],
  ] as const) {
    test(`${how}: every line is an oslo JSONFormatter object`, async () => {
      const r = await run(args, env);
      ok(r);
      const js = jsonLines(r.stderr);
      assert.ok(js.length >= 1);
      for (const j of js) {
        assert.equal(typeof j.message, 'string');
        assert.match(String(j.asctime), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        assert.equal(j.process, r.pid);
        assert.ok(['DEBUG', 'INFO', 'WARNING', 'ERROR'].includes(String(j.levelname)));
        assert.equal(typeof j.extra, 'object');
      }
      const using = js.find((j) => /^using database/.test(String(j.message)))!;
      assert.equal(using.name, 'heat.cmd.manage');
      assert.equal((using.extra as { source: string }).source, 'env OS_DATABASE__CONNECTION');
    });
  }

  test('use_json = true in heat.conf, --nouse-json turns it off', async () => {
    const c = conf('json.conf', '[DEFAULT]\nuse_json = true\n');
    const j = await runHeat(['--config-file', c, 'db_version'], { cwd: dir, bare: true });
    assert.equal(j.code, 0, describeRun(j));
    assert.ok(lines(j.stderr).every((l) => JSON.parse(l)), j.stderr);
    const t = await runHeat(['--config-file', c, '--nouse-json', 'db_version'], { cwd: dir, bare: true });
    assert.equal(t.code, 0, describeRun(t));
    assert.ok(lines(t.stderr).every((l) => OSLO_LINE.test(l)), t.stderr);
  });
});

describe('log_date_format', () => {
  test('--log-date-format and [DEFAULT] log_date_format shape the date; the msecs follow', async () => {
    const r = await run(['--log-date-format', '%d/%b/%Y:%H.%M.%S', 'db_version']);
    assert.equal(r.code, 0, describeRun(r)); // (plainLines knows only the default date format)
    for (const l of lines(r.stderr)) assert.match(l, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d\.\d\d\.\d\d\.\d{3} \d+ INFO heat\./);
    const c = conf('date.conf', '[DEFAULT]\nlog_date_format = %H:%M:%S\n');
    const f = await runHeat(['--config-file', c, 'db_version'], { cwd: dir, bare: true });
    assert.equal(f.code, 0, describeRun(f));
    for (const l of lines(f.stderr)) assert.match(l, /^\d\d:\d\d:\d\d\.\d{3} \d+ INFO heat\./);
  });
});

describe('debug', () => {
  test('-d: DEBUG lines (the SQL); [DEFAULT] debug = true; --nodebug wins over the file', async () => {
    const d = await run(['-d', 'db_version']);
    ok(d);
    assert.ok(lines(d.stderr).some((l) => / DEBUG heat\.db\.migration \[-\] SQL \{"sql":/.test(l)), d.stderr);
    const c = conf('debug.conf', '[DEFAULT]\ndebug = true\n');
    const f = await runHeat(['--config-file', c, 'db_version'], { cwd: dir, bare: true });
    assert.ok(lines(f.stderr).some((l) => / DEBUG /.test(l)), f.stderr);
    const n = await runHeat(['--config-file', c, '--nodebug', 'db_version'], { cwd: dir, bare: true });
    assert.equal(n.code, 0, describeRun(n));
    assert.ok(!lines(n.stderr).some((l) => / DEBUG /.test(l)), n.stderr);
    assert.ok(lines(n.stderr).some((l) => / INFO /.test(l)), n.stderr);
  });
});

describe('options accepted with no effect here', () => {
  test('--log-config-append, --watch-log-file, --use-journal, --use-eventlog: one notice naming them, then the usual run', async () => {
    const r = await run(['--log-config-append', '/etc/heat/logging.conf', '--watch-log-file', '--use-journal', '--use-eventlog', 'db_version']);
    ok(r);
    assert.equal(r.stdout, '71\n');
    const notices = lines(r.stderr).filter((l) => /no effect here/.test(l));
    assert.equal(notices.length, 1, r.stderr);
    assert.match(notices[0]!, / WARNING heat\.cmd\.manage \[-\] /);
    for (const o of ['--log-config-append', '--watch-log-file', '--use-journal', '--use-eventlog']) assert.ok(notices[0]!.includes(o), `${o} named: ${notices[0]}`);
  });

  test('the same in [DEFAULT] (log_config as the old name), and nothing said when they are off', async () => {
    const c = conf('inert.conf', '[DEFAULT]\nlog_config = /etc/heat/logging.conf\nuse_journal = true\nwatch_log_file = false\n');
    const r = await runHeat(['--config-file', c, 'db_version'], { cwd: dir, bare: true });
    assert.equal(r.code, 0, describeRun(r));
    const notices = lines(r.stderr).filter((l) => /no effect here/.test(l));
    assert.equal(notices.length, 1, r.stderr);
    assert.match(notices[0]!, /\[DEFAULT\] log_config \(.*inert\.conf:\d+\)/);
    assert.match(notices[0]!, /\[DEFAULT\] use_journal/);
    assert.ok(!/watch_log_file/.test(notices[0]!));
    const quiet = await run(['--nouse-journal', 'db_version']);
    assert.ok(!/no effect here/.test(quiet.stderr), quiet.stderr);
  });
});

describe('use_syslog', () => {
  const python = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { encoding: 'utf8' }).status === 0;

  /** A python3 process bound to a Unix datagram socket: prints each datagram as a JSON string line. */
  function receiver(path: string): { ready: Promise<void>; stop: () => Promise<string[]> } {
    const code = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
s.settimeout(30)
try:
    while True:
        print(json.dumps(s.recv(65536).decode()), flush=True)
except (socket.timeout, KeyboardInterrupt):
    pass
`;
    const p = spawn('python3', ['-c', code, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let onReady: () => void;
    const ready = new Promise<void>((res) => (onReady = res));
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.startsWith('ready\n')) onReady();
    });
    const closed = new Promise<void>((res) => p.on('close', () => res()));
    return {
      ready,
      async stop() {
        await new Promise((res) => setTimeout(res, 300)); // the last datagrams in flight
        p.kill('SIGINT');
        await closed;
        return lines(out).slice(1).map((l) => JSON.parse(l) as string);
      },
    };
  }

  test('--use-syslog: every record as a datagram `<PRI>Mmm dd hh:mm:ss heat-manage: <oslo line>` (LOG_USER), stderr as before', { skip: !python && 'no python3' }, async () => {
    const sock = join(dir, 'log.sock');
    const rx = receiver(sock);
    await rx.ready;
    const r = await run(['--use-syslog', 'db_version'], { HEAT_MANAGE_SYSLOG_SOCKET: sock });
    const got = await rx.stop();
    ok(r);
    assert.equal(r.stdout, '71\n');
    const err = lines(r.stderr);
    assert.equal(got.length, err.length, `one datagram per stderr line: ${JSON.stringify(got)}\n${r.stderr}`);
    got.forEach((g, i) => {
      const m = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d heat-manage: (.*)$/.exec(g);
      assert.ok(m, g);
      assert.equal(m[1], '14', 'user.info');
      assert.equal(m[2], err[i]);
    });
  });

  test('[DEFAULT] use_syslog + syslog_log_facility = LOG_LOCAL0: local0 priorities (warning 132, info 134)', { skip: !python && 'no python3' }, async () => {
    const sock = join(dir, 'log2.sock');
    const rx = receiver(sock);
    await rx.ready;
    const c = conf('syslog.conf', '[DEFAULT]\nuse_syslog = true\nsyslog_log_facility = LOG_LOCAL0\n');
    const r = await runHeat(['--config-file', c, '--use-journal', 'db_version'], { cwd: dir, bare: true, env: { HEAT_MANAGE_SYSLOG_SOCKET: sock } });
    const got = await rx.stop();
    assert.equal(r.code, 0, describeRun(r));
    const pri = got.map((g) => /^<(\d+)>/.exec(g)![1]);
    assert.ok(pri.includes('132') && pri.includes('134'), JSON.stringify(got));
    assert.ok(got.some((g) => / WARNING heat\.cmd\.manage \[-\] accepted for compatibility/.test(g)));
  });

  test('no socket at the path: one warning, the run goes on; a bad facility: exit 1 naming the choices', async () => {
    const r = await run(['--use-syslog', 'db_version'], { HEAT_MANAGE_SYSLOG_SOCKET: join(dir, 'absent.sock') });
    ok(r);
    assert.equal(lines(r.stderr).filter((l) => /no syslog socket at .*absent\.sock/.test(l)).length, 1, r.stderr);
    const b = await run(['--use-syslog', '--syslog-log-facility', 'LOG_NOPE', 'db_version']);
    assert.equal(b.code, 1, describeRun(b));
    assert.match(b.stderr, /^ERROR: --syslog-log-facility: \[DEFAULT\] syslog_log_facility is 'LOG_NOPE'; syslog facility must be one of: LOG_KERN, LOG_USER, /);
  });
});

describe('a person or a cron job reading it', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;

  test('on a terminal: one short line per step, no oslo prefix', { skip: !hasScript && 'no script(1)' }, async () => {
    const fresh = join(dir, 'tty.sqlite');
    // an empty database gets 28 in one step (the fresh install); the steps' lines come from 28 -> 30
    assert.equal((await runHeat(['db_sync', '28'], { url: `sqlite:///${fresh}`, cwd: dir })).code, 0);
    const cmd = `${process.execPath} ${HEAT_MANAGE} --config-file /dev/null db_sync 30`;
    const p = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, OS_DATABASE__CONNECTION: `sqlite:///${fresh}`, TERM: 'dumb' },
      timeout: 60_000,
    });
    assert.equal(p.status, 0, p.stdout + p.stderr);
    const shown = p.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n/).filter((l) => l.trim() !== '');
    assert.ok(shown.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: 028 -> 029 \(029_event_id_to_uuid\) \.\.\. done in \d+ ms$/.test(l)), shown.join('\n'));
    assert.ok(shown.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: migrated 28 -> 30: 2 steps, /.test(l)), shown.join('\n'));
    assert.ok(!shown.some((l) => OSLO_LINE.test(l)), shown.join('\n'));
  });

  test("puppet-heat's cron line appends oslo lines to its log file", async () => {
    const log = join(dir, 'heat-purge_deleted.log');
    const env = { ...process.env, OS_DATABASE__CONNECTION: url, HOME: dir };
    for (let i = 0; i < 2; i++) {
      const p = spawnSync('/bin/sh', ['-c', `${process.execPath} ${HEAT_MANAGE} --config-file /dev/null purge_deleted -g days -- 1 >>${log} 2>&1`], { env, cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(p.status, 0, readFileSync(log, 'utf8'));
    }
    const got = lines(readFileSync(log, 'utf8'));
    assert.ok(got.length >= 4, got.join('\n'));
    for (const l of got) assert.match(l, OSLO_LINE);
    assert.equal(got.filter((l) => / INFO heat\.db\.purge \[-\] purge_deleted: deleting what was deleted before /.test(l)).length, 2);
    assert.ok(!existsSync(join(dir, 'heat.sqlite-journal')));
  });
});
