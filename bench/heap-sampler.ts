/**
 * Preloaded into a benchmarked process (`node --import dist/bench/heap-sampler.js ...` with
 * HEAP_SAMPLE_FILE=<file>): samples `process.memoryUsage()` every 20 ms and, at exit, writes the
 * peaks as JSON: V8 heap used / total, external, array buffers, RSS. The heap figures show what the
 * program keeps alive; RSS adds the allocator's and V8's slack.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.HEAP_SAMPLE_FILE;
if (file) {
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rss: 0, samples: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.samples++;
    for (const k of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'rss'] as const) {
      if (m[k] > peak[k]) peak[k] = m[k];
    }
  };
  setInterval(sample, 20).unref();
  process.on('exit', () => {
    sample();
    writeFileSync(file, JSON.stringify(peak));
  });
}
