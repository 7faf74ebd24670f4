// The allocator's design, read in the scan's worker as analysis/reach/allocator.py reads it: the
// function the cabi_import_realloc export names, found in the module's own bytes (printed.py's
// locate), printed by wasm-tools (as jco ships it: the tools the worker was handed), each
// instruction cleaned of its comments, and matched against the published builds' exact
// instructions (the patterns come from allocator.py through scan-constants.js). The worker's
// scanner text includes this function's text and calls it: preopenLabDesign(S, reading) -> read(tools, data, verdict).
globalThis.preopenLabDesign = function (S, reading) {
  'use strict';
  const D = S.design;
  // why a design could not be read, said as allocator.py says it; the module is read with the
  // scanner's own reader (reading.js), as printed.py reads it with inside.py's
  const { LabError: Unread, Reader, sections } = reading;

  // printed.locate: which function, where; a string is a design's reason, Unread a damaged module.
  function locate(data) {
    let imported = 0, exported = null, bodies = null;
    const want = new TextEncoder().encode(D.export);
    for (const [id, start, end] of sections(data, 'the module')) {
      const r = new Reader(data, start, end, 'the module');
      if (id === 2) {
        for (let n = r.u32(); n > 0; n--) { r.name(); r.name(); const kind = r.byte(); imported += kind === 0; r.importType(kind); }
      } else if (id === 7) {
        for (let n = r.u32(); n > 0; n--) {
          const raw = r.rawName(), kind = r.byte(), index = r.u32();
          if (raw.length === want.length && raw.every((b, i) => b === want[i])) exported = [kind, index];
        }
      } else if (id === 10) bodies = [start, end];
    }
    if (exported === null) return `it exports no ${D.export}, the function the host hands it names through`;
    const [kind, index] = exported;
    if (kind !== 0) return `its ${D.export} export is not a function`;
    if (index < imported) return `its ${D.export} is an import it passes on, not code of its own`;
    if (bodies === null) throw new Unread('it has no code section: the module is damaged');
    const r = new Reader(data, bodies[0], bodies[1], 'the module');
    const count = r.u32(), defined = index - imported;
    if (defined >= count) throw new Unread(`its ${D.export} export names function ${index}, which it does not have: the module is damaged`);
    for (let k = 0; k < defined; k++) {
      const skip = r.u32();  // read first: "r.at += r.u32()" would add to r.at as it was before the number
      r.at += skip;
      if (r.at > r.end) throw new Unread('its code section is cut short: the module is damaged');
    }
    const size = r.u32();
    if (r.at + size > r.end) throw new Unread('its code section is cut short: the module is damaged');
    if (size > D.function_max) return `its ${D.export} is ${size.toLocaleString('en-US')} bytes of code, more than the ${D.function_max.toLocaleString('en-US')} read`;
    return { index, defined };
  }

  // printed.clean and printed._read_function, on wasm-tools' whole text (jco's print has no offsets).
  const clean = (t) => t.replace(/\s*;;.*$/, '').replace(/\s*\(;@?\d+;\)/g, '').split(/\s+/).filter(Boolean).join(' ');
  function instructions(text, located) {
    let defined = -1, inside = false;
    const out = [];
    const tooLong = () => new Unread("wasm-tools printed more than the allocator's reader takes: the module is too large");
    for (const line of text.split('\n')) {
      const long = line.length >= D.line_max;  // printed.py reads lines of at most LINE_MAX_BYTES
      if (long && inside) throw tooLong();
      if (!inside) {
        if (line.startsWith('  (func ')) {
          defined += 1;
          if (defined === located.defined) {
            if (long) throw tooLong();
            const m = /^ {2}\(func (?:(\$(?:"(?:[^"\\]|\\.)*"|\S+)) )?\(;(\d+);\)/.exec(line);
            if (!m || Number(m[2]) !== located.index) throw new Unread('wasm-tools printed another function than the module\'s bytes name: the module is odd');
            inside = true;
          }
        }
        continue;
      }
      if (line.startsWith('  (') || line.startsWith(')') || line === '  )') return out;
      const step = clean(line);
      if (step && !step.startsWith('(local')) out.push(step);
    }
    if (!inside) throw new Unread('wasm-tools printed no such function');
    return out;
  }

  // allocator.matches and allocator.classify (the design and why; the steps are not shown here).
  function matches(texts, pattern) {
    const found = [];
    const first = pattern[0].split(' ')[0];
    for (let at = 0; at + pattern.length <= texts.length; at++) {
      if (texts[at].split(' ')[0] !== first) continue;
      const bound = {};
      let ok = true;
      for (let k = 0; ok && k < pattern.length; k++) {
        const have = texts[at + k].split(' '), wanted = pattern[k].split(' ');
        if (have.length !== wanted.length) { ok = false; break; }
        for (let t = 0; ok && t < have.length; t++) {
          const w = wanted[t];
          if (w.startsWith('{') && w.endsWith('}')) {
            const v = w.slice(1, -1);
            if (v !== '_') { bound[v] ??= have[t]; if (bound[v] !== have[t]) ok = false; }
          } else if (have[t] !== w) ok = false;
        }
      }
      if (ok) found.push([at, bound]);
    }
    return found;
  }
  function classify(texts) {
    const P = D.patterns;
    const counts = matches(texts, P.counts), missing = matches(texts, P.missing);
    const dispatch = texts.some((t) => t.startsWith('br_table'));
    const bumps = matches(texts, P.bump).length;
    if (counts.length === 1 && !missing.length && dispatch && bumps === 1) return ['counts', D.why.counts];
    if (missing.length === 1 && !counts.length && dispatch && bumps === 0) return ['missing-increment', D.why['missing-increment']];
    const early = matches(texts, P.early), taken = matches(texts, P.early_taken);
    if (early.length === 1 && !counts.length && !missing.length && !dispatch) {
      const [at, bound] = early[0];
      if (taken.some(([i, b]) => i > at && b.S === bound.S)) return ['early', D.why.early];
    }
    const clones = matches(texts, P.clone);
    let why;
    if ((counts.length === 1 && bumps > 1) || (missing.length === 1 && bumps)) {
      why = missing.length
        ? `its compare is the published builds', but ${bumps} other +1 store(s) at +4 stand elsewhere in it: an edited allocator, or another compiler's`
        : `it counts as the fixed builds do, and ${bumps - 1} more +1 store(s) at +4 stand elsewhere in it`;
    } else if (clones.length === 1) {
      why = "its compare-and-copy allocation is the published builds', but what comes before it is neither their increment nor nothing: an edited allocator, or another compiler's";
    } else if (clones.length) why = `${clones.length} compare-and-copy allocations, where the published builds have one`;
    else if (dispatch) why = 'a tagged dispatch (br_table), but no compare-and-copy allocation as the published builds have it';
    else why = 'none of the published builds\' allocator designs: no counter, no one-shot buffer';
    return ['unknown', why];
  }

  // scan._design: what a finding says of its allocator; verdict: what the run found.
  return function read(tools, data, verdict) {
    let design, why;
    try {
      const located = locate(data);
      if (typeof located === 'string') {
        [design, why] = ['unknown', located];
      } else {
        if (data.length > D.module_max) {
          throw new Unread(`the module is ${data.length.toLocaleString('en-US')} bytes, more than the ${D.module_max.toLocaleString('en-US')} read for its allocator (published adapters are under 200 KB)`);
        }
        let text;
        try {
          text = tools.print(data);
        } catch (e) {
          throw new Unread(`wasm-tools could not print the module: ${String(e && (e.payload || e.message) || e).split('\n')[0]}`);
        }
        [design, why] = classify(instructions(text, located));
      }
    } catch (e) {
      const said = e instanceof Unread ? e.message : `${e && e.name || 'Error'}: ${String(e && e.message || e)}`;
      return { design: 'unknown', design_evidence: `its allocator could not be read: ${said}`, design_agrees: null };
    }
    const implied = D.implies[design];
    const agrees = implied === undefined || !['affected', 'not affected'].includes(verdict) ? null : implied === verdict;
    return { design, design_evidence: why, design_agrees: agrees };
  };
};
