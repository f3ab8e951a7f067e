/**
 * Peak RSS and time of each step of `heat-manage db_sync` 34 -> 71 on the realistic dataset, one
 * process per step (`db_sync K` for K = 35..71), to find which step sets a whole run's peak.
 *
 *   node dist/bench/per-step.js BACKEND N [SEED]
 */
import { loadRealistic } from './dataset-realistic.js';
import { freshDb, heatManage, timed, type Backend } from './lib.js';

const b = (process.argv[2] ?? 'postgresql') as Backend;
const n = Number(process.argv[3] ?? 20000);
const seed = Number(process.argv[4] ?? 42);
const db = freshDb(b);
try {
  const env = { OS_DATABASE__CONNECTION: db.url };
  loadRealistic(db, b, n, { seed });
  console.log(`${b} N=${n}: step, wall s, peak RSS MB`);
  for (let k = 35; k <= 71; k++) {
    const s = timed(heatManage(['db_sync', String(k)]), { env });
    console.log(`${String(k).padStart(3, '0')} ${s.wall.toFixed(2).padStart(7)} ${String(Math.round(s.rssKb / 1024)).padStart(5)}`);
  }
} finally {
  db.drop();
}
