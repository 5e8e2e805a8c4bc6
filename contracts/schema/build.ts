import { readdir, rm, writeFile } from 'node:fs/promises';
import { lifecycleSchemaFiles } from './lifecycle-schema.ts';

/**
 * `npm run contracts:schema`: writes the lifecycle JSON Schema files beside this script, removing any the
 * contract no longer produces. `lifecycle-schema.test.ts` fails while the committed files differ from these.
 */
const dir = new URL('./', import.meta.url);
const files = lifecycleSchemaFiles();
for (const stale of (await readdir(dir)).filter((f) => f.endsWith('.schema.json') && !(f in files))) {
  await rm(new URL(stale, dir));
}
for (const [name, text] of Object.entries(files)) await writeFile(new URL(name, dir), text);
console.log(`wrote ${Object.keys(files).join(', ')} in contracts/schema/`);
