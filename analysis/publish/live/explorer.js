// The live explorer of an exported page: every <div class="live-explorer"> gets controls (build,
// preopen names) and the outcome table, computed by window.preopenLab in this page (in a worker of
// its own), no kernel.
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
  // As the lab's explorer reads its fields: names comma-separated, each trimmed; positions by spaces or commas.
  const parse = (text) => text.split(',').map((p) => p.trim());
  function byHand(text, n) {
    const parts = text.replace(/,/g, ' ').split(/\s+/).filter((p) => p !== '');
    if (!parts.every((p) => /^[+-]?\d+$/.test(p))) throw new Error(`order '${text}' is not a list of numbers: type positions such as 2 0 1`);
    const order = parts.map(Number);
    const sorted = [...order].sort((a, b) => a - b);
    if (sorted.length !== n || sorted.some((v, i) => v !== i)) throw new Error(`order '${text}' must name each of the positions 0..${n - 1} exactly once`);
    return order;
  }

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
    const count = el('input', { type: 'range', min: '1', max: String(Object.keys(manifest.shuffled[0]).length), value: '5',
                                'aria-label': 'directories' });
    const shownCount = el('span', {}, '5');
    const scheme = choose('names', [...Object.keys(manifest.schemes), 'custom'].map((s) => [s, s]), 'equal');
    const order = choose('order', ['as given', 'reversed', 'shuffled', 'by hand'].map((o) => [o, o]), 'as given');
    const seed = choose('shuffle seed', Object.keys(manifest.shuffled).map((s) => [s, s]), '0');
    const hand = el('input', { type: 'text', size: '12', placeholder: 'e.g. 4 0 3 1 2', 'aria-label': 'order by hand' });
    const build = choose('adapter build', builds.map((b) => [b, affected.includes(b) ? `${b} (affected)` : b]),
                         affected.length ? affected[affected.length - 1] : builds[0]);
    const guest = choose('guest', preopenLab.guests().map((g) => [g, g]), 'opener');
    const paths = el('input', { type: 'text', size: '40', 'aria-label': 'names, comma-separated' });
    const form = el('div', { class: 'live-controls' });
    form.append(el('label', {}, 'directories '), count, shownCount, el('label', {}, ' names '), scheme,
                el('label', {}, ' order '), order, el('label', {}, ' seed '), seed, el('label', {}, ' by hand '), hand,
                el('br'), el('label', {}, 'adapter build '), build, el('label', {}, ' guest '), guest,
                el('br'), el('label', {}, 'names '), paths);
    // The list the controls make, as the lab's explorer makes it (experiments/scenarios.py): custom
    // names are taken whole, and their number is the count.
    function listed() {
      const names = scheme.value === 'custom' ? parse(paths.value) : manifest.schemes[scheme.value][Number(count.value)];
      const n = names.length;
      const positions = [...Array(n).keys()];
      const how = order.value === 'reversed' ? positions.reverse()
        : order.value === 'shuffled' ? (manifest.shuffled[seed.value][n] || positions)
          : order.value === 'by hand' ? byHand(hand.value, n) : positions;
      return how.map((i) => names[i]);
    }
    const status = el('p', { class: 'live-status', role: 'status', 'aria-live': 'polite' });
    const table = el('table', { class: 'live-table' });
    box.firstElementChild.after(form, status, table);  // under the box's first paragraph, above its notes

    let turn = 0;
    async function update() {
      const mine = ++turn;
      seed.disabled = order.value !== 'shuffled';
      hand.disabled = order.value !== 'by hand';
      count.disabled = scheme.value === 'custom';
      shownCount.textContent = String(listedCount());
      if (scheme.value !== 'custom') paths.value = manifest.schemes[scheme.value][Number(count.value)].join(', ');
      if (order.value === 'by hand' && hand.value.trim() === '') {
        status.textContent = `type an order: each of the positions 0..${listedCount() - 1} once, such as ${[...Array(listedCount()).keys()].reverse().join(' ')}`;
        table.replaceChildren();
        return;
      }
      const started = performance.now();
      // The run goes in a worker, so the page answers meanwhile; a slow one is said to be running.
      const slow = setTimeout(() => {
        if (mine === turn) status.textContent = `running ${build.value} with the ${guest.value} …`;
      }, 300);
      let result;
      try {
        result = await preopenLab.run({ build: build.value, guest: guest.value, paths: listed() });
      } catch (e) {
        if (mine !== turn) return;
        status.textContent = `error: ${e.message}`;
        table.replaceChildren();
        return;
      } finally {
        clearTimeout(slow);
      }
      if (mine !== turn) return;  // a newer change is on its way
      table.replaceChildren();
      const head = el('tr');
      const headings = ['fd', 'preopen', 'name seen', 'routed to', 'read', 'outcome'];
      for (const h of headings) head.append(el('th', {}, h));
      table.append(head);
      for (const p of result.preopens) {
        const row = el('tr');
        // Worded as the lab's own run table words them (model/describe.py).
        const routed = p.routed_fd === null ? '-' : p.routed_fd < 0 ? 'no preopen' : `fd ${p.routed_fd} (${shown(p.routed_prefix)})`;
        const read = p.marker !== null ? shown(p.marker) : p.errno ? (palette.errnos[p.errno] || `errno ${p.errno}`) : '-';
        // Each cell carries its heading, which a phone's stacked rows show in front of it.
        [String(p.expected_fd), shown(p.path), shown(p.name_seen), routed, read].forEach((cell, i) => row.append(el('td', { 'data-label': headings[i] }, cell)));
        const outcome = el('td', { class: 'outcome', 'data-outcome': p.outcome, 'data-label': 'outcome' }, `${palette.glyphs[p.outcome]} ${p.outcome}`);
        outcome.style.background = palette.colors[p.outcome];
        outcome.style.color = palette.inks[p.outcome];
        row.append(outcome);
        table.append(row);
      }
      const counts = {};
      for (const p of result.preopens) counts[p.outcome] = (counts[p.outcome] || 0) + 1;
      status.textContent = `${build.value} with the ${guest.value}, run in this page in ${(performance.now() - started).toFixed(1)} ms: ` +
        Object.entries(counts).map(([o, n]) => `${n} ${o}`).join(', ') + (result.trap ? ` (trap: ${result.trap})` : '');
    }
    const listedCount = () => (scheme.value === 'custom' ? parse(paths.value).length : Number(count.value));
    for (const control of [count, scheme, order, seed, build, guest]) control.addEventListener(control === count ? 'input' : 'change', update);
    hand.addEventListener('change', update);  // as the lab's text fields: on Enter or leaving the field
    paths.addEventListener('change', () => {
      scheme.value = 'custom';
      count.value = String(Math.max(1, Math.min(Number(count.max), parse(paths.value).length)));
      update();
    });
    update();
  }

  const start = () => document.querySelectorAll('.live-explorer').forEach(mount);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
