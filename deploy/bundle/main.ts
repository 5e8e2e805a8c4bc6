// `npm run build`: the `mediagate` command as JavaScript in dist/ (or the folder given), as the image ships it.
import { resolve } from 'node:path';
import { packageRoot } from '../../platform/package-root.ts';
import { bundleCli } from './bundle.ts';

const outdir = resolve(process.argv[2] ?? `${packageRoot}/dist`);
const started = performance.now();
const { entry } = await bundleCli(outdir);
console.log(`${entry} (${Math.round(performance.now() - started)} ms)`);
