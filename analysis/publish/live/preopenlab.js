// window.preopenLab: the real adapter builds, run in the reader's own WebAssembly engine, in a Web
// Worker, so that no run holds up the page. A classic script (no modules, no fetch), so that a page
// opened from file:// can use it.
//   await preopenLab.run({build, guest, paths})  -> the fields of `python -m analysis run --json`
//   preopenLab.builds()                          -> what this page can run
//   preopenLab.guests()                          -> 'opener' (wasi-libc's own lookup), 'probe' (prestat only)
// Each build's script for a guest (bundle.mjs made it) is loaded the first time it is asked for; it
// only registers its bundle as a function (preopenLabSources[key]). From a file:// page a worker can
// be made from a blob: URL only, and can load no script there, so the worker is made of the shim's
// text and each build's text is sent to it. Layout and reading stay in the page and mirror
// analysis/model/markers.py, analysis/runs/guest_output.py and, for the probe's routes, wasi-libc's
// rule in analysis/model/chain.py. Runs go one at a time: the builds share the worker's one in-memory
// filesystem, set afresh for each run. A run still going at the lab's deadline (manifest.deadline,
// runs/runner.py's DEADLINE) is stopped by ending its worker, a timeout as the lab words it; the next
// run starts a fresh worker.
(function () {
  'use strict';
  const manifest = globalThis.preopenLabManifest || { builds: {}, base: '' };
  // The build scripts sit beside this one, wherever the page is: their folder is this script's own.
  const here = document.currentScript ? document.currentScript.src.replace(/[^/]*$/, '') : '';
  const FIRST_FD = 3;
  const MARKER = 'MARKER';
  const NAME_MAX = 255;
  const DECOY_MAX = 2048;
  const DEADLINE = manifest.deadline;  // seconds
  const sources = (globalThis.preopenLabSources ??= {});  // shim.js and each build's script fill it
  const loading = {};
  const utf8 = new TextEncoder();

  function load(build, guest) {
    const entry = manifest.builds[build] && manifest.builds[build][guest];
    if (!entry) return Promise.reject(new Error(`unknown build ${build}: choose one of ${Object.keys(manifest.builds).join(', ')}`));
    const key = `${build}/${guest}`;
    if (sources[key]) return Promise.resolve(key);
    loading[key] = loading[key] || new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = (manifest.base || here) + entry.file;
      script.onload = () => (sources[key] ? resolve(key) : reject(new Error(`${script.src} holds no ${key}`)));
      script.onerror = () => reject(new Error(`could not load ${script.src}`));
      document.head.appendChild(script);
    });
    return loading[key];
  }

  // What the worker runs after the shim: a build's text arrives once per worker and is run there
  // (indirect eval, as a script would be: an error in it is the worker's); each run answers with its
  // output, its bytes moved.
  function inWorker() {
    globalThis.preopenLabBuilds = {};
    async function answer({ key, argv, preopens }) {
      let done;
      try {
        done = await globalThis.preopenLabBuilds[key].run(argv, preopens);
      } catch (e) {
        done = { stdout: new Uint8Array(0), stderr: new Uint8Array(0), trap: String(e && e.message || e) };
      }
      postMessage(done, [done.stdout.buffer, done.stderr.buffer]);
    }
    onmessage = ({ data }) => (data.source ? (0, eval)(`(${data.source})()`) : answer(data));
  }
  let url = null;
  let worker = null;  // { thread, loaded: the keys whose text it has run }
  function inThread(key, argv, preopens) {
    url = url || URL.createObjectURL(new Blob([`(${sources.shim})();\n(${inWorker})();\n`], { type: 'text/javascript' }));
    const w = worker = worker || { thread: new Worker(url), loaded: new Set() };
    if (!w.loaded.has(key)) {
      w.thread.postMessage({ source: String(sources[key]) });
      w.loaded.add(key);
    }
    return new Promise((resolve, reject) => {
      const end = () => {
        clearTimeout(timer);
        w.thread.terminate();
        if (worker === w) worker = null;
      };
      const timer = setTimeout(() => {
        end();
        resolve({ stdout: new Uint8Array(0), stderr: new Uint8Array(0),
                  trap: `stopped by the lab after ${DEADLINE} s: still running at the deadline, so the page ended its worker` });
      }, DEADLINE * 1000);
      w.thread.onmessage = ({ data }) => { clearTimeout(timer); resolve(data); };
      w.thread.onerror = (e) => { e.preventDefault(); end(); reject(new Error(`the run's worker failed: ${e.message}`)); };
      w.thread.postMessage({ key, argv, preopens });
    });
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

  // markers.inside's test of what lies strictly inside a preopen: whether rel can be a decoy directory.
  function decoy(rel) {
    const parts = rel.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p === MARKER || encode(p).length > NAME_MAX)) return false;
    return encode(rel).length <= DECOY_MAX;
  }
  // markers.host_files as preview2-shim file data: preopen i's MARKER, and a decoy for each path inside
  // it. Each absolute path is looked up among the preopens named as its ancestors, near enough for a
  // decoy, rather than tried against every preopen: 10,000 preopens take milliseconds, not seconds.
  function fileData(paths) {
    const strip = (s) => s.replace(/^\/+|\/+$/g, '');
    const roots = paths.map((_, i) => ({ dir: { [MARKER]: { source: `preopen-${i}` } } }));
    const named = new Map();  // an absolute preopen's name, stripped of its outer slashes -> its indices
    paths.forEach((p, i) => {
      if (!p.startsWith('/')) return;
      const name = strip(p);
      if (!named.has(name)) named.set(name, []);
      named.get(name).push(i);
    });
    for (const inner of paths) {
      if (!inner.startsWith('/')) continue;
      const b = strip(inner);
      // Cut b at each '/' from the right (then before its start, the root '/'): what precedes is an
      // ancestor's name, what follows the decoy's path in it, too long for a decoy past DECOY_MAX.
      for (let cut = b.lastIndexOf('/'); b.length - cut - 1 <= DECOY_MAX; cut = b.lastIndexOf('/', cut - 1)) {
        const rel = b.slice(cut + 1);
        const owners = named.get(cut < 0 ? '' : b.slice(0, cut));
        if (owners && rel && decoy(rel)) {
          for (const i of owners) {
            let dir = roots[i];
            for (const part of rel.split('/')) {
              dir.dir[part] = dir.dir[part] && dir.dir[part].dir ? dir.dir[part] : { dir: {} };
              dir = dir.dir[part];
            }
            if (!(MARKER in dir.dir)) dir.dir[MARKER] = { source: `preopen-${i}:${rel}` };
          }
        }
        if (cut < 0) break;
      }
    }
    return roots;
  }

  // wasi-libc's rule (model.chain.libc_prefix and libc_route), on bytes: where the probe's opens would go.
  function libcPrefix(name) {
    const nul = name.indexOf(0);
    let n = nul < 0 ? name : name.subarray(0, nul);
    for (;;) {
      if (n[0] === 0x2f) n = n.subarray(1);
      else if (n[0] === 0x2e && n[1] === 0x2f) n = n.subarray(2);
      else if (n.length === 1 && n[0] === 0x2e) n = n.subarray(1);
      else return n;
    }
  }
  function libcRoute(table, target) {
    let path = target;
    while (path[0] === 0x2f) path = path.subarray(1);
    const starts = (prefix) => prefix.every((b, i) => path[i] === b) && prefix.length <= path.length;
    const matches = (prefix) => {
      if (prefix.length === 0) return true;
      if (!starts(prefix)) return false;
      let end = prefix.length;
      while (end > 0 && prefix[end - 1] === 0x2f) end--;
      return end >= path.length || path[end] === 0x2f;
    };
    let best = null;
    for (const [fd, name] of [...table].reverse()) {
      const prefix = libcPrefix(name);
      if ((best === null || prefix.length > best.prefix.length) && matches(prefix)) best = { fd, prefix };
    }
    return best;
  }
  const markerTarget = (path) => (path === '' || path.endsWith('/') ? path + MARKER : `${path}/${MARKER}`);

  function unreported(trap) {
    if (trap === null) return 'missing';
    return /all fuel consumed|wasm trap: interrupt|stopped by the lab/.test(trap) ? 'timeout' : 'trap';
  }
  // markers.classify for the opener and the probe.
  function classify(index, routedFd, marker, guest) {
    if (routedFd < 0) return 'missing';
    if (routedFd !== FIRST_FD + index) return 'misrouted';
    if (guest === 'probe') return 'ok';  // no file was opened; the route is all there is
    return marker === `preopen-${index}` ? 'ok' : 'missing';
  }

  function byRule(table, path) {
    const route = libcRoute(table, encode(markerTarget(path)));
    return route === null ? { fd: -1 } : { fd: route.fd, prefix: decode(route.prefix) };
  }

  function read(guest, paths, done) {
    const text = decode(done.stdout);
    const lines = text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
    const records = [];
    for (const line of lines) { try { const r = JSON.parse(line); if (r && typeof r === 'object') records.push(r); } catch (e) { /* cut short */ } }
    const fds = records.filter((r) => r.kind === 'prestat').map((r) => ({
      fd: r.fd, errno: r.errno, name: 'name_hex' in r ? hex(r.name_hex) : null }));
    const routes = records.filter((r) => r.kind === 'route');
    const names = new Map();
    for (const e of fds) if (e.errno === 0 && e.name !== null) names.set(e.fd, e.name);
    const table = [...names].map(([fd, name]) => [fd, encode(name)]);
    const preopens = paths.map((path, index) => {
      const expected = FIRST_FD + index;
      const seen = names.has(expected) ? names.get(expected) : null;
      const r = guest === 'opener' ? routes[index] : fds.length && done.trap === null ? byRule(table, path) : null;
      if (!r) {
        return { path, expected_fd: expected, name_seen: seen, routed_fd: null, routed_prefix: null, marker: null,
                 errno: null, outcome: unreported(done.trap) };
      }
      const marker = 'content_hex' in r ? hex(r.content_hex) : null;
      const prefix = 'prefix' in r ? r.prefix : 'prefix_hex' in r ? hex(r.prefix_hex) : null;
      return { path, expected_fd: expected, name_seen: seen, routed_fd: r.fd, routed_prefix: prefix, marker,
               errno: r.open_errno || r.read_errno || null, outcome: classify(index, r.fd, marker, guest) };
    });
    return { paths: paths.slice(), preopens, fds, trap: done.trap };
  }

  // What the lab refuses (model.wasi.check_paths), refused here in its words; everything else is an experiment.
  function check(paths) {
    if (!Array.isArray(paths)) throw new Error('paths: a list of guest paths');
    if (paths.length === 0) throw new Error('no preopen paths given: name at least one, e.g. /a /b /c');
    for (const p of paths) {
      if (typeof p !== 'string') throw new Error(`preopen path ${JSON.stringify(p)} is not text: give paths as strings`);
      if (p.includes('\0')) throw new Error(`preopen path ${JSON.stringify(p)} contains a NUL byte, which WASI cannot carry: remove it`);
      if (!p.isWellFormed()) throw new Error(`preopen path ${JSON.stringify(p)} is not valid UTF-8 text: WASI names are UTF-8`);
    }
  }
  const guests = manifest.guests || ['opener'];
  let queue = Promise.resolve();  // one run at a time: the worker's filesystem and stdout are shared
  async function run({ build, guest = 'opener', paths }) {
    if (!guests.includes(guest)) throw new Error(`unknown guest ${guest}: choose one of ${guests.join(', ')}`);
    check(paths);
    const key = await load(build, guest);
    const data = fileData(paths);
    const turn = queue.then(() => inThread(key, [guest, ...paths], paths.map((p, i) => [p, data[i]])));
    queue = turn.catch(() => {});
    const done = await turn;
    return { guest, adapter: build, ...read(guest, paths, done) };
  }

  globalThis.preopenLab = {
    run,
    builds: () => Object.keys(manifest.builds),
    guests: () => guests.slice(),
  };
})();
