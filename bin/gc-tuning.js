// Lets the old generation grow to 5x what survived the last full collection before the next one.
// Every received or sent chunk of file data is a Buffer whose memory lives outside the JavaScript
// heap; V8 counts it as allocation and, seeing a high allocation rate against a small live heap
// (about 10 MiB), drops its own growing factor towards 1.3 and runs a full mark-compact every
// 15-20 MiB of data: about 200 for the 2 GB photos sync, each finding almost nothing to free.
// A fixed factor of 5 takes that to a handful (measured: docs/sync.md, "Garbage collection").
// Memory stays bounded: the Buffers die young and are freed by the cheap scavenges either way.
// V8 reads the flag each time it sets a limit, so setting it first thing is the same as passing
// it to node; a flag given to node wins.
'use strict';
const FLAG = '--heap-growing-percent';
if (!process.execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`))) {
  require('node:v8').setFlagsFromString(`${FLAG}=400`);
}
