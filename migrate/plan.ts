/**
 * What a migration is and reports: the plan the Migrator decides once (from the version it probed)
 * and the events and results it emits. Data only; the algorithm is in migrator.ts.
 */
import { KnownError } from './errors.js';
import type { PlannedStep } from './repository.js';

export type StepEvent =
  | { type: 'start'; from: number; to: number; script: string }
  | { type: 'done'; from: number; to: number; script: string; ms: number }
  | { type: 'resume'; from: number; to: number; script: string; startedAt: string; host: string; pid: number; error: string | null }
  | { type: 'preview'; from: number; to: number; script: string; text: string }
  | { type: 'progress'; from: number; to: number; script: string; done: number; total?: number };

export interface StepResult {
  readonly from: number;
  readonly to: number;
  readonly script: string;
  readonly ms: number;
}

export interface MigrateResult {
  readonly from: number;
  readonly to: number;
  readonly steps: readonly StepResult[];
}

/** A decided migration: where the database was when probed, where to go, and the path. */
export interface Plan {
  readonly from: number;
  readonly target: number;
  readonly direction: 'upgrade' | 'downgrade';
  readonly steps: readonly PlannedStep[];
  /** Module scripts will run: open the migration connection with TypeORM. */
  readonly typeorm: boolean;
}

export function checkDirection(direction: 'upgrade' | 'downgrade', from: number, to: number): void {
  if (direction === 'upgrade' && to < from) {
    throw new KnownError(`Cannot upgrade a database of version ${from} to version ${to}. Try 'downgrade' instead.`);
  }
  if (direction === 'downgrade' && to > from) {
    throw new KnownError(`Cannot downgrade a database of version ${from} to version ${to}. Try 'upgrade' instead.`);
  }
}
