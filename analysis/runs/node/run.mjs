// Run one transpiled command component on @bytecodealliance/preview2-shim, for the node host.
// usage: node run.mjs TRANSPILED_DIR SPEC.json, where SPEC is {"argv": [...], "preopens": [[guest, host], ...]}.
// The preopens are added one by one, in order, so duplicates and order reach the guest as given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { _addPreopen, _clearPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { _setArgs } from '@bytecodealliance/preview2-shim/cli';

const [dir, specFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
_clearPreopens();
for (const [guestPath, hostPath] of spec.preopens) _addPreopen(guestPath, hostPath);
_setArgs(spec.argv);
const guest = await import(pathToFileURL(join(dir, 'guest.js')).href);
guest.run.run();
