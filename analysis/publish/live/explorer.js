// The live explorer of an exported page: every <div class="live-explorer"> gets controls (build,
// preopen names) and the outcome table, computed by window.preopenLab in this page, no kernel.
// The outcome colours and marks come from the page (data-palette), as in the lab's own tables.
(function () {
  'use strict';
  const PRESETS = {
    "the report's case": ['/a', '/b', '/c', '/d', '/e'],
    'equal-length names': ['/d1', '/d2', '/d3', '/d4', '/d5', '/d6'],
    'nested': ['/data', '/data/x', '/cache'],
    'a name twice': ['/a', '/b', '/a'],
    'an empty name': ['/a', '', '/b'],
  };
  const el = (tag, attrs = {}, text = '') => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  const shown = (name) => (name === null ? '-' : name === '' ? '""' : name.length > 40 ? name.slice(0, 39) + '…' : name);
  const parse = (text) => (text.trim() === '' ? [] : text.trim().split(/\s+/).map((p) => (p === '""' ? '' : p)));

  function mount(box) {
    const palette = JSON.parse(box.dataset.palette);
    const builds = preopenLab.builds();
    const affected = (globalThis.preopenLabManifest || {}).affected || [];
    const form = el('div', { class: 'live-controls' });
    const build = el('select', { 'aria-label': 'adapter build' });
    for (const b of builds) build.append(el('option', { value: b }, affected.includes(b) ? `${b} (affected)` : b));
    build.value = affected.length ? affected[affected.length - 1] : builds[0];
    const preset = el('select', { 'aria-label': 'names' });
    for (const name of Object.keys(PRESETS)) preset.append(el('option', { value: name }, name));
    const paths = el('input', { type: 'text', size: '48', 'aria-label': 'preopen paths, space-separated',
                                value: PRESETS["the report's case"].join(' ') });
    form.append(el('label', {}, 'adapter build '), build, el('label', {}, ' names '), preset,
                el('label', {}, ' preopens '), paths);
    const status = el('p', { class: 'live-status' });
    const table = el('table', { class: 'live-table' });
    box.append(form, status, table);

    let turn = 0;
    async function update() {
      const mine = ++turn;
      const list = parse(paths.value).map((p) => (p === '""' ? '' : p));
      const started = performance.now();
      let result;
      try {
        result = await preopenLab.run({ build: build.value, paths: list });
      } catch (e) {
        status.textContent = `error: ${e.message}`;
        return;
      }
      if (mine !== turn) return;  // a newer change is on its way
      table.replaceChildren();
      const head = el('tr');
      for (const h of ['fd', 'preopen', 'name seen', 'routed to', 'read', 'outcome']) head.append(el('th', {}, h));
      table.append(head);
      for (const p of result.preopens) {
        const row = el('tr');
        // Worded as the lab's own run table words them (model/describe.py).
        const routed = p.routed_fd === null ? '-' : p.routed_fd < 0 ? 'no preopen' : `fd ${p.routed_fd} (${shown(p.routed_prefix)})`;
        const read = p.marker !== null ? shown(p.marker) : p.errno ? (palette.errnos[p.errno] || `errno ${p.errno}`) : '-';
        for (const cell of [String(p.expected_fd), shown(p.path), shown(p.name_seen), routed, read]) row.append(el('td', {}, cell));
        const outcome = el('td', { class: 'outcome', 'data-outcome': p.outcome }, `${palette.glyphs[p.outcome]} ${p.outcome}`);
        outcome.style.background = palette.colors[p.outcome];
        outcome.style.color = '#fff';
        row.append(outcome);
        table.append(row);
      }
      const counts = {};
      for (const p of result.preopens) counts[p.outcome] = (counts[p.outcome] || 0) + 1;
      status.textContent = `${build.value}, run in this page in ${(performance.now() - started).toFixed(1)} ms: ` +
        Object.entries(counts).map(([o, n]) => `${n} ${o}`).join(', ') + (result.trap ? ` (trap: ${result.trap})` : '');
    }
    build.addEventListener('change', update);
    paths.addEventListener('input', update);
    preset.addEventListener('change', () => { paths.value = PRESETS[preset.value].map((p) => (p === '' ? '""' : p)).join(' '); update(); });
    update();
  }

  const start = () => document.querySelectorAll('.live-explorer').forEach(mount);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
