// `npm run build`: the `mediagate` command as JavaScript in dist/ (or the folder given), as the image ships it.
import { resolve } from 'node:path';
import { bundleCli, distDir } from './bundle.ts';

const outdir = resolve(process.argv[2] ?? distDir);
const started = performance.now();
const { entry } = await bundleCli(outdir);
console.log(`${entry} (${Math.round(performance.now() - started)} ms)`);
