#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
'use strict';
require('./io-threads.js');
require('./gc-tuning.js');
// Node 22.1+ can keep the compiled CLI between runs (every scheduled check and demo step starts one);
// it never throws, and Node 20 has no such API. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = require('node:module');
if (typeof enableCompileCache === 'function') enableCompileCache();
import('../dist/src/cli/main.js').catch((err) => {
  process.stderr.write(`synker could not start: ${err?.stack ? err.stack : err}\n`);
  process.exitCode = 2;
});
