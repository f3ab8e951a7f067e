/**
 * heat-manage's grammar (heat/cmd/grammar.ts), the time helpers and the printing rules, without a
 * database: argparse's spellings, positionals after or before options, negative numbers as
 * positionals, usage errors, and Python's str(datetime) / "%-Ns".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from '../../heat/cmd/grammar.js';
import { pad, purgeTimeLine } from '../../heat/cmd/commands.js';
import { parseNaive, pyText, sqlText, resolveNow, MIN_MICROS } from '../../heat/common/timeutils.js';
import { serviceStatus } from '../../heat/db/service.js';
import { DEFAULT_BATCH_SIZE } from '../../heat/db/purge.js';
import { members, objectText, asciiJson } from '../../heat/common/json-text.js';

function run(argv: string[]) {
  const r = parseArgs(argv);
  assert.equal(r.kind, 'run', JSON.stringify(r));
  return (r as Extract<typeof r, { kind: 'run' }>).parsed;
}
function usage(argv: string[]): string {
  const r = parseArgs(argv);
  assert.equal(r.kind, 'usage', JSON.stringify(r));
  return (r as Extract<typeof r, { kind: 'usage' }>).message;
}

describe('grammar', () => {
  test('purge_deleted: options before or after the positional, --opt=value, short -gVALUE', () => {
    for (const argv of [
      ['purge_deleted', '--granularity', 'hours', '24'],
      ['purge_deleted', '24', '-g', 'hours'],
      ['purge_deleted', '--granularity=hours', '24'],
      ['purge_deleted', '-ghours', '24'],
    ]) {
      const p = run(argv);
      assert.equal(p.positionals.age, '24');
      assert.equal(p.options.granularity, 'hours');
    }
  });
  test('purge_deleted -1 reaches the AGE check (a positional, not an unknown option)', () => {
    assert.equal(run(['purge_deleted', '-1']).positionals.age, '-1');
  });
  test('global options before the command; -p/-b/--dry-run', () => {
    const p = run(['--config-file', 'a', '--config-file', 'b', '-d', 'purge_deleted', '-p', 'tenant-1', '-b', '50', '--dry-run']);
    assert.deepEqual(p.globals.configFile, ['a', 'b']);
    assert.equal(p.globals.debug, true);
    assert.equal(p.options.projectId, 'tenant-1');
    assert.equal(p.options.batchSize, '50');
    assert.equal(p.options.dryRun, true);
  });
  test('usage errors name the argument and the accepted values', () => {
    assert.match(usage(['purge_deleted', '-g', 'weeks']), /granularity.*weeks.*days, hours, minutes, seconds/);
    assert.match(usage(['service']), /an action is required: list or clean/);
    assert.match(usage(['service', 'restart']), /list, clean/);
    assert.match(usage(['update_params']), /encrypt or decrypt/);
    assert.match(usage(['update_params', 'rotate']), /encrypt, decrypt/);
    assert.match(usage(['resource_data_list']), /resource_id/);
    assert.match(usage(['resource_data_list', '1', '2']), /unexpected argument '2'/);
    assert.match(usage(['purge_deleted', '-p', '']), /project-id/);
    assert.match(usage(['frobnicate']), /unknown command 'frobnicate'/);
    assert.match(usage(['purge_deleted', '--frob']), /unknown option '--frob'/);
    assert.match(usage([]), /command is required/);
  });
  test('--help after a command is that command\'s help; --version', () => {
    for (const c of ['purge_deleted', 'update_params', 'resource_data_list', 'service', 'db_sync']) {
      const r = parseArgs([c, '--help']);
      assert.equal(r.kind, 'help');
      assert.match((r as { text: string }).text, new RegExp(`usage: heat-manage .*${c}`));
    }
    const h = parseArgs(['purge_deleted', '-h']) as { text: string };
    for (const s of ['--granularity', '{days,hours,minutes,seconds}', '--project-id', '--batch_size', '--dry-run', 'age']) assert.ok(h.text.includes(s), s);
    assert.ok(h.text.includes(`(default: ${DEFAULT_BATCH_SIZE})`), 'the help states the batch size the code uses');
    assert.equal(parseArgs(['--version']).kind, 'version');
  });
});

describe('AGE and the time line (SPEC §2.1, §2.2)', () => {
  const now = parseNaive('2016-04-07 12:00:00')!;
  test('texts and order of the checks', () => {
    for (const bad of ['1.5', 'abc', '', '1e3']) assert.throws(() => purgeTimeLine(now, bad, 'days'), /^Error: age should be an integer$|age should be an integer/);
    assert.throws(() => purgeTimeLine(now, '-1', 'days'), /age should be a positive integer/);
    assert.throws(() => purgeTimeLine(now, '736061', 'days'), /date value out of range/);
    assert.throws(() => purgeTimeLine(now, '9'.repeat(40), 'days'), /date value out of range/);
    assert.equal(pyText(purgeTimeLine(now, '736060', 'days')), '0001-01-01 12:00:00');
    assert.equal(purgeTimeLine(now, ' +07 ', 'days'), purgeTimeLine(now, '7', 'days'));
    assert.equal(purgeTimeLine(now, '0', 'days'), now);
    assert.equal(pyText(purgeTimeLine(now, '36', 'hours')), '2016-04-06 00:00:00');
    assert.ok(MIN_MICROS < 0n);
  });
});

describe('time text (SPEC §1.3, §1.4)', () => {
  test('parse and print with microseconds, Python style', () => {
    const t = parseNaive('2019-05-02 07:59:40.125')!;
    assert.equal(sqlText(t), '2019-05-02 07:59:40.125000');
    assert.equal(pyText(t), '2019-05-02 07:59:40.125000');
    assert.equal(pyText(parseNaive('2019-05-02 07:59:40.000000')!), '2019-05-02 07:59:40');
    assert.equal(pyText(parseNaive('0001-01-01 00:00:00')!), '0001-01-01 00:00:00');
    assert.equal(pyText(parseNaive('9999-12-31 23:59:59.999999')!), '9999-12-31 23:59:59.999999');
    assert.equal(parseNaive('2021-02-30 00:00:00'), undefined);
    assert.equal(parseNaive('1970-01-01 00:00:01'), 1_000_000n);
  });
  test('HEAT_MANAGE_NOW: both forms; malformed is an error', () => {
    assert.equal(resolveNow('2020-06-01 00:00:00'), parseNaive('2020-06-01 00:00:00'));
    assert.equal(pyText(resolveNow('2020-06-01 00:00:00.000001')), '2020-06-01 00:00:00.000001');
    for (const bad of ['2020-06-01', 'yesterday', '2020-06-01T00:00:00', '2020-13-01 00:00:00']) assert.throws(() => resolveNow(bad));
    assert.equal(resolveNow(undefined, 1000), 1_000_000n);
  });
});

describe('printing and status rules', () => {
  test('%-Ns pads to code points and never truncates; NULL is None', () => {
    assert.equal(pad('Zürich ✓', 10), 'Zürich ✓  ');
    assert.equal(pad('😀', 3), '😀  ');
    assert.equal(pad('ctl-2.cloud.example.net', 16), 'ctl-2.cloud.example.net');
    assert.equal(pad(null, 6), 'None  ');
  });
  test('service status: <= report_interval is up, created_at when updated_at is NULL, both NULL is down', () => {
    const now = parseNaive('2020-01-01 00:01:00')!;
    assert.equal(serviceStatus(now, 60, parseNaive('2020-01-01 00:00:00')!, null), 'up');
    assert.equal(serviceStatus(now, 60, parseNaive('2019-12-31 23:59:59.999999')!, null), 'down');
    assert.equal(serviceStatus(now, 0, now, null), 'up');
    assert.equal(serviceStatus(now, 60, parseNaive('2030-01-01 00:00:00')!, null), 'up');
    assert.equal(serviceStatus(now, 60, null, parseNaive('2020-01-01 00:00:30')!), 'up');
    assert.equal(serviceStatus(now, 60, null, null), 'down');
  });
  test('JSON members keep raw text; output is ASCII-only', () => {
    assert.deepEqual(members('{ "a" : 12345678901234567890 , "b":{"c":[1,"x\\"y"]}}'), [
      ['a', '12345678901234567890'],
      ['b', '{"c":[1,"x\\"y"]}'],
    ]);
    assert.equal(members('[1]'), null);
    assert.equal(asciiJson('"😀é"'), '"\\ud83d\\ude00\\u00e9"');
    assert.deepEqual(JSON.parse(objectText([['k', '"😀"']])), { k: '😀' });
  });
});
