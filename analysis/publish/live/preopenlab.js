// window.preopenLab: the real adapter builds, run in the reader's own WebAssembly engine.
// A classic script (no modules, no fetch), so that a page opened from file:// can use it.
//   await preopenLab.run({build, guest: 'opener', paths})  -> the fields of `python -m analysis run --json`
//   preopenLab.builds()                                    -> what this page can run
// Each build's script (bundle.mjs made it) is loaded the first time that build is asked for.
// Layout and reading mirror analysis/model/markers.py and analysis/runs/guest_output.py.
(function () {
  'use strict';
  const manifest = globalThis.preopenLabManifest || { builds: {}, base: '' };
  // The build scripts sit beside this one, wherever the page is: their folder is this script's own.
  const here = document.currentScript ? document.currentScript.src.replace(/[^/]*$/, '') : '';
  const FIRST_FD = 3;
  const MARKER = 'MARKER';
  const NAME_MAX = 255;
  const DECOY_MAX = 2048;
  const loading = {};
  const utf8 = new TextEncoder();

  function load(build) {
    const entry = manifest.builds[build];
    if (!entry) return Promise.reject(new Error(`unknown build ${build}: choose one of ${Object.keys(manifest.builds).join(', ')}`));
    if (globalThis.preopenLabBuilds && globalThis.preopenLabBuilds[build]) return Promise.resolve();
    loading[build] = loading[build] || new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = (manifest.base || here) + entry.file;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`could not load ${script.src}`));
      document.head.appendChild(script);
    });
    return loading[build];
  }

  // Bytes as Python's decode('utf-8', 'surrogateescape'): valid UTF-8 as text, other bytes as U+DC80..U+DCFF.
  function decode(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2
        : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
      let ok = need >= 0 && i + need < bytes.length;
      let cp = need === 0 ? b : need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
      for (let k = 1; ok && k <= need; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
        else cp = (cp << 6) | (c & 0x3f);
      }
      if (ok && need === 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
      if (ok && need === 3 && (cp < 0x10000 || cp > 0x10ffff)) ok = false;
      if (!ok) { out += String.fromCharCode(0xdc00 + b); i += 1; continue; }
      out += String.fromCodePoint(cp);
      i += need + 1;
    }
    return out;
  }
  function encode(text) {  // the inverse: lone U+DC80..U+DCFF back to their bytes
    const parts = [];
    let run = '';
    for (const ch of text) {
      const c = ch.codePointAt(0);
      if (c >= 0xdc80 && c <= 0xdcff) { parts.push(utf8.encode(run), Uint8Array.of(c - 0xdc00)); run = ''; } else run += ch;
    }
    parts.push(utf8.encode(run));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return all;
  }
  function hex(text) {
    const bytes = new Uint8Array(text.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.substr(2 * i, 2), 16);
    return decode(bytes);
  }

  // markers.inside: inner relative to outer when it lies strictly inside it and can be a decoy directory.
  function inside(outer, inner) {
    if (!inner.startsWith('/') || !outer.startsWith('/')) return null;
    const strip = (s) => s.replace(/^\/+|\/+$/g, '');
    const a = strip(outer), b = strip(inner);
    const rel = a === '' ? b : (b.startsWith(a + '/') ? b.slice(a.length + 1) : null);
    if (!rel) return null;
    const parts = rel.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p === MARKER || encode(p).length > NAME_MAX)) return null;
    return encode(rel).length <= DECOY_MAX ? rel : null;
  }
  // markers.host_files as preview2-shim file data: preopen i's MARKER, and a decoy for each path inside it.
  function fileData(paths) {
    return paths.map((outer, i) => {
      const root = { dir: { [MARKER]: { source: `preopen-${i}` } } };
      for (const inner of paths) {
        const rel = inside(outer, inner);
        if (rel === null) continue;
        let dir = root;
        for (const part of rel.split('/')) {
          dir.dir[part] = dir.dir[part] && dir.dir[part].dir ? dir.dir[part] : { dir: {} };
          dir = dir.dir[part];
        }
        if (!(MARKER in dir.dir)) dir.dir[MARKER] = { source: `preopen-${i}:${rel}` };
      }
      return root;
    });
  }

  function unreported(trap) {
    if (trap === null) return 'missing';
    return /all fuel consumed|wasm trap: interrupt|stopped by the lab/.test(trap) ? 'timeout' : 'trap';
  }
  // markers.classify for the opener.
  function classify(index, routedFd, marker) {
    if (routedFd < 0) return 'missing';
    if (routedFd !== FIRST_FD + index) return 'misrouted';
    return marker === `preopen-${index}` ? 'ok' : 'missing';
  }

  function read(paths, done) {
    const text = decode(done.stdout);
    const lines = text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
    const records = [];
    for (const line of lines) { try { const r = JSON.parse(line); if (r && typeof r === 'object') records.push(r); } catch (e) { /* cut short */ } }
    const fds = records.filter((r) => r.kind === 'prestat').map((r) => ({
      fd: r.fd, errno: r.errno, name: 'name_hex' in r ? hex(r.name_hex) : null }));
    const routes = records.filter((r) => r.kind === 'route');
    const names = {};
    for (const e of fds) if (e.errno === 0 && e.name !== null) names[e.fd] = e.name;
    const preopens = paths.map((path, index) => {
      const expected = FIRST_FD + index;
      const seen = expected in names ? names[expected] : null;
      const r = routes[index];
      if (!r) {
        return { path, expected_fd: expected, name_seen: seen, routed_fd: null, routed_prefix: null, marker: null,
                 errno: null, outcome: unreported(done.trap) };
      }
      const marker = 'content_hex' in r ? hex(r.content_hex) : null;
      return { path, expected_fd: expected, name_seen: seen, routed_fd: r.fd,
               routed_prefix: 'prefix_hex' in r ? hex(r.prefix_hex) : null, marker,
               errno: r.open_errno || r.read_errno || null, outcome: classify(index, r.fd, marker) };
    });
    return { paths: paths.slice(), preopens, fds, trap: done.trap };
  }

  async function run({ build, guest = 'opener', paths }) {
    if (guest !== 'opener') throw new Error(`this page runs the opener guest only, not ${guest}`);
    if (!Array.isArray(paths)) throw new Error('paths: a list of guest paths');
    await load(build);
    const data = fileData(paths);
    const done = await globalThis.preopenLabBuilds[build].run(['opener', ...paths], paths.map((p, i) => [p, data[i]]));
    return { guest, adapter: build, ...read(paths, done) };
  }

  globalThis.preopenLab = {
    run,
    builds: () => Object.keys(manifest.builds),
  };
})();
