// The dashboard page: draws the diagram the server laid out, then colours it from the
// live state that arrives as Server-Sent Events. Text is set with textContent only.
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

let diagram;
let state;
let selected;
const boxes = new Map();
const edgeEls = [];

function el(tag, attrs = {}, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function html(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Endpoints of an edge between two boxes: side to side across columns, bottom to top within one. */
function endpoints(a, b) {
  if (Math.abs(a.x - b.x) < 1) {
    const [top, bottom] = a.y < b.y ? [a, b] : [b, a];
    const x = a.x + a.width / 2;
    return [x, top.y + top.height, x, bottom.y];
  }
  const ay = a.y + a.height / 2;
  const by = b.y + b.height / 2;
  return b.x < a.x ? [a.x, ay, b.x + b.width, by] : [a.x + a.width, ay, b.x, by];
}

function draw() {
  const svg = $('diagram');
  svg.setAttribute('width', diagram.width);
  svg.setAttribute('height', diagram.height);
  svg.setAttribute('viewBox', `0 0 ${diagram.width} ${diagram.height}`);
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#868e96' }, marker);
  for (const c of diagram.columns) el('text', { x: c.x, y: 18, class: 'column-title' }, svg).textContent = c.title;
  for (const s of diagram.sets) {
    el('rect', { x: s.x, y: s.y, width: s.width, height: s.height, rx: 7, class: 'set-frame' }, svg);
    el('text', { x: s.x + 4, y: s.y - 3, class: 'set-label' }, svg).textContent = s.name;
  }
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  const edges = el('g', {}, svg);
  for (const e of diagram.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b) continue;
    const [x1, y1, x2, y2] = endpoints(a, b);
    const mx = (x1 + x2) / 2;
    const d = Math.abs(x1 - x2) < 1 ? `M${x1},${y1} L${x2},${y2}` : `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
    const path = el('path', { d, class: `edge kind-${e.kind}`, 'marker-end': e.kind === 'gossip' ? '' : 'url(#arrow)' }, edges);
    edgeEls.push({ edge: e, path });
  }
  for (const n of diagram.nodes) {
    const g = el('g', { class: `node kind-${n.kind} health-unknown${n.backup ? ' backup' : ''}`, 'data-id': n.id, 'data-health': 'unknown', tabindex: 0 }, svg);
    el('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 5, class: 'box' }, g);
    el('text', { x: n.x + 8, y: n.y + 14, class: 'label' }, g).textContent = n.label;
    const badge = el('text', { x: n.x + 8, y: n.y + 27, class: 'badge' }, g);
    badge.textContent = n.backup ? 'backup' : n.kind;
    const vip = el('circle', { cx: n.x + n.width - 10, cy: n.y + 10, r: 5, class: 'vip-mark', visibility: 'hidden' }, g);
    const tip = el('title', {}, g);
    g.addEventListener('click', () => select(n.id));
    g.addEventListener('keydown', (ev) => ev.key === 'Enter' && select(n.id));
    boxes.set(n.id, { node: n, g, badge, vip, tip });
  }
}

function badgeText(n, s) {
  const parts = [n.backup ? 'backup' : n.kind];
  if (s?.position !== undefined) parts.push(`position ${s.position}`);
  if (s?.holdsVip) parts.push('VIP holder');
  if (s?.running === false) parts.push('stopped');
  return parts.join(' · ');
}

function update() {
  const ago = state ? new Date(state.at).toLocaleTimeString() : '';
  $('where').textContent = state.local ? `local stack (${state.mode})` : 'deployment at the topology addresses';
  const sum = $('summary');
  sum.replaceChildren(html('span', `${state.summary.pass} pass`, 'pass'), html('span', ' · '), html('span', `${state.summary.warn} warn`, 'warn'), html('span', ' · '), html('span', `${state.summary.fail} fail`, 'fail'));
  $('updated').textContent = `updated ${ago}`;
  const findings = [];
  for (const [id, b] of boxes) {
    const s = state.nodes[id];
    const health = s?.health ?? 'unknown';
    b.g.setAttribute('class', `node kind-${b.node.kind} health-${health}${b.node.backup ? ' backup' : ''}${s?.holdsVip ? ' vip-holder' : ''}${selected === id ? ' selected' : ''}`);
    b.g.setAttribute('data-health', health);
    b.badge.textContent = badgeText(b.node, s);
    b.vip.setAttribute('visibility', s?.holdsVip ? 'visible' : 'hidden');
    const lines = (s?.results ?? []).filter((r) => r.verdict !== 'pass');
    b.tip.textContent = `${id}: ${health}${lines.length ? `\n${lines.map((r) => `${r.code} ${r.message}`).join('\n')}` : ''}`;
    for (const r of lines) findings.push({ id, r });
  }
  for (const { edge, path } of edgeEls) {
    const broken = [edge.from, edge.to].some((id) => state.nodes[id]?.health === 'down');
    path.classList.toggle('broken', broken);
  }
  const list = $('findings');
  const seen = new Set();
  const items = [...findings, ...state.general.filter((r) => r.verdict !== 'pass').map((r) => ({ id: '', r }))].filter(({ r }) => {
    const k = `${r.code}${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  list.replaceChildren(...(items.length ? items.map(({ r }) => resultItem(r)) : [html('li', 'every doctor check passes', 'dim')]));
  renderDetails();
  renderNotifications();
  renderDrills();
  renderChaos();
}

function resultItem(r) {
  const li = html('li');
  li.append(html('span', r.verdict, `verdict ${r.verdict}`), html('span', `${r.code} `, 'dim'), document.createTextNode(r.message));
  return li;
}

function select(id) {
  selected = id;
  if (state) update();
}

async function act(id, verb) {
  const r = await fetch(`/api/members/${encodeURIComponent(id)}/${verb}`, { method: 'POST', headers: { 'x-promha-action': '1' } });
  const body = await r.json().catch(() => ({}));
  const hint = $('details-hint');
  hint.textContent = r.ok ? `${verb === 'stop' ? 'stopped' : 'started'} ${id}` : body.error || `${r.status}`;
  hint.dataset.message = 'set';
  hint.hidden = false;
}

function renderDetails() {
  const actions = $('details-actions');
  if (!selected) return;
  $('details-hint').hidden = $('details-hint').dataset.message === undefined;
  const b = boxes.get(selected);
  const s = state.nodes[selected];
  $('details-title').textContent = `${selected} · ${s?.health ?? 'unknown'}`;
  const buttons = [];
  if (state.local && s?.running !== undefined) {
    const stop = html('button', 'Stop');
    stop.disabled = s.running === false;
    stop.addEventListener('click', () => act(selected, 'stop'));
    const start = html('button', 'Start');
    start.disabled = s.running !== false;
    start.addEventListener('click', () => act(selected, 'start'));
    buttons.push(stop, start);
  }
  actions.replaceChildren(...buttons);
  const results = s?.results ?? [];
  $('details-results').replaceChildren(...(results.length ? results.map(resultItem) : [html('li', b?.node.member ? 'no doctor result yet' : 'not checked by doctor', 'dim')]));
}

function renderNotifications() {
  const body = $('notifications').tBodies[0];
  body.replaceChildren(
    ...state.notifications.map((n) => {
      const tr = html('tr');
      const alerts = html('td');
      n.alerts.forEach((a, i) => {
        if (i) alerts.append(document.createTextNode(', '));
        alerts.append(html('span', `${a.alertname} ${a.status}`, a.status));
      });
      tr.append(html('td', new Date(n.receivedAt).toLocaleTimeString()), html('td', n.receiver), alerts);
      return tr;
    }),
  );
  $('notifications-empty').hidden = state.notifications.length > 0;
}

function renderDrills() {
  const body = $('drills').tBodies[0];
  const s = (x) => (x === undefined ? '-' : `${x.toFixed(1)} s`);
  body.replaceChildren(
    ...state.drills.map((d) => {
      const tr = html('tr');
      tr.title = d.failed.join('\n') || d.title;
      tr.append(html('td', `${d.scenario} (${d.mode})`), html('td', d.ok ? 'pass' : 'FAIL', d.ok ? 'ok' : 'notok'), html('td', s(d.detectSeconds)), html('td', s(d.recoverSeconds)), html('td', new Date(d.startedAt).toLocaleString()));
      return tr;
    }),
  );
  $('drills-empty').hidden = state.drills.length > 0;
}

function renderChaos() {
  const c = state.chaos;
  const summary = $('chaos-summary');
  if (!c) return;
  const elapsed = Math.min(c.durationMs, Date.now() - Date.parse(c.startedAt)) / 1000;
  summary.className = c.running ? '' : c.violations ? 'notok' : 'ok';
  summary.textContent = c.running
    ? `running (${c.mode}, seed ${c.seed}): ${elapsed.toFixed(0)} of ${(c.durationMs / 1000).toFixed(0)} s, ${c.injected} of ${c.scheduled} faults injected`
    : `ended (${c.mode}, seed ${c.seed}, ${new Date(c.startedAt).toLocaleString()}): ${c.scheduled} faults, ${c.episodes ?? 0} alert episodes, ${c.violations ?? 0} violation(s)`;
  $('chaos-active').replaceChildren(...c.active.map((f) => html('li', `#${f.id} ${f.kind} ${f.target} since +${(f.since / 1000).toFixed(0)} s`, 'notok')));
}

async function main() {
  diagram = await (await fetch('/api/topology')).json();
  draw();
  const events = new EventSource('/api/events');
  events.addEventListener('state', (e) => {
    state = JSON.parse(e.data);
    update();
  });
  events.addEventListener('open', () => $('connection').setAttribute('class', 'conn on'));
  events.addEventListener('error', () => $('connection').setAttribute('class', 'conn off'));
}

main();
