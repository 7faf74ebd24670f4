// Page 7's drop zone: a file chosen or dropped goes to preopenLab.scan (scanner.js), and the
// answer is written in the lab's words, as `python -m analysis scan` prints it
// (analysis/reach/words.py's describe_scan). Everything that came from the file is set as text,
// never as HTML. The page stays usable while a scan runs: the scan is in its own worker.
(function () {
  'use strict';
  const S = globalThis.preopenLabScanConstants;
  const box = document.querySelector('.live-scan');
  if (!box || !globalThis.preopenLab || !globalThis.preopenLab.scan) return;
  const input = box.querySelector('input[type=file]');
  const drop = box.querySelector('.live-scan-drop');
  const out = box.querySelector('.live-scan-answer');
  // What a screen reader hears: one line a scan, its verdict; the details stay on the page to read.
  const voice = box.querySelector('.live-scan-said');
  let spoken = '';
  const speak = (text) => { if (voice && text !== spoken) voice.textContent = spoken = text; };

  // model.describe.shown's cut: a line longer than `limit` characters ends with its size, so that
  // no file can put megabytes of text in the page (the lab's terminal lines are cut the same way).
  function cut(text, limit = 400) {
    if (text.length <= limit) return text;
    const tail = `…(${text.length.toLocaleString('en-US')} characters)`;
    return text.slice(0, limit - tail.length) + tail;
  }
  function line(text, cls) {
    const p = document.createElement('p');
    p.textContent = cut(text).replace(/`([^`]*)`/g, '$1');  // the lab's terminal words mark code with backticks
    if (cls) p.className = cls;
    return p;
  }
  function show(name, said, time) {
    const lines = [];
    if (said.answer.startsWith('error: ')) {
      lines.push(line(`${name}: ${said.answer.slice(7)}`, 'live-scan-head'));
    } else if (said.problem) {
      lines.push(line(`${name}: ${said.answer} (${said.kind})`, 'live-scan-head'), line(said.problem));
    } else {
      const adapters = said.findings.length ? `${said.findings.length} preview1 adapter(s)` : 'no preview1 adapter';
      lines.push(line(`${name}: ${said.answer} (${said.kind}, ${said.modules} core module(s), ${adapters})`, 'live-scan-head'));
      if (!said.findings.length) lines.push(line('the bug lives in the adapter; a program without one cannot meet it'));
      for (const f of said.findings) {
        lines.push(line(`${f.where}: ${f.verdict}, ${f.role} adapter, imports WASI ${f.wasi_version || 'of no known version'}`));
        if (f.note) lines.push(line(f.note, 'live-scan-evidence'));
        for (const e of f.evidence.slice(0, 4)) lines.push(line(e, 'live-scan-evidence'));
        if (f.evidence.length > 4) lines.push(line(`and ${f.evidence.length - 4} more`, 'live-scan-evidence'));
        lines.push(line(f.design ? designSaid(f) : 'its allocator\'s code: reading it (this page loads wasm-tools, 3.5 MB)…',
                        'live-scan-evidence'));
      }
      if (said.answer === 'affected') lines.push(line(S.what_to_do.replace('FILE', () => name), 'live-scan-todo'), line(S.no_repair));
    }
    if (said.findings && said.findings.length) lines.push(line(S.not_here, 'live-scan-time'));
    else time = time.replace(/; the allocators read by \d+ ms$/, '');  // no adapter, no allocator
    lines.push(line(time, 'live-scan-time'));
    out.replaceChildren(...lines);
    out.dataset.answer = said.answer;
    speak(lines[0].textContent);
  }
  // words.describe_design: the allocator's design read from the code, beside the run's verdict.
  function designSaid(f) {
    const implied = S.design.implies[f.design];
    const said = `its allocator's code reads ${f.design}`;
    if (implied === undefined) return `${said} (${f.design_evidence || 'no known design'}): its code says nothing either way; the run decides`;
    if (f.design_agrees === null) return `${said} (which means ${implied})`;
    if (f.design_agrees) return `${said}, which means ${implied}: the code agrees with the run`;
    return `${said}, which means ${implied}, but the run found it ${f.verdict}: they disagree, and the run decides`;
  }
  async function take(file) {
    if (!file) return;
    out.replaceChildren(line(`${file.name}: scanning…`));
    speak(`${file.name}: scanning`);
    out.dataset.answer = '';
    const started = performance.now();
    let said, answered = null;
    try {
      const bytes = await file.arrayBuffer();
      said = await globalThis.preopenLab.scan(bytes, { design: true, answered: (first) => {
        answered = Math.round(performance.now() - started);
        show(file.name, first, `answered in this page in ${answered} ms`);
        out.dataset.answer = '';  // the designs are still to come
      } });
    } catch (e) {
      said = { answer: `error: the file could not be read (${e && e.message || e})` };
    }
    const total = Math.round(performance.now() - started);
    show(file.name, said, answered === null ? `answered in this page in ${total} ms`
      : `answered in this page in ${answered} ms; the allocators read by ${total} ms`);
  }
  input.addEventListener('change', () => take(input.files[0]));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('live-scan-over'); });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('live-scan-over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('live-scan-over');
    take(e.dataTransfer.files[0]);
  });
  box.classList.add('live-scan-ready');
})();
