#!/usr/bin/env node
// Process edge of `heat-manage`: argv in, exit code out; SIGTERM/SIGINT stop the run (also as PID 1).
import { main } from '../heat/cmd/manage.js';
import { stopOnSignals } from '../heat/cmd/signals.js';

const stop = stopOnSignals();
process.exitCode = await main(process.argv.slice(2), undefined, stop.signal);
stop.dispose();
