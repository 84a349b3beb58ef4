/** `ferry` as a process, from the sources, writing to the real stdout and stderr. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
