#!/usr/bin/env -S node --
// The `--` ends Node's own options: Node 20 reads `--env-file` anywhere on its command
// line, even after the script, and exits before Ferry runs when the file is missing.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
