/**
 * heat-manage's progress output (heat/cmd/progress.ts): on a terminal one short line per step, a
 * bar only for steps that report progress and run past a second, a one-line summary; off a
 * terminal the JSON fields as before plus throttled progress events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barLine, stepReporter } from '../../heat/cmd/progress.js';
import type { Logger } from '../../migrate/script/contract.js';

function capture() {
  const logs: { obj?: unknown; msg: string }[] = [];
  const rec = (a: unknown, b?: unknown) => void logs.push(typeof a === 'string' ? { msg: a } : { obj: a, msg: String(b) });
  const logger = { info: rec, warn: rec, debug: rec, error: rec } as Logger;
  let screen = '';
  return { logs, logger, terminal: { write: (s: string) => void (screen += s), columns: 80 }, screen: () => screen };
}

const step = { from: 36, to: 37, script: 'versions/037_migrate_hot_template.ts' };

test('barLine: count, rate and ETA, fitted to the terminal width', () => {
  const line = barLine('036 -> 037', 2500, 10000, 2, 80);
  assert.match(line, /^ {2}036 -> 037 \[#+\.+\] 2 500\/10 000 {2}1 250\/s {2}ETA 6\.0 s$/);
  assert.ok(line.length < 80);
  assert.equal(barLine('036 -> 037', 10, undefined, 1, 80), '  036 -> 037 10  10/s', 'no total: no bar, no ETA');
  assert.ok(barLine('036 -> 037', 1, 3, 1, 30).length <= 29);
});

test('on a terminal: no bar in the first second, then at most every 100 ms; one short line per step; a summary', () => {
  let t = 0;
  const c = capture();
  const r = stepReporter({ logger: c.logger, terminal: c.terminal, now: () => t });
  r.onStep({ type: 'start', ...step });
  t = 500;
  r.onStep({ type: 'progress', ...step, done: 10, total: 100 });
  assert.equal(c.screen(), '', 'no bar before a second');
  t = 1500;
  r.onStep({ type: 'progress', ...step, done: 30, total: 100 });
  t = 1550;
  r.onStep({ type: 'progress', ...step, done: 31, total: 100 });
  assert.equal(c.screen().split('\r\x1b[K').filter(Boolean).length, 1, 'one draw within 100 ms');
  assert.match(c.screen(), /30\/100 {2}20\/s {2}ETA 3\.5 s/);
  t = 2000;
  r.onStep({ type: 'done', ...step, ms: 2000 });
  assert.ok(c.screen().endsWith('\r\x1b[K'), 'the bar is cleared before the step line');
  assert.deepEqual(c.logs.at(-1), { msg: '036 -> 037 (037_migrate_hot_template) ... done in 2000 ms' }, 'a short line, no fields');
  r.summary({ from: 34, to: 71, steps: Array(37).fill({ from: 0, to: 0, script: '', ms: 0 }) }, 21_000);
  assert.deepEqual(c.logs.at(-1), { msg: 'migrated 34 -> 71: 37 steps, 21 s' });
});

test('off a terminal: the step and summary JSON fields as before; progress events at most every 5 s', () => {
  let t = 0;
  const c = capture();
  const r = stepReporter({ logger: c.logger, now: () => t });
  r.onStep({ type: 'start', ...step });
  for (t = 1000; t <= 12_000; t += 1000) r.onStep({ type: 'progress', ...step, done: t / 100, total: 200 });
  const progress = c.logs.filter((l) => (l.obj as { event?: string } | undefined)?.event === 'progress');
  assert.equal(progress.length, 2, 'at 5 s and 10 s');
  assert.deepEqual(progress[0]!.obj, { event: 'progress', from: 36, to: 37, script: step.script, done: 50, total: 200, rate: 10 });
  r.onStep({ type: 'done', ...step, ms: 12_000 });
  assert.deepEqual(c.logs.at(-1), { obj: { from: 36, to: 37, script: step.script, ms: 12_000 }, msg: '036 -> 037 (037_migrate_hot_template) ... done in 12000 ms' });
  r.summary({ from: 34, to: 71, steps: [] }, 5);
  assert.deepEqual(c.logs.at(-1), { obj: { from: 34, to: 71, steps: 0, ms: 5 }, msg: 'database is at version 71; nothing to do' });
});

test('on a terminal: a step that reports no progress shows its elapsed time once a second, cleared by its end', () => {
  let t = 0;
  let tick: (() => void) | undefined;
  let stopped = 0;
  const c = capture();
  const every = (ms: number, fn: () => void) => {
    assert.equal(ms, 1000);
    tick = fn;
    return () => void stopped++;
  };
  const r = stepReporter({ logger: c.logger, terminal: c.terminal, now: () => t, every });
  const s35 = { from: 34, to: 35, script: 'versions/035_event_uuid_to_id.ts' };
  r.onStep({ type: 'start', ...s35 });
  t = 600;
  tick!();
  assert.equal(c.screen(), '', 'nothing in the first second');
  t = 1200;
  tick!();
  assert.equal(c.screen(), '\r\x1b[K  034 -> 035 (035_event_uuid_to_id)  running 1.2 s');
  t = 12_400;
  tick!();
  assert.match(c.screen(), /running 12 s$/);
  r.onStep({ type: 'done', ...s35, ms: 12_400 });
  assert.equal(stopped, 1, 'the ticker stops with the step');
  // A step with a bar: the ticker never draws over it.
  r.onStep({ type: 'start', ...step });
  t = 20_000;
  r.onStep({ type: 'progress', ...step, done: 5, total: 10 });
  const before = c.screen();
  t = 25_000;
  tick!();
  assert.equal(c.screen(), before, 'no elapsed line once the step reports progress');
  r.onStep({ type: 'done', ...step, ms: 5000 });
  assert.ok(c.screen().endsWith('\r\x1b[K'), 'the line is cleared before the step line');
  assert.deepEqual(c.logs.at(-1), { msg: '036 -> 037 (037_migrate_hot_template) ... done in 5000 ms' });
});

test('off a terminal: no ticker', () => {
  const c = capture();
  const r = stepReporter({ logger: c.logger, now: () => 0, every: () => assert.fail('no ticker off a terminal') });
  r.onStep({ type: 'start', ...step });
  r.onStep({ type: 'done', ...step, ms: 5 });
  assert.equal(c.logs.length, 1);
});
