// Builds plugin.js into a component with componentize-js's API (its CLI and
// `jco componentize` do not run on Node 20). Every WASI feature is off, so
// the component imports nothing: the host's linker is empty.
//
//   node componentize.mjs <wit dir> <out.wasm>
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const [witPath, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath: fileURLToPath(new URL('./plugin.js', import.meta.url)),
  witPath,
  worldName: 'consent-plugin',
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
await writeFile(out, component);
