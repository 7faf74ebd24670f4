// window.preopenLab.scan(bytes): `python -m analysis scan --json` for one file, in the reader's
// browser, with nothing installed. A classic script (no modules, no fetch), so that a page opened
// from file:// can use it.
//   await preopenLab.scan(bytes)  -> { answer, kind, modules, findings, problem }
//   await preopenLab.scan(bytes, { design: true })  the same, each finding with its allocator's design
// answer: "affected", "not affected", "not exposed", "cannot tell", "no adapter", or the lab's
// one-line error ("error: ..."). Each finding: where, verdict, role, wasi_version, evidence, note, sha256.
// The reading and the judgement mirror analysis/artifacts/inside.py, analysis/reach/scan.py and
// analysis/reach/adapter_host.py, with their constants handed in from them (scan-constants.js,
// written by the report build): every adapter's own code is run, with the WASIp2 imports the
// preopen calls need served here, and asked fd_prestat_get / fd_prestat_dir_name for three lists.
// The file is read in a Web Worker, and each adapter judged in a worker of its own, each ended at
// its deadline (3 s an adapter, the CLI's 10 s a file: a loop, a compile bomb); memories and
// tables are capped by rewriting their limits before compiling (reading.js). A published adapter
// file is embedded first, as the lab does, by wasm-tools as jco ships it (tools.js, loaded only
// then), as is each adapter's allocator, when its design is asked for (design.js reads it). What
// the page does not do: compare with the catalogued builds' code.
(function () {
  'use strict';
  const S = globalThis.preopenLabScanConstants;

  // Everything below this function runs in the scan's worker, handed the constants.
  function inWorker(S, designReader, reading) {
    const read = reading(S);
    const readDesign = designReader(S, read);
    const { LabError, utf8, hex, kindOf, readModule, coreModules, checkCode, version, importModules,
            exportedFunctions, isAdapter, capped } = read;
    class Unserved extends Error {}

    // adapter_host.told: the adapter's answers for fd 3, 4, ... up to the first EBADF.
    function told(module, compiled, names) {
      const host = { memory: null, realloc: null, unserved: null };
      const view = () => new DataView(host.memory.buffer);
      const bytes = () => new Uint8Array(host.memory.buffer);
      const write = (at, data) => {
        if (at < 0 || at + data.length > host.memory.buffer.byteLength) throw new RangeError('out of bounds memory access');
        bytes().set(data, at);
      };
      const u32s = (...values) => { const b = new Uint8Array(4 * values.length); const v = new DataView(b.buffer);
        values.forEach((x, i) => v.setUint32(4 * i, x >>> 0, true)); return b; };
      const scratch = (size, align = 8) => {
        const at = host.memory.buffer.byteLength;
        host.memory.grow(Math.floor((size + align + 65535) / 65536));
        return at;
      };
      const realloc = (align, size) => {
        const at = ((host.realloc(0, 0, align, size) % 2 ** 32) + 2 ** 32) % 2 ** 32;  // Python's at % (1 << 32)
        if (at > host.memory.buffer.byteLength - size) {
          throw new RangeError(`its cabi_import_realloc gave the host an address outside its memory (${at} for ${size} bytes)`);
        }
        return at;
      };
      const served = {};
      for (const item of module.imports) {
        const at = (served[item.module] ??= {});
        if (item.kind === 'memory') {
          if (item.limits.max !== null) {
            throw new LabError(`the adapter cannot be instantiated by the scanner: its memory ${item.module}::${item.name} `
                               + 'has a maximum, and the memory the lab gives it has none');
          }
          at[item.name] = host.memory = new WebAssembly.Memory({ initial: item.limits.min, maximum: S.memory_limit / 65536 });
          continue;
        }
        if (item.kind !== 'func') {
          const type = { table: 'TableType', global: 'GlobalType', tag: 'TagType' }[item.kind] || 'type';
          throw new LabError(`the adapter imports a ${type} ${item.module}::${item.name}, which the scanner cannot give it`);
        }
        const name = item.name;
        let body;
        if (item.module.startsWith('wasi:filesystem/preopens@') && name === 'get-directories') {
          body = (retptr) => {
            const entries = realloc(4, 12 * names.length);
            names.forEach((n, i) => {
              write(entries + 12 * i, u32s(S.first_descriptor + i));
              const text = n.length ? realloc(1, n.length) : 0;
              write(text, n);
              write(entries + 12 * i + 4, u32s(text, n.length));
            });
            write(retptr, u32s(entries, names.length));
          };
        } else if (Object.hasOwn(S.stdio_handles, name)) {
          body = () => S.stdio_handles[name];
        } else if (name.startsWith('get-terminal-') || name === 'get-environment' || name === 'get-arguments') {
          body = (retptr) => write(retptr, new Uint8Array(8));
        } else if (name.startsWith('[resource-drop]')) {
          body = () => undefined;
        } else if (name === '[method]descriptor.get-type') {
          body = (handle, retptr) => write(retptr, Uint8Array.of(0, S.directory));
        } else if (item.module === '__main_module__' && name === 'cabi_realloc') {
          body = (old, oldSize, align, size) => scratch(size, align);
        } else {
          const what = `${item.module}#${name}`;
          body = () => { host.unserved ??= what; throw new Unserved(`the scanner does not serve ${what}`); };
        }
        at[name] = body;
      }
      let instance;
      try {
        instance = new WebAssembly.Instance(compiled, served);
      } catch (e) {
        throw new LabError(`the adapter cannot be instantiated by the scanner: ${lastLine(e)}`);
      }
      const ex = instance.exports;
      if (host.memory === null) {
        if (!(ex.memory instanceof WebAssembly.Memory)) throw new LabError('it neither imports nor exports a memory, so no host can hand it names');
        host.memory = ex.memory;
      }
      const arity = { cabi_import_realloc: 4, fd_prestat_get: 2, fd_prestat_dir_name: 3 };
      const call = (name, ...args) => {
        if (typeof ex[name] !== 'function' || ex[name].length !== arity[name]) {
          throw new TypeError(`${name} takes ${ex[name] && ex[name].length} parameters, not ${arity[name]}`);
        }
        return Number(ex[name](...args));  // an i64 result is a BigInt here, an int in Python
      };
      host.realloc = (...args) => call('cabi_import_realloc', ...args);
      const answers = [];
      try {
        const at = scratch(8 + 65536);
        for (let fd = S.first_fd; fd < S.first_fd + S.asked_max; fd++) {
          const errno = call('fd_prestat_get', fd, at);
          if (errno !== 0) { answers.push({ fd, errno }); break; }
          const length = Math.min(view().getUint32(at + 4, true), 65536);
          const e2 = call('fd_prestat_dir_name', fd, at + 8, length);
          answers.push({ fd, errno: e2, name: e2 === 0 ? bytes().slice(at + 8, at + 8 + length) : null });
        }
      } catch (e) {
        if (host.unserved) throw new Unserved(host.unserved);
        throw new LabError(`the adapter failed while answering: ${lastLine(e)}`);
      }
      return answers;
    }
    const lastLine = (e) => String(e && e.message || e).trim().split('\n').pop() || 'no detail';

    // Python's json.dumps (ASCII only) of bytes decoded with 'backslashreplace'.
    function shown(name) {
      let text = '';
      const all = name || new Uint8Array(0);
      for (let i = 0; i < all.length;) {
        const n = utf8Length(all, i);
        if (n) { text += utf8.decode(all.subarray(i, i + n)); i += n; } else { text += '\\x' + hex([all[i]]); i++; }
      }
      let out = '"';
      for (const ch of text) {
        const c = ch.codePointAt(0);
        if (ch === '"' || ch === '\\') out += '\\' + ch;
        else if (c >= 0x20 && c <= 0x7e) out += ch;
        else if ({ 8: 1, 9: 1, 10: 1, 12: 1, 13: 1 }[c]) out += { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[c];
        else if (c > 0xffff) {
          const h = 0xd800 + ((c - 0x10000) >> 10), l = 0xdc00 + ((c - 0x10000) & 0x3ff);
          out += `\\u${h.toString(16)}\\u${l.toString(16)}`;
        } else out += `\\u${c.toString(16).padStart(4, '0')}`;
      }
      return out + '"';
    }
    function utf8Length(b, i) {  // the length of a valid UTF-8 sequence at i, or 0
      const x = b[i];
      const need = x < 0x80 ? 1 : x >= 0xc2 && x <= 0xdf ? 2 : x >= 0xe0 && x <= 0xef ? 3 : x >= 0xf0 && x <= 0xf4 ? 4 : 0;
      if (!need || i + need > b.length) return 0;
      for (let k = 1; k < need; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
      if (need === 3 && ((x === 0xe0 && b[i + 1] < 0xa0) || (x === 0xed && b[i + 1] >= 0xa0))) return 0;
      if (need === 4 && ((x === 0xf0 && b[i + 1] < 0x90) || (x === 0xf4 && b[i + 1] >= 0x90))) return 0;
      return need;
    }
    const equal = (a, b) => a && a.length === b.length && a.every((x, i) => x === b[i]);
    const encoder = new TextEncoder();

    // scan._run: one adapter, judged.
    function described(m) {  // what is said of an adapter whatever its run gives
      const versions = [...new Set([...importModules(m)].map((n) => (n.match(version) || [])[1]).filter(Boolean))].sort();
      const role = m.imports.some((i) => i.module === '__main_module__' && i.name === '_start' && i.kind === 'func') ? 'command' : 'reactor';
      return { where: m.where, wasi_version: versions.join(', ') || null, role };
    }
    async function judge(m) {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', m.data));
      const common = { ...described(m), sha256: hex(digest) }, role = common.role;
      const funcs = exportedFunctions(m);
      const finding = (verdict, evidence, note = '') => ({ ...common, verdict, evidence, note });
      if (!funcs.has('fd_prestat_dir_name') || !funcs.has('fd_prestat_get')) {
        return finding('not exposed', ['it exports no fd_prestat_dir_name: the program never asks a preopen\'s name']);
      }
      if (!funcs.has('cabi_import_realloc')) {
        return finding('cannot tell', ['it exports no cabi_import_realloc, which the host needs to hand it the directory names']);
      }
      let code = m, note = '';
      if (m.customs.some((c) => c.startsWith('component-type'))) {  // a published adapter file: embedded first
        try {
          code = await embedded(m, role);
        } catch (e) {
          return finding('cannot tell', [e instanceof LabError ? e.message : `the scanner could not run it (${e && e.name || 'Error'}: ${lastLine(e)})`]);
        }
        note = S.published_note;
      }
      const lists = S.name_lists.map((l) => l.map((n) => encoder.encode(n)));
      const wrong = [];
      let blind = 0;
      try {
        let compiled;
        try {
          compiled = new WebAssembly.Module(capped(code));
        } catch (e) {
          if (e instanceof LabError) throw e;
          throw new LabError(`this browser cannot compile it: ${lastLine(e)}`);
        }
        lists.forEach((names, k) => {
          const answers = told(code, compiled, names);
          if (answers.length && answers[0].fd === S.first_fd && answers[0].errno !== 0) blind++;
          const slips = answers.slice(0, names.length).map((a) => {
            const given = names[a.fd - S.first_fd];
            if (a.errno !== 0) return `fd ${a.fd} (${shown(given)}): errno ${a.errno}`;
            return equal(a.name, given) ? '' : `fd ${a.fd} told ${shown(a.name)} for ${shown(given)}`;
          }).filter(Boolean);
          if (answers.length < names.length) slips.push(`the scanner asked no further than fd ${answers[answers.length - 1].fd}, the first to fail`);
          if (slips.length) wrong.push(`with ${S.name_lists[k].join(' ')}: ${slips.join(', ')}`);
        });
      } catch (e) {
        if (e instanceof Unserved) return finding('cannot tell', [`it called ${e.message}, which the scanner does not serve`]);
        if (e instanceof LabError) return finding('cannot tell', [e.message]);
        return finding('cannot tell', [`the scanner could not run it (${e && e.name || 'Error'}: ${lastLine(e)})`]);
      }
      if (blind === lists.length) {
        return finding('cannot tell', ['it saw no preopen at all in any list, so its answers say nothing about the bug']);
      }
      return finding(wrong.length ? 'affected' : 'not affected',
                     wrong.length ? wrong : [`every name came back as given, in ${lists.length} lists`], note);
    }

    // scan._embedded: a published adapter file composed with a small program (the probe for a
    // command adapter, the reactor library for a reactor) by wit-component, as jco ships it in
    // wasm-tools (the page loads it only now), and taken back out, start-up code and all.
    let toolsArrived = null;
    async function wasmTools() {  // asked of the page the first time; its text is run here
      if (!globalThis.preopenLabTools) {
        const text = await new Promise((resolve) => { toolsArrived = resolve; postMessage({ need: 'tools' }); });
        (0, eval)(`(${text})()`);
      }
      return globalThis.preopenLabTools;
    }
    async function embedded(m, role) {
      const tools = await wasmTools();
      const program = Uint8Array.from(atob(role === 'command' ? S.probe : S.reactor_library), (c) => c.charCodeAt(0));
      let component;
      try {
        component = tools.componentNew(program, [['wasi_snapshot_preview1', m.data]]);
      } catch (e) {
        throw new LabError(`wasm-tools could not compose the guest with this adapter file: ${lastLine(e.payload || e)}`);
      }
      return coreModules(component).find(isAdapter);
    }

    // Two errands, each in a worker of its own: read a file (its kind, its core modules, each
    // adapter's bytes), or judge one adapter.
    onmessage = async ({ data }) => {
      if (data.tools) { toolsArrived(data.tools); return; }
      let said;
      try {
        if (data.judge) {
          said = await judge(readModule(data.where, new Uint8Array(data.judge)));
        } else if (data.design) {
          said = readDesign(await wasmTools(), new Uint8Array(data.design), data.verdict);
        } else {
          const bytes = new Uint8Array(data.read);
          const modules = coreModules(bytes);
          modules.filter(isAdapter).forEach(checkCode);
          said = { kind: kindOf(bytes), modules: modules.length,
                   adapters: await Promise.all(modules.filter(isAdapter).map(async (m) => ({
                     ...described(m), sha256: hex(new Uint8Array(await crypto.subtle.digest('SHA-256', m.data))),
                     data: m.data.slice().buffer }))) };
        }
      } catch (e) {
        said = { error: `error: ${e instanceof LabError ? e.message : `the page's scanner failed (${lastLine(e)})`}` };
      }
      postMessage(said, said.adapters ? said.adapters.map((a) => a.data) : []);
    };
  }

  let url = null;
  // One errand in a fresh worker, ended when it answers or after `seconds`: nothing of one file
  // or adapter stays for the next. Resolves with its answer, or { stopped } / { died }.
  function errand(message, transfer, seconds) {
    url = url || URL.createObjectURL(new Blob([`(${inWorker})(${JSON.stringify(S)}, ${globalThis.preopenLabDesign}, ${globalThis.preopenLabReading});`],
                                              { type: 'text/javascript' }));
    const worker = new Worker(url);
    return new Promise((resolve) => {
      const end = (said) => { clearTimeout(timer); worker.terminate(); resolve(said); };
      const timer = setTimeout(() => end({ stopped: true }), Math.max(0, seconds) * 1000);
      worker.onmessage = ({ data: said }) => {
        if (!said.need) { end(said); return; }
        tools().then((text) => worker.postMessage({ tools: text }), () => end({ died: 'this page could not load wasm-tools' }));
      };
      worker.onerror = (e) => { e.preventDefault(); end({ died: e.message || 'out of memory' }); };
      worker.postMessage(message, transfer);
    });
  }

  // scan: the file read in one worker, then each adapter judged in a worker of its own, with
  // `adapter_seconds` each (the lab's wasmtime stops a loop in an adapter's own code by fuel, in
  // under a second, and judges the others) and `seconds` for the whole file, as the CLI's deadline.
  // options.design: also read each adapter's allocator design (wasm-tools prints its code; loaded
  // then), after the answer, which options.answered(said) gets first.
  async function scan(bytes, options = {}) {
    const data = bytes instanceof ArrayBuffer ? bytes.slice(0) : new Uint8Array(bytes).slice().buffer;
    if (data.byteLength > S.max_bytes) {
      return { answer: `error: the file is larger than ${S.max_bytes.toLocaleString('en-US')} bytes, more than the scanner reads` };
    }
    const head = new Uint8Array(data.slice(0, 8));
    const until = performance.now() + S.seconds * 1000;
    const left = () => (until - performance.now()) / 1000;
    const cut = (problem) => ({ answer: 'cannot tell', kind: kindOfHead(head), modules: null, findings: [], problem });
    const died = (how) => cut(`the scanner's worker ended (${how}): an adapter that asks for more memory than the browser gives ends it`);
    const read = await errand({ read: data }, [data], left());
    if (read.stopped) return cut(S.deadline_problem);
    if (read.died) return died(read.died);
    if (read.error) return { answer: read.error };
    const findings = [];
    const kept = read.adapters.map((a) => a.data.slice(0));  // each errand takes its own copy
    for (const a of read.adapters) {
      const budget = Math.min(S.adapter_seconds, left());
      const found = await errand({ judge: a.data, where: a.where }, [a.data], budget);
      if (found.stopped && budget < S.adapter_seconds) return cut(S.deadline_problem);
      if (found.died) return died(found.died);
      if (found.error) return { answer: found.error };
      findings.push(found.stopped ? { where: a.where, wasi_version: a.wasi_version, role: a.role, sha256: a.sha256,
                                      verdict: 'cannot tell', evidence: [S.adapter_stopped], note: '' } : found);
    }
    const said = { answer: answerOf(findings), kind: read.kind, modules: read.modules, findings, problem: '' };
    if (!options.design) return said;
    if (options.answered) options.answered(said);
    const designsUntil = performance.now() + S.design_seconds * 1000;  // one budget for all of a file's designs
    for (const [i, f] of findings.entries()) {
      const budget = (designsUntil - performance.now()) / 1000;
      const got = budget > 0 ? await errand({ design: kept[i], verdict: f.verdict }, [kept[i]], budget) : { stopped: true };
      Object.assign(f, got.stopped || got.died || got.error ? {
        design: 'unknown', design_agrees: null, design_evidence: `its allocator could not be read: ${got.stopped
          ? `the page's ${S.design_seconds} s for reading the file's designs ran out` : got.error || got.died}` } : got);
    }
    return said;
  }
  function answerOf(findings) {  // scan.FileScan.answer
    const verdicts = new Set(findings.map((f) => f.verdict));
    for (const word of ['affected', 'cannot tell']) if (verdicts.has(word)) return word;
    if (!findings.length) return 'no adapter';
    return verdicts.size === 1 && verdicts.has('not exposed') ? 'not exposed' : 'not affected';
  }
  // wasm-tools' script (tools.js, beside this one), loaded the first time a scan asks for it; it
  // only registers its bundle's text, which the worker runs.
  const here = document.currentScript ? document.currentScript.src.replace(/[^/]*$/, '') : '';
  let loading = null;
  function tools() {
    const sources = (globalThis.preopenLabSources ??= {});
    loading = loading || new Promise((resolve, reject) => {
      if (sources.tools) { resolve(String(sources.tools)); return; }
      const script = document.createElement('script');
      script.src = here + 'tools.js';
      script.onload = () => (sources.tools ? resolve(String(sources.tools)) : reject(new Error('tools.js registered nothing')));
      script.onerror = () => { loading = null; reject(new Error(`could not load ${script.src}`)); };
      document.head.appendChild(script);
    });
    return loading;
  }
  function kindOfHead(head) {
    return head[4] === 1 ? 'module' : 'component';
  }

  globalThis.preopenLab = Object.assign(globalThis.preopenLab || {}, { scan });
})();
