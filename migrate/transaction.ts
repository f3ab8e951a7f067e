/**
 * Transactions on the migration connection. Our BEGIN/COMMIT are raw statements (SQLite needs
 * BEGIN IMMEDIATE), so TypeORM is told about them: a script calling queryRunner.startTransaction()
 * then gets a SAVEPOINT instead of a second BEGIN, and its commitTransaction() does not commit ours.
 */
import type { QueryRunner } from 'typeorm';
import type { Session } from './session.js';

function markTypeormTransaction(qr: QueryRunner | undefined, active: boolean): void {
  if (!qr) return;
  const q = qr as unknown as { isTransactionActive: boolean; transactionDepth: number };
  q.isTransactionActive = active;
  q.transactionDepth = active ? 1 : 0;
}

export async function begin(session: Session): Promise<void> {
  await session.query(session.adapter.beginSql);
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
