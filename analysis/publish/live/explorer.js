// The live explorer of an exported page: every <div class="live-explorer"> gets controls (build,
// preopen names) and the outcome table, computed by window.preopenLab in this page, no kernel.
// The outcome colours and marks come from the page (data-palette), as in the lab's own tables.
(function () {
  'use strict';
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
    const manifest = globalThis.preopenLabManifest;
    const builds = preopenLab.builds();
    const affected = manifest.affected || [];
    const choose = (label, options, value) => {
      const select = el('select', { 'aria-label': label });
      for (const [v, text] of options) select.append(el('option', { value: v }, text));
      select.value = value;
      return select;
    };
    const count = el('input', { type: 'range', min: '1', max: String(Object.keys(manifest.shuffled).length), value: '5',
                                'aria-label': 'directories' });
    const shownCount = el('span', {}, '5');
    const scheme = choose('names', [...Object.keys(manifest.schemes), 'custom'].map((s) => [s, s]), 'equal');
    const order = choose('order', ['as given', 'reversed', 'shuffled'].map((o) => [o, o]), 'as given');
    const build = choose('adapter build', builds.map((b) => [b, affected.includes(b) ? `${b} (affected)` : b]),
                         affected.length ? affected[affected.length - 1] : builds[0]);
    const guest = choose('guest', preopenLab.guests().map((g) => [g, g]), 'opener');
    const paths = el('input', { type: 'text', size: '40', 'aria-label': 'preopens, space-separated' });
    const form = el('div', { class: 'live-controls' });
    form.append(el('label', {}, 'directories '), count, shownCount, el('label', {}, ' names '), scheme,
                el('label', {}, ' order '), order, el('label', {}, ' adapter build '), build,
                el('label', {}, ' guest '), guest, el('br'), el('label', {}, 'preopens '), paths);
    // The list the controls make, as the kernel explorer makes it (experiments/scenarios.py).
    function listed() {
      const n = Number(count.value);
      const names = scheme.value === 'custom' ? parse(paths.value).slice(0, n) : manifest.schemes[scheme.value][n];
      const positions = [...Array(names.length).keys()];
      const how = order.value === 'reversed' ? positions.reverse()
        : order.value === 'shuffled' && names.length === n ? manifest.shuffled[n] : positions;
      return how.map((i) => names[i]);
    }
    const status = el('p', { class: 'live-status' });
    const table = el('table', { class: 'live-table' });
    box.append(form, status, table);

    let turn = 0;
    async function update() {
      const mine = ++turn;
      const list = listed();
      shownCount.textContent = count.value;
      if (scheme.value !== 'custom') paths.value = list.map((p) => (p === '' ? '""' : p)).join(' ');
      const started = performance.now();
      let result;
      try {
        result = await preopenLab.run({ build: build.value, guest: guest.value, paths: list });
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
      status.textContent = `${build.value} with the ${guest.value}, run in this page in ${(performance.now() - started).toFixed(1)} ms: ` +
        Object.entries(counts).map(([o, n]) => `${n} ${o}`).join(', ') + (result.trap ? ` (trap: ${result.trap})` : '');
    }
    for (const control of [count, scheme, order, build, guest]) control.addEventListener(control === count ? 'input' : 'change', update);
    paths.addEventListener('input', () => {
      scheme.value = 'custom';
      count.value = String(Math.max(1, Math.min(Number(count.max), parse(paths.value).length)));
      update();
    });
    update();
  }

  const start = () => document.querySelectorAll('.live-explorer').forEach(mount);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
