// Turn one composed command component into one classic script that a browser page hands to its
// run's Web Worker.
// usage: node bundle.mjs COMPONENT.wasm OUT.js KEY    one component
//        node bundle.mjs --shim OUT.js                  preview2-shim's browser build, shared by all
//        node bundle.mjs --tools OUT.js                 wasm-tools as jco-transpile ships it (for page 7's
//                                                       scanner: componentNew embeds a published adapter)
// jco transpiles the component (instantiation "async": the worker instantiates it afresh for every
// run); esbuild bundles that and inlines every core module, so the script works from file:// with
// no fetch. Each script only registers its bundle as a function, under its key:
//   globalThis.preopenLabSources[KEY] = function () { ...bundle... }
// (KEY "shim" for the shim): a worker made from a file:// page can load no script, so the page
// (preopenlab.js) sends it the function's text. Run there, the shim's bundle sets
// globalThis.preopenLabShim (one in-memory filesystem, reset for each run, which every component
// uses), and a component's bundle registers
//   globalThis.preopenLabBuilds[KEY] = { run(argv, preopens) -> { stdout, stderr, trap } }
// where preopens is [[guestPath, fileData], ...], added in that order (duplicates kept).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';
import { build } from 'esbuild';

const nodePaths = [join(dirname(fileURLToPath(import.meta.url)), 'node_modules')];
const bundled = (work, entry, out, key, plugins = []) => build({
  entryPoints: [join(work, entry)], bundle: true, format: 'iife', platform: 'browser', loader: { '.wasm': 'binary' },
  minify: true, external: ['node:*'], outfile: out, logLevel: 'error', absWorkingDir: work, nodePaths, plugins,
  // The bundle as the body of a function: loading the script only registers it, nothing runs in the page.
  banner: { js: `(globalThis.preopenLabSources ??= {})[${JSON.stringify(key)}] = function () {` }, footer: { js: '};' } });

const work = mkdtempSync(join(tmpdir(), 'preopen-lab-bundle-'));
try {
  if (process.argv[2] === '--shim') {
    writeFileSync(join(work, 'shim.mjs'), `
import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem';
import * as io from '@bytecodealliance/preview2-shim/io';
globalThis.preopenLabShim = { cli, filesystem, io };
`);
    await bundled(work, 'shim.mjs', process.argv[3], 'shim');
  } else if (process.argv[2] === '--tools') {
    await tools(process.argv[3]);
  } else {
    await component(...process.argv.slice(2));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Run in the scan's worker, the bundle sets globalThis.preopenLabTools once wasm-tools is instantiated
// (a promise of its `tools` interface). jco's output fetches its two core modules next to it; here
// they are inlined instead, compiled from the bundle's own bytes.
async function tools(out) {
  const vendor = join(dirname(fileURLToPath(import.meta.resolve('@bytecodealliance/jco-transpile'))), '..', 'vendor');
  writeFileSync(join(work, 'tools.mjs'), `
import { $init, tools } from ${JSON.stringify(join(vendor, 'wasm-tools.js'))};
globalThis.preopenLabTools = $init.then(() => tools);
`);
  const inline = { name: 'inline-core-modules', setup(b) {
    b.onLoad({ filter: /wasm-tools\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [i, name] of ['wasm-tools.core.wasm', 'wasm-tools.core2.wasm'].entries()) {
        text = `import inlined${i} from './${name}';\n` + text.replace(
          `fetchCompile(new URL('./${name}', import.meta.url))`, `WebAssembly.compile(inlined${i})`);
      }
      return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
    });
  } };
  await bundled(work, 'tools.mjs', out, 'tools', [inline]);
}

async function component(wasm, out, key) {
  const { files } = await transpile(wasm, { name: 'guest', instantiation: { tag: 'async' } });
  await writeFiles(files, { baseDir: work });
  const cores = Object.keys(files).filter((name) => name.endsWith('.wasm'));
  const entry = `
import { instantiate } from './guest.js';
${cores.map((name, i) => `import core${i} from './${name}';`).join('\n')}
const { cli, filesystem, io } = globalThis.preopenLabShim;
const bytes = { ${cores.map((name, i) => `${JSON.stringify(name)}: core${i}`).join(', ')} };
const compiled = {};
const imports = {
  'wasi:cli/environment': cli.environment, 'wasi:cli/exit': cli.exit, 'wasi:cli/stderr': cli.stderr,
  'wasi:cli/stdin': cli.stdin, 'wasi:cli/stdout': cli.stdout, 'wasi:cli/terminal-input': cli.terminalInput,
  'wasi:cli/terminal-output': cli.terminalOutput, 'wasi:cli/terminal-stderr': cli.terminalStderr,
  'wasi:cli/terminal-stdin': cli.terminalStdin, 'wasi:cli/terminal-stdout': cli.terminalStdout,
  'wasi:filesystem/preopens': filesystem.preopens, 'wasi:filesystem/types': filesystem.types,
  'wasi:io/error': io.error, 'wasi:io/streams': io.streams,
};
function sink(chunks) {
  return { write(b) { chunks.push(b.slice()); }, flush() {}, blockingFlush() {}, drop() {} };
}
async function run(argv, preopens) {
  filesystem._clearPreopens();
  for (const [guestPath, fileData] of preopens) filesystem._addPreopen(guestPath, fileData);
  cli._setArgs(argv);
  const out = [], err = [];
  cli._setStdout(sink(out));
  cli._setStderr(sink(err));
  let trap = null;
  try {
    const instance = await instantiate((name) => (compiled[name] ??= new WebAssembly.Module(bytes[name])), imports);
    instance.run.run();
  } catch (e) {
    if (!(e && e.exitError)) trap = String(e && e.message || e);
  }
  const join = (chunks) => { const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0; for (const c of chunks) { all.set(c, at); at += c.length; } return all; };
  return { stdout: join(out), stderr: join(err), trap };
}
(globalThis.preopenLabBuilds ??= {})[${JSON.stringify(key)}] = { run };
`;
  writeFileSync(join(work, 'entry.mjs'), entry);
  await bundled(work, 'entry.mjs', out, key);
}
