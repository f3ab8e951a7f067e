/**
 * Transactions on the migration connection. Our BEGIN/COMMIT are raw statements (SQLite needs
 * BEGIN IMMEDIATE), so TypeORM is told about them: a script calling queryRunner.startTransaction()
 * then gets a SAVEPOINT instead of a second BEGIN, and its commitTransaction() does not commit ours.
 */
import type { QueryRunner } from 'typeorm';
import type { DialectAdapter } from './dialect/adapter.js';
import type { Session } from './session.js';

export function markTypeormTransaction(qr: QueryRunner | undefined, active: boolean): void {
  if (!qr) return;
  const q = qr as unknown as { isTransactionActive: boolean; transactionDepth: number };
  q.isTransactionActive = active;
  q.transactionDepth = active ? 1 : 0;
}

export async function begin(session: Session, adapter: DialectAdapter): Promise<void> {
  await session.query(adapter.beginSql);
  markTypeormTransaction(session.queryRunner, true);
}

export async function commit(session: Session): Promise<void> {
  await session.query('COMMIT');
  markTypeormTransaction(session.queryRunner, false);
}

export async function rollback(session: Session): Promise<void> {
  markTypeormTransaction(session.queryRunner, false);
  await session.query('ROLLBACK').catch(() => undefined);
}

/** Runs `fn` in a write transaction where the backend has transactional DDL (SQLite: BEGIN IMMEDIATE). */
export async function inWriteTransaction<T>(ls: { session: Session; adapter: DialectAdapter }, fn: () => Promise<T>): Promise<T> {
  if (!ls.adapter.transactionalDdl) return fn();
  await begin(ls.session, ls.adapter);
  try {
    const r = await fn();
    await commit(ls.session);
    return r;
  } catch (e) {
    await rollback(ls.session);
    throw e;
  }
}
