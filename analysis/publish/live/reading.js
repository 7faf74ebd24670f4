// How page 7's scanner reads a WebAssembly file, as analysis/artifacts/inside.py does: its kind,
// every core module of a component (nested ones too, at most nesting_max deep), each module's
// imports, exports, custom sections and the limits of its memories and tables; which modules are
// preview1 adapters; and a module with its memories and tables capped at scan's store limits
// before the browser compiles it. Run in the scan's worker, handed scan-constants.js's constants:
// preopenLabReading(S) -> the functions below.
globalThis.preopenLabReading = function (S) {
  'use strict';
  class LabError extends Error {}
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });  // Python's decode('utf-8', 'replace'): a BOM kept
  const MAGIC = [0, 0x61, 0x73, 0x6d];
  const CORE = [1, 0, 0, 0];
  const COMPONENT = [0x0d, 0, 1, 0];
  const KINDS = { 0: 'func', 1: 'table', 2: 'memory', 3: 'global', 4: 'tag' };
  const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  const same = (data, at, want) => want.every((b, i) => data[at + i] === b);

  function kindOf(data) {
    if (data.length < 8 || !same(data, 0, MAGIC)) {
      throw new LabError('not a WebAssembly file (no \\0asm header): give a .wasm component or core module');
    }
    if (same(data, 4, CORE)) return 'module';
    if (same(data, 4, COMPONENT)) return 'component';
    throw new LabError(`a WebAssembly file of an unknown version (${hex(data.subarray(4, 8))}): give a component or core module`);
  }

  class Reader {
    constructor(data, at, end, where) { Object.assign(this, { data, at, end, where }); }
    byte() {
      if (this.at >= this.end) throw new LabError(`${this.where} is cut short: the file is truncated or damaged`);
      return this.data[this.at++];
    }
    u32(bits = 35) {  // a Number: exact to 2^53, enough to compare any limit with ours
      let value = 0, scale = 1, shift = 0;
      for (;;) {
        const b = this.byte();
        value += (b & 0x7f) * scale;
        if (!(b & 0x80)) return value;
        scale *= 128;
        shift += 7;
        if (shift > bits) throw new LabError(`${this.where} holds a malformed number: the file is damaged`);
      }
    }
    rawName() {
      const size = this.u32();
      if (this.at + size > this.end) throw new LabError(`${this.where} is cut short: the file is truncated or damaged`);
      const raw = this.data.subarray(this.at, this.at + size);
      this.at += size;
      return raw;
    }
    name() { return utf8.decode(this.rawName()); }
    valueType() { if ([0x63, 0x64].includes(this.byte())) this.u32(70); }
    skipConstant() {  // a constant expression up to its end (0x0b); false for an instruction it does not know
      for (;;) {
        const op = this.byte();
        if (op === 0x0b) return true;
        if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2 || op === 0xd0) this.u32(70);  // consts, global.get, ref.func, ref.null
        else if (op === 0xfb) {  // GC: i31, the any/extern conversions, struct and array allocation
          const sub = this.u32();
          if ([0x00, 0x01, 0x06, 0x07].includes(sub)) this.u32();
          else if (sub === 0x08) { this.u32(); this.u32(); } else if (![0x1a, 0x1b, 0x1c].includes(sub)) return false;
        } else if (op === 0x43) this.at += 4;
        else if (op === 0x44) this.at += 8;
        else if (![0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) return false;  // extended-const arithmetic
      }
    }
    limits() {
      const start = this.at, flags = this.byte(), min = this.u32(70);
      const max = flags & 1 ? this.u32(70) : null;
      if (flags & 8) this.u32();
      return { flags, min, max, start, end: this.at };
    }
    importType(kind) {
      if (kind === 0 || kind === 4) { if (kind === 4) this.byte(); this.u32(); return null; }
      if (kind === 1) { this.valueType(); return this.limits(); }
      if (kind === 2) return this.limits();
      if (kind === 3) { this.valueType(); this.byte(); return null; }
      throw new LabError(`${this.where} has an import of unknown kind ${kind}: the file is damaged or too new`);
    }
  }

  function* sections(data, where) {
    const r = new Reader(data, 8, data.length, where);
    while (r.at < r.end) {
      const head = r.at, id = r.byte(), size = r.u32(), start = r.at;
      if (start + size > data.length) {
        throw new LabError(`${where} is cut short (a section runs past the end of the file): the file is truncated`);
      }
      r.at = start + size;
      yield [id, start, start + size, head];
    }
  }

  function readModule(where, data) {
    if (!same(data, 0, MAGIC) || !same(data, 4, CORE)) {
      throw new LabError(`${where} is not a core module (bad header): the file is damaged`);
    }
    const imports = [], exports = [], customs = [], memories = [], tables = [];
    for (const [id, start, end] of sections(data, where)) {
      const r = new Reader(data, start, end, where);
      if (id === 0) customs.push(r.name());
      else if (id === 2) {
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name(), name = r.name(), kind = r.byte();
          imports.push({ module, name, kind: KINDS[kind] || 'other', limits: r.importType(kind) });
        }
      } else if (id === 7) {
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name(), kind = r.byte();
          r.u32();
          exports.push({ name, kind: KINDS[kind] || 'other' });
        }
      } else if (id === 4) {
        for (let n = r.u32(); n > 0; n--) {
          const initialized = r.data[r.at] === 0x40 && r.data[r.at + 1] === 0;  // 0x40 0x00 type limits expr
          if (initialized) r.at += 2;
          r.valueType();
          tables.push(r.limits());
          if (initialized && !r.skipConstant()) {  // not read: no later table could be capped, so none is run
            throw new LabError(`${where} has a table initializer the scanner cannot read, so it cannot cap its tables`);
          }
        }
      } else if (id === 5) {
        for (let n = r.u32(); n > 0; n--) memories.push(r.limits());
      }
    }
    return { where, data, imports, exports, customs, memories, tables };
  }

  function coreModules(data) {
    if (kindOf(data) === 'module') return [readModule('module 0', data)];
    const found = [];
    walk(data, 'component', found, 0);
    return found;
  }
  function walk(data, where, found, depth) {
    if (depth > S.nesting_max) throw new LabError(`it nests components more than ${S.nesting_max} deep, more than the scanner reads`);
    let modules = 0, components = 0;
    for (const [id, start, end] of sections(data, where)) {
      if (id === 1) found.push(readModule(`${where} > module ${modules++}`, data.subarray(start, end)));
      else if (id === 4) walk(data.subarray(start, end), `${where} > component ${components++}`, found, depth + 1);
    }
  }

  // inside.code_shapes's walk over the bodies, which the lab does for every adapter before
  // judging it: a body size that runs past the section is the file's error, as there.
  function checkCode(m) {
    for (const [id, start, end] of sections(m.data, 'module')) {  // code_shapes names it "module", wherever it is
      if (id !== 10) continue;
      const r = new Reader(m.data, start, end, 'module');
      for (let n = r.u32(); n > 0; n--) { const size = r.u32(); r.at += size; }  // read first, then move
    }
  }
  const version = new RegExp(S.version_pattern.replaceAll('\\d', '\\p{Nd}'), 'u');  // Python's \d: any decimal digit
  const importModules = (m) => new Set(m.imports.map((i) => i.module));
  const exportedFunctions = (m) => new Set(m.exports.filter((e) => e.kind === 'func').map((e) => e.name));
  function isAdapter(m) {
    const mods = importModules(m), funcs = exportedFunctions(m);
    if (![...mods].some((x) => x.startsWith('wasi:'))) return false;
    return S.preview1.some((f) => funcs.has(f)) || mods.has('__main_module__') || funcs.has('cabi_import_realloc');
  }

  // The module with every memory and table it defines capped (scan's store limits: memory_limit
  // bytes a memory, table_limit elements a table), so that growing past them fails as it does
  // under wasmtime; one that starts larger, or a 64-bit memory (the lab's engine has memory64
  // off), cannot be run here. Only the limits' bytes change; their sections are re-encoded.
  function capped(m) {
    const pages = S.memory_limit / 65536;
    const edits = [];
    for (const [limits, most, what] of [...m.memories.map((l) => [l, pages, 'memory']),
                                        ...m.tables.map((l) => [l, S.table_limit, 'table'])]) {
      if (limits.flags & 4) throw new LabError(`it has a 64-bit ${what}, which the scanner, like the lab's wasmtime, does not run`);
      if (limits.flags & 8) throw new LabError(`it has a ${what} of custom page size, which the scanner does not run`);
      if (limits.flags & 2) throw new LabError(`it has a shared ${what}, which the scanner, like the lab's wasmtime, does not run`);
      if (limits.min > most) throw new LabError(`a ${what} of it starts larger than the scanner's limit`);
      if (limits.max !== null && limits.max <= most) continue;
      edits.push({ start: limits.start, end: limits.end, bytes: [limits.flags | 1, ...leb(limits.min), ...leb(most)] });
    }
    if (!edits.length) return m.data;
    const parts = [m.data.subarray(0, 8)];
    for (const [id, start, end, head] of sections(m.data, m.where)) {
      const mine = edits.filter((e) => e.start >= start && e.end <= end);
      if (!mine.length) { parts.push(m.data.subarray(head, end)); continue; }
      const body = [];
      let at = start;
      for (const e of mine) { body.push(m.data.subarray(at, e.start), Uint8Array.from(e.bytes)); at = e.end; }
      body.push(m.data.subarray(at, end));
      parts.push(Uint8Array.of(id, ...leb(body.reduce((n, b) => n + b.length, 0))), ...body);
    }
    const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function leb(value) {
    const out = [];
    do { let b = value % 128; value = Math.floor(value / 128); if (value) b |= 0x80; out.push(b); } while (value);
    return out;
  }

  return { LabError, utf8, hex, kindOf, Reader, sections, readModule, coreModules, checkCode, version,
           importModules, exportedFunctions, isAdapter, capped };
};
