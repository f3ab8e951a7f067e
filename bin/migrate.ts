#!/usr/bin/env node
// Process edge of `migrate`: argv in, exit code out.
import { run } from '../migrate/cli/main.js';

process.exitCode = await run(process.argv.slice(2));
