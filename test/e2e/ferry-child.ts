/** `ferry` as a child process, from the sources: for tests that kill it. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
