#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
'use strict';
require('./io-threads.js');
import('../dist/src/cli/main.js').catch((err) => {
  process.stderr.write(`synker could not start: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 2;
});
