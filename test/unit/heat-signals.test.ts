/**
 * heat/cmd/signals.ts: the first SIGTERM/SIGINT aborts the run's AbortSignal with the exit code
 * that tells it (143 / 130); a second one, or a run that does not stop within the grace time,
 * exits at once. A fake process object stands in for `process` (the end-to-end behaviour, also as
 * PID 1, is in test/e2e/heat-faults-signals.test.ts); migrate/guard.ts's blocker descriptions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Interruption, stopOnSignals, type SignalProcess } from '../../heat/cmd/signals.js';
import { describeBlocker, describeBlockers } from '../../migrate/guard.js';

class FakeProcess extends EventEmitter implements SignalProcess {
  exits: number[] = [];
  written = '';
  readonly stderr = { write: (s: string) => (this.written += s) };
  exit(code: number): never {
    this.exits.push(code);
    return undefined as never;
  }
  send(sig: 'SIGTERM' | 'SIGINT'): void {
    this.emit(sig);
  }
}

describe('stopOnSignals', () => {
  test('SIGTERM aborts the signal with an Interruption of exit code 143; nothing exits yet', () => {
    const p = new FakeProcess();
    const s = stopOnSignals(p, 60_000);
    assert.equal(s.signal.aborted, false);
    p.send('SIGTERM');
    assert.equal(s.signal.aborted, true);
    assert.ok(s.signal.reason instanceof Interruption);
    assert.equal((s.signal.reason as Interruption).exitCode, 143);
    assert.equal((s.signal.reason as Interruption).message, 'interrupted by SIGTERM');
    assert.deepEqual(p.exits, []);
    s.dispose();
  });

  test('SIGINT: exit code 130; a second signal exits at once with one ERROR line', () => {
    const p = new FakeProcess();
    const s = stopOnSignals(p, 60_000);
    p.send('SIGINT');
    assert.equal((s.signal.reason as Interruption).exitCode, 130);
    p.send('SIGINT');
    assert.deepEqual(p.exits, [130]);
    assert.match(p.written, /^ERROR: interrupted by SIGINT again; exiting at once/);
    s.dispose();
  });

  test('a run that does not stop within the grace time is ended with the same code', async () => {
    const p = new FakeProcess();
    const s = stopOnSignals(p, 50);
    p.send('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(p.exits, [143]);
    assert.match(p.written, /did not stop within 0 s, exiting/);
    s.dispose();
  });

  test('dispose() removes the handlers', () => {
    const p = new FakeProcess();
    const s = stopOnSignals(p, 60_000);
    assert.equal(p.listenerCount('SIGTERM'), 1);
    s.dispose();
    assert.equal(p.listenerCount('SIGTERM'), 0);
    assert.equal(p.listenerCount('SIGINT'), 0);
  });
});

describe('guard: who blocks', () => {
  test('a blocker with user, host, transaction age and statement; an idle one', () => {
    assert.equal(
      describeBlocker('connection', { id: 8671, user: 'heat', host: '10.0.3.7:5555', openS: 312, query: 'SELECT * FROM stack' }),
      'connection 8671 (heat@10.0.3.7:5555, transaction open for 312 s, running: SELECT * FROM stack)',
    );
    assert.equal(describeBlocker('backend pid', { id: 812, user: 'heat', state: 'idle in transaction' }), 'backend pid 812 (heat, idle in transaction)');
  });

  test('several blockers: the first three and how many more; none: says it could not tell', () => {
    const b = (id: number) => ({ id });
    assert.equal(
      describeBlockers('connection', { what: 'x', waitedS: 1, blockers: [b(1), b(2), b(3), b(4), b(5)] }),
      'connection 1 (idle); connection 2 (idle); connection 3 (idle); and 2 more',
    );
    assert.equal(describeBlockers('connection', { what: 'x', waitedS: 1, blockers: [] }), 'a session that could not be identified');
  });
});
