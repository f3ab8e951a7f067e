/**
 * The Migrator's algorithm on the in-memory backend (migrate/memory.ts): no database, milliseconds.
 * Ordering, the compare-and-set bump, the lock timeout, a failure mid-walk (transactional and not,
 * with the resume on the next run), the downgrade path, "unlock failed after an error", and the
 * request's policies: control of an uncontrolled database, direction, refuseLower, run checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlledSchemaError, DatabaseNotControlledError, LockTimeoutError, StepError } from '../../migrate/errors.js';
import { MemoryBackend, MemoryDb, type MemoryOptions } from '../../migrate/memory.js';
import { Migrator, type ControlPolicy, type RunCheck, type StepEvent } from '../../migrate/migrator.js';
import type { Repository } from '../../migrate/repository.js';
import type { Logger } from '../../migrate/script/contract.js';

function repo(latest: number): Repository {
  const versions = Array.from({ length: latest }, (_, i) => {
    const v = i + 1;
    const relPath = `versions/00${v}_step.js`;
    return { version: v, sql: new Map(), module: { version: v, relPath, absPath: `/nowhere/${relPath}`, kind: 'module' as const } };
  });
  const config = { repositoryId: 'repo', versionTable: 'migrate_version', requiredDbs: [], useTimestampNumbering: 'False' };
  return { path: '/nowhere', absPath: '/nowhere', config: config as unknown as Repository['config'], versions, latest, timestampNumbering: false };
}

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, msg: typeof a === 'string' ? a : String(b ?? '') });
  const logger = { info: at('info'), warn: at('warn'), debug: at('debug'), error: at('error') } as Logger;
  return { lines, logger };
}

function setup(latest: number, o: MemoryOptions & { lockTimeoutMs?: number } = {}) {
  const db = new MemoryDb();
  const ran: string[] = [];
  const events: StepEvent[] = [];
  const { lines, logger } = recorder();
  const backend = new MemoryBackend(db, {
    ...o,
    scripts: async (step, d, resumed, progress) => {
      ran.push(`${step.direction} ${step.from}->${step.to}${resumed ? ' (resumed)' : ''}`);
      await o.scripts?.(step, d, resumed, progress);
    },
  });
  const m = new Migrator({ repo: repo(latest), backend, logger, lockTimeoutMs: o.lockTimeoutMs ?? 1000, onStep: (e) => events.push(e) });
  return { db, m, ran, events, lines };
}

async function stamp(s: ReturnType<typeof setup>, v: number) {
  await s.m.stamp(v);
}

test('upgrade walks every step in order, once, and records a done row per step', async () => {
  const s = setup(3);
  await stamp(s, 0);
  const r = await s.m.migrate({ target: 3 });
  assert.deepEqual(s.ran, ['upgrade 0->1', 'upgrade 1->2', 'upgrade 2->3']);
  assert.deepEqual(r.steps.map((x) => x.to), [1, 2, 3]);
  assert.equal(s.db.rows.get('repo'), 3);
  assert.deepEqual(s.db.log.map((l) => `${l.from}->${l.to} ${l.status}`), ['0->1 done', '1->2 done', '2->3 done']);
  assert.deepEqual(s.events.map((e) => e.type), ['start', 'done', 'start', 'done', 'start', 'done']);
  assert.equal(s.db.holder, null, 'the lock is released');
});

test('the downgrade path runs the scripts of the versions it leaves, highest first', async () => {
  const s = setup(3);
  await stamp(s, 3);
  const r = await s.m.migrate({ target: 1 });
  assert.deepEqual(s.ran, ['downgrade 3->2', 'downgrade 2->1']);
  assert.equal(r.to, 1);
  assert.equal(s.db.rows.get('repo'), 1);
});

test('a version that another process moved under the run fails the compare-and-set; the step is rolled back', async () => {
  const s = setup(3, { scripts: (step, db) => void (step.to === 2 && db.rows.set('repo', 7)) });
  await stamp(s, 0);
  const e = await s.m.migrate({ target: 3 }).then(() => null, (x: unknown) => x);
  assert.ok(e instanceof StepError, String(e));
  assert.ok(e.cause instanceof ControlledSchemaError, String(e.cause));
  assert.equal(s.db.rows.get('repo'), 1, 'step 2 rolled back, step 1 kept');
  assert.equal(s.db.log.at(-1)?.status, 'failed');
  assert.equal(s.db.holder, null);
});

test('a lock held by another run: waits, says so, then LockTimeoutError with nothing applied', async () => {
  const s = setup(2, { lockTimeoutMs: 60 });
  await stamp(s, 0);
  s.db.holder = {};
  const t0 = performance.now();
  await assert.rejects(s.m.migrate({ target: 2 }), LockTimeoutError);
  assert.ok(performance.now() - t0 >= 50, 'it waited for the lock timeout');
  assert.deepEqual(s.ran, []);
  assert.equal(s.db.rows.get('repo'), 0);
  assert.ok(s.lines.some((l) => /^waiting up to \d+ s for the migration lock held by another memory connection/.test(l.msg)), JSON.stringify(s.lines));
});

test('a lock released while waiting is taken: the run goes on', async () => {
  const s = setup(1, { lockTimeoutMs: 2000 });
  await stamp(s, 0);
  s.db.holder = {};
  setTimeout(() => (s.db.holder = null), 30);
  const r = await s.m.migrate({ target: 1 });
  assert.equal(r.to, 1);
});

test('a failure mid-walk (transactional DDL): earlier steps stay, the failing one leaves nothing, lock released', async () => {
  const s = setup(3, { scripts: (step, db) => { if (step.to === 2) { db.tables.push('half_done'); throw new Error('boom'); } } });
  await stamp(s, 0);
  await assert.rejects(s.m.migrate({ target: 3 }), (e: unknown) => e instanceof StepError && /upgrade 1 -> 2 .* failed: boom/.test(e.message));
  assert.equal(s.db.rows.get('repo'), 1);
  assert.deepEqual(s.db.tables, [], "the failed step's change is rolled back");
  assert.equal(s.db.holder, null);
});

test('a failure mid-walk (non-transactional DDL): the next run says it resumes and retries that step', async () => {
  let fail = true;
  const s = setup(3, { transactionalDdl: false, scripts: (step) => { if (step.to === 2 && fail) throw new Error('boom'); } });
  await stamp(s, 0);
  await assert.rejects(s.m.migrate({ target: 3 }), StepError);
  assert.equal(s.db.rows.get('repo'), 1);
  assert.equal(s.db.log.at(-1)?.status, 'failed');
  fail = false;
  const r = await s.m.migrate({ target: 3 });
  assert.equal(r.to, 3);
  assert.ok(s.ran.includes('upgrade 1->2 (resumed)'), JSON.stringify(s.ran));
  assert.ok(s.events.some((e) => e.type === 'resume' && e.from === 1), 'a resume event names the interrupted step');
});

test('without a session lock (SQLite), a step another process applied is skipped and the walk re-plans', async () => {
  const s = setup(3, { sessionLock: false });
  await stamp(s, 0);
  const prepared = await s.m.prepare({ target: 3 });
  s.db.rows.set('repo', 2); // another process applied 1 and 2 after this one planned
  const r = await s.m.run(prepared);
  assert.deepEqual(s.ran, ['upgrade 2->3']);
  assert.equal(r.to, 3);
});

test('an unlock that fails after an error: the first error is reported, the second logged', async () => {
  const s = setup(2, { failUnlock: true, scripts: () => { throw new Error('script broke'); } });
  s.db.versionTable = true;
  s.db.rows.set('repo', 0);
  await assert.rejects(s.m.migrate({ target: 2 }), /script broke/);
  assert.ok(s.lines.some((l) => l.level === 'warn' && /releasing the migration lock failed after an error/.test(l.msg)), JSON.stringify(s.lines));
});

test('the version is read under the lock: a run that finds the work done does nothing', async () => {
  const s = setup(2);
  await stamp(s, 0);
  const prepared = await s.m.prepare({ target: 2 });
  s.db.rows.set('repo', 2);
  const r = await s.m.run(prepared);
  assert.deepEqual(r.steps, []);
  assert.deepEqual(s.ran, []);
});

test("a script's progress(done, total) reaches onStep as progress events of its step", async () => {
  const s = setup(2, { scripts: (step, _db, _r, progress) => { if (step.to === 2) { progress?.(5, 10); progress?.(10, 10); } } });
  await stamp(s, 0);
  await s.m.migrate({ target: 2 });
  const p = s.events.filter((e) => e.type === 'progress');
  assert.deepEqual(p.map((e) => e.type === 'progress' && [e.from, e.to, e.done, e.total]), [[1, 2, 5, 10], [1, 2, 10, 10]]);
});

/** oslo-style policy: an empty database is stamped at 1 (as oslo.ts does), anything else refused. */
const stampAt1: ControlPolicy = {
  initVersion: 1,
  async control(db) {
    if ((await db.inspect.tables()).length) throw new Error('has tables');
    await db.stamp(1);
    return 1;
  },
};

