// Run one WASIp1 core module (no adapter) on a JavaScript WASIp1 host, for the lab.
// usage: node wasip1.mjs HOST MODULE.wasm SPEC.json
//   SPEC: {"argv": [...], "preopens": [[guestPath, hostDir], ...]}, in the order configured.
// Each host gets the list as its own API takes it (see analysis/runs/wasip1_hosts.py): a list
// where it takes one, an object keyed by guest path where it takes that, in-memory copies of the
// host directories where it has no real filesystem. The guest's stdout goes to this process's
// stdout. How the guest ended goes to the lab alone, as one JSON line on the socket at fd
// PREOPEN_LAB_STATUS_FD: {"exit": code} with the whole code (a process status keeps 8 bits),
// or {"trap": "the host's words"}; a guest cannot write there, so it cannot forge either.
import { readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [host, modulePath, specFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
const bytes = readFileSync(modulePath);
const out = (data) => { if (data.length) writeSync(1, data); };
const err = (data) => { if (data.length) writeSync(2, data); };

// An object keyed by guest path, as most hosts take it: a duplicate name keeps its first
// place and its last directory; JavaScript puts integer-like keys first, in numeric order.
function keyed() {
  const object = {};
  for (const [guest, dir] of spec.preopens) object[guest] = dir;
  return object;
}

// One host directory as an in-memory tree: [name, bytes | subtree] pairs.
function tree(dir) {
  return readdirSync(dir).map((name) => {
    const path = join(dir, name);
    return [name, statSync(path).isDirectory() ? tree(path) : readFileSync(path)];
  });
}

const hosts = {
  async 'node-wasi'() {
    const { WASI } = await import('node:wasi');
    const wasi = new WASI({ version: 'preview1', args: spec.argv, env: {}, preopens: keyed(), returnOnExit: true });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
    return wasi.start(instance);
  },
  async 'wasm-util'() {
    const { WASI } = require('@tybys/wasm-util');
    const wasi = new WASI({ version: 'preview1', args: spec.argv, env: {}, preopens: keyed(), returnOnExit: true,
      fs: require('node:fs'), print: (s) => out(Buffer.from(s + '\n')), printErr: (s) => err(Buffer.from(s + '\n')) });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
    return wasi.start(instance);
  },
  async 'browser-wasi-shim'() {
    const shim = await import('@bjorn3/browser_wasi_shim');
    const build = (entries) => new Map(entries.map(([n, v]) =>
      [n, Array.isArray(v) ? new shim.Directory(build(v)) : new shim.File(v, { readonly: true })]));
    const fds = [new shim.OpenFile(new shim.File([])), new shim.ConsoleStdout(out), new shim.ConsoleStdout(err),
      ...spec.preopens.map(([guest, dir]) => new shim.PreopenDirectory(guest, build(tree(dir))))];
    const wasi = new shim.WASI(spec.argv, [], fds, { debug: false });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes),
      { wasi_snapshot_preview1: wasi.wasiImport });
    return wasi.start(instance);
  },
  async 'wasmer-wasi'() {
    const { init, WASI, MemFS } = await import('@wasmer/wasi');
    await init();
    const fs = new MemFS();
    const preopens = {};
    spec.preopens.forEach(([guest], index) => { preopens[guest] = `/p${index}`; });
    const fill = (at, entries) => {
      fs.createDir(at);
      for (const [n, v] of entries) {
        if (Array.isArray(v)) fill(`${at}/${n}`, v);
        else { const file = fs.open(`${at}/${n}`, { read: true, write: true, create: true }); file.write(v); }
      }
    };
    spec.preopens.forEach(([, dir], index) => fill(`/p${index}`, tree(dir)));
    const wasi = new WASI({ args: spec.argv, env: {}, preopens, fs });
    const module = await WebAssembly.compile(bytes);
    wasi.instantiate(module, {});
    const code = wasi.start();
    out(wasi.getStdoutBuffer());
    err(wasi.getStderrBuffer());
    return code;
  },
  async runno() {
    // One preopen, '/', whatever the list: each directory's files go under its guest path.
    const { WASI } = await import('@runno/wasi');
    const fs = {};
    // runno looks paths up as literal strings: each file goes at its guest path resolved
    // (no '.', no '//'), as a user of runno would name it.
    const resolved = (path) => '/' + path.split('/').reduce((parts, part) => {
      if (part === '..') parts.pop(); else if (part !== '' && part !== '.') parts.push(part);
      return parts;
    }, []).join('/');
    const put = (at, entries) => {
      for (const [n, v] of entries) {
        const path = resolved(`${at}/${n}`);
        if (Array.isArray(v)) put(path, v);
        else fs[path] = { path, mode: 'binary', content: new Uint8Array(v),
          timestamps: { access: new Date(0), modification: new Date(0), change: new Date(0) } };
      }
    };
    for (const [guest, dir] of spec.preopens) put(`/${guest}`, tree(dir));
    const wasi = new WASI({ args: spec.argv, env: {}, fs, stdout: (s) => out(Buffer.from(s)),
      stderr: (s) => err(Buffer.from(s)) });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), wasi.getImportObject());
    return wasi.start({ instance, module: null }).exitCode;
  },
  async 'wasi-js'() {
    const WASI = require('wasi-js').default;
    const bindings = require('wasi-js/dist/bindings/node').default;
    const wasi = new WASI({ args: spec.argv, env: {}, preopens: keyed(), bindings: { ...bindings, fs: require('node:fs') },
      sendStdout: out, sendStderr: err });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes),
      { wasi_snapshot_preview1: wasi.wasiImport });
    wasi.start(instance);
    return 0;
  },
};

const status = Number(process.env.PREOPEN_LAB_STATUS_FD);
let said = null;
const report = (what) => { if (said === null) { said = what; writeSync(status, `\n${JSON.stringify(what)}\n`); } };
// wasi-js's node bindings end the process at proc_exit: the 'exit' event still has the whole code.
process.on('exit', (code) => report({ exit: code }));
const run = hosts[host];
if (!run) { err(Buffer.from(`unknown host ${host}\n`)); process.exit(64); }
try {
  const code = await run();
  report({ exit: typeof code === 'number' ? code : 0 });
} catch (e) {
  if (e && typeof e.code === 'number' && /exit/i.test(String(e.message))) report({ exit: e.code });
  else report({ trap: `RuntimeError: ${e && e.message ? e.message : e}` });
}
