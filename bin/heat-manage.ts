#!/usr/bin/env node
// Process edge of `heat-manage`: argv in, exit code out.
import { main } from '../heat/cmd/manage.js';

process.exitCode = await main(process.argv.slice(2));