test('a database not under version control: an error without a control policy; with one, it is put under control under the lock and migrated', async () => {
  const s = setup(3);
  await assert.rejects(s.m.migrate({ target: 3 }), DatabaseNotControlledError);
  assert.deepEqual(s.ran, []);
  const r = await s.m.migrate({ target: 3, control: stampAt1 });
  assert.deepEqual(s.ran, ['upgrade 1->2', 'upgrade 2->3']);
  assert.equal(r.from, 1);
  assert.equal(await s.m.version(), 3);
  const t = setup(2);
  t.db.tables.push('someone_elses');
  await assert.rejects(t.m.migrate({ control: stampAt1 }), /has tables/);
  assert.equal(t.db.versionTable, false, 'refused: nothing written');
});

test("a command's direction: the other one is refused before the lock, with nothing run", async () => {
  const s = setup(3);
  await s.m.stamp(2);
  await assert.rejects(s.m.migrate({ target: 1, direction: 'upgrade' }), /Cannot upgrade a database of version 2 to version 1. Try 'downgrade' instead./);
  await assert.rejects(s.m.migrate({ target: 3, direction: 'downgrade' }), /Cannot downgrade a database of version 2 to version 3/);
  assert.deepEqual(s.ran, []);
});

test('refuseLower: a lower target is refused with the policy error, unless a concurrent run moved the database past it', async () => {
  const s = setup(3);
  await s.m.stamp(3);
  const refuse = () => new Error('Cannot migrate to lower schema version.');
  await assert.rejects(s.m.migrate({ target: 2, refuseLower: refuse }), /Cannot migrate to lower schema version/);
  assert.equal(s.db.rows.get('repo'), 3);
  const t = setup(3, { lockTimeoutMs: 2000 });
  await t.m.stamp(3);
  t.db.holder = {}; // another run holds the lock: it is the one that moved the database
  setTimeout(() => (t.db.holder = null), 30);
  const r = await t.m.migrate({ target: 2, refuseLower: refuse });
  assert.deepEqual([r.from, r.to, r.steps.length], [3, 3, 0]);
  assert.deepEqual(t.ran, []);
});

test('checks: `before` runs under the lock after the version is read, and refusing there writes nothing; `after` sees the result', async () => {
  const s = setup(3);
  await s.m.stamp(0);
  const seen: string[] = [];
  const refusing: RunCheck = {
    async before(_c, at) {
      seen.push(`before at ${at.version}, plan ${at.plan.from}->${at.plan.target}, lock held: ${s.db.holder !== null}`);
      throw new Error('schema does not match');
    },
  };
  await assert.rejects(s.m.migrate({ checks: [refusing] }), /schema does not match/);
  assert.deepEqual(seen, ['before at 0, plan 0->3, lock held: true']);
  assert.deepEqual(s.ran, []);
  assert.equal(s.db.rows.get('repo'), 0);
  assert.deepEqual(s.db.log, [], 'nothing written');
  const after: RunCheck = { after: async (_c, r) => void seen.push(`after ${r.from}->${r.to} (${r.steps.length} steps), ran ${s.ran.length}`) };
  await s.m.migrate({ checks: [after] });
  assert.equal(seen.at(-1), 'after 0->3 (3 steps), ran 3');
});
