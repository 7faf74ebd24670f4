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

  function line(text, cls) {
    const p = document.createElement('p');
    p.textContent = text;
    if (cls) p.className = cls;
    return p;
  }
  function show(name, said, ms) {
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
      }
      if (said.answer === 'affected') lines.push(line(S.what_to_do.replace('FILE', name), 'live-scan-todo'), line(S.no_repair));
    }
    if (said.findings && said.findings.length) lines.push(line(S.not_here, 'live-scan-time'));
    lines.push(line(`scanned in this page in ${ms} ms`, 'live-scan-time'));
    out.replaceChildren(...lines);
    out.dataset.answer = said.answer;
  }
  async function take(file) {
    if (!file) return;
    out.replaceChildren(line(`${file.name}: scanning…`));
    out.dataset.answer = '';
    const started = performance.now();
    let said;
    try {
      said = await globalThis.preopenLab.scan(await file.arrayBuffer());
    } catch (e) {
      said = { answer: `error: the file could not be read (${e && e.message || e})` };
    }
    show(file.name, said, Math.round(performance.now() - started));
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
