// Transpile one component to JavaScript with jco, for the node host.
// usage: node transpile.mjs COMPONENT.wasm OUT_DIR   (writes OUT_DIR/guest.js and its core modules)
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';

const [component, out] = process.argv.slice(2);
const { files } = await transpile(component, { name: 'guest' });
await writeFiles(files, { baseDir: out });
