// Writes schema/ferry.schema.json, the JSON Schema editors use to check ferry.yml,
// from the zod schema in src/fleet/schema.ts. Run after changing that schema:
//   npx tsx scripts/write-fleet-schema.ts
// (src/fleet/json-schema.test.ts fails while the committed file is out of date.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetJsonSchemaText } from '../src/fleet/schema.js';

const out = fileURLToPath(new URL('../schema/ferry.schema.json', import.meta.url));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, fleetJsonSchemaText());
console.log(`wrote ${out}`);
