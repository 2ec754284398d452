// Sizes libuv's thread pool before anything uses it (it is fixed at first use, and an ES module
// entry is loaded through the pool, so this must run from a CommonJS file first: see bin/package.json).
// A sync keeps up to 16 files in flight on each side, each blocking a pool thread in open, write or
// fsync; with the default 4 threads they queue behind each other and the disk's journal commits one
// fsync at a time. A user's own UV_THREADPOOL_SIZE wins.
'use strict';
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '24';
