// Run one transpiled command component on @bytecodealliance/preview2-shim, for the node host.
// usage: node run.mjs TRANSPILED_DIR SPEC.json, where SPEC is {"argv": [...], "preopens": [[guest, host], ...]}.
// The preopens are added one by one, in order, so duplicates and order reach the guest as given.
// How the guest ended goes to the lab alone, as one JSON line on the socket at fd
// PREOPEN_LAB_STATUS_FD: {"exit": code} (preview2-shim ends the process at wasi:cli/exit) or
// {"trap": "the host's words"}.
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { _addPreopen, _clearPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { _setArgs } from '@bytecodealliance/preview2-shim/cli';

const [dir, specFile] = process.argv.slice(2);
const status = Number(process.env.PREOPEN_LAB_STATUS_FD);
let said = null;
const report = (what) => { if (said === null) { said = what; writeSync(status, `\n${JSON.stringify(what)}\n`); } };
process.on('exit', (code) => report({ exit: code }));
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
_clearPreopens();
for (const [guestPath, hostPath] of spec.preopens) _addPreopen(guestPath, hostPath);
_setArgs(spec.argv);
const guest = await import(pathToFileURL(join(dir, 'guest.js')).href);
try {
  guest.run.run();
  report({ exit: 0 });
} catch (e) {
  report({ trap: `RuntimeError: ${e && e.message ? e.message : e}` });
  process.exitCode = 70;
}
