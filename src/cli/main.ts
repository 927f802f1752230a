#!/usr/bin/env node
import { main } from './program.js';

// `svr ... | head` closes the pipe early: that is the reader's choice, not an error to crash on.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
