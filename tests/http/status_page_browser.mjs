// The status page in headless Chromium, driven over the DevTools protocol (Node's own
// WebSocket, no npm package): a `patitas-etl serve` on an ephemeral port runs a full and a
// daily sync against the simulator, then the page must load without console errors or
// outside requests, list those runs, chart the right number of points, take a sync through
// its two-step form, and leave a screenshot.
//
// usage: node status_page_browser.mjs PATITAS_ETL BSALE_SIM OUT_DIR
// Exit 77 (ctest SKIP_RETURN_CODE) when Chromium is missing, except under CI=true.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SKIP = 77;
const SIM_TOKEN = 'sim-token-browser-5150';
const [etlBin, simBin, outDir] = process.argv.slice(2);
const children = [];
let checks = 0;

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  checks++;
}

function skipOrFail(why) {
  if (process.env.CI === 'true') fail(`${why} (CI must run this test)`);
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Starts a child with its output in files under dir. */
function start(dir, name, bin, args, env) {
  const out = path.join(dir, `${name}.out`), err = path.join(dir, `${name}.err`);
  const p = spawn(bin, args, {
    env: env || { PATH: process.env.PATH },
    stdio: ['ignore', fs.openSync(out, 'w'), fs.openSync(err, 'w')],
  });
  children.push(p);
  return { p, out, err };
}

/* Polls file for a match of re; returns the first group. */
async function waitFor(file, re, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const m = fs.existsSync(file) && fs.readFileSync(file, 'utf8').match(re);
    if (m) return m[1];
  }
  fail(`${path.basename(file)} never matched ${re}:\n${fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''}`);
}

function utcDate(offsetDays) {
  return new Date(Date.now() + offsetDays * 86400000).toISOString().slice(0, 10);
}

/* A minimal DevTools protocol client: commands by id, events to listeners. */
async function devtools(url) {
  const ws = new WebSocket(url);
  await new Promise((ok, ko) => { ws.onopen = ok; ws.onerror = () => ko(new Error('no DevTools socket')); });
  let next = 1;
  const pending = new Map(), listeners = [];
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const { ok, ko } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) ko(new Error(`${msg.error.message}`)); else ok(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  };
  const send = (method, params = {}, sessionId) => new Promise((ok, ko) => {
    const id = next++;
    pending.set(id, { ok, ko });
    ws.send(JSON.stringify({ id, method, params, sessionId }));
  });
  return { ws, send, on: (fn) => listeners.push(fn) };
}

async function openPage(cdp) {
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = {
    errors: [], requests: [], loads: 0,
    send: (m, p) => cdp.send(m, p, sessionId),
  };
  cdp.on((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params;
    if (msg.method === 'Page.loadEventFired') page.loads++;
    if (msg.method === 'Runtime.exceptionThrown') page.errors.push(p.exceptionDetails.text);
    if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(p.type))
      page.errors.push(p.args.map((a) => a.value ?? a.description).join(' '));
    if (msg.method === 'Log.entryAdded' && p.entry.level === 'error')
      page.errors.push(`${p.entry.text} ${p.entry.url || ''}`);
    if (msg.method === 'Network.requestWillBeSent') page.requests.push(p.request.url);
  });
  for (const m of ['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable']) await page.send(m);
  await page.send('Emulation.setDeviceMetricsOverride',
    { width: 1200, height: 900, deviceScaleFactor: 1, mobile: false });
  return page;
}

async function untilLoaded(page, before) {
  for (const end = Date.now() + 15000; Date.now() < end; await sleep(25))
    if (page.loads > before) return;
  fail('the page never finished loading');
}

async function navigate(page, url, acceptLanguage) {
  await page.send('Network.setUserAgentOverride', { userAgent: 'petl-browser-test', acceptLanguage });
  const before = page.loads;
  await page.send('Page.navigate', { url });
  await untilLoaded(page, before);
}

async function evaluate(page, fn) {
  const r = await page.send('Runtime.evaluate', { expression: `(${fn})()`, returnByValue: true });
  if (r.exceptionDetails) fail(`evaluate: ${r.exceptionDetails.text}`);
  return r.result.value;
}

/* Clicks the element and waits for the navigation the click starts. */
async function clickAndWait(page, selector) {
  const before = page.loads;
  const found = await evaluate(page, `() => { const b = document.querySelector('${selector}');
    if (b) b.click(); return !!b; }`);
  check(found, `no ${selector} on the page`);
  await untilLoaded(page, before);
}

/* What the page shows, read from its DOM. */
function pageFacts() {
  const q = (s) => [...document.querySelectorAll(s)];
  const chart = (name) => {
    const svg = document.querySelector(`svg[data-chart="${name}"]`);
    return svg && { points: Number(svg.dataset.points), bars: svg.querySelectorAll('rect.bar').length,
      dots: svg.querySelectorAll('circle.dot').length,
      data: [...svg.querySelectorAll('rect.bar')].map((r) => ({ ...r.dataset })) };
  };
  return { lang: document.documentElement.lang, path: location.pathname, title: document.title,
    runs: q('#runs tr[data-run]').map((r) => r.dataset.run), scripts: q('script').length,
    runsChart: chart('runs'), salesChart: chart('sales'), text: document.body.innerText };
}

async function post(base, route) {
  const r = await fetch(base + route, { method: 'POST' });
  const body = await r.json();
  check(r.status === 200 && body.status === 'succeeded', `${route}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/* Documents per day from the warehouse itself, for the sales chart to match. */
function expectedSales(db, from, to) {
  const sql = `SELECT d.fecha_emision, COUNT(*), ROUND(SUM(CASE WHEN t.es_nota_credito = 1
    THEN -d.monto_total ELSE d.monto_total END), 2) FROM documentos_venta d LEFT JOIN
    tipos_documento t ON t.id_bsale = d.id_tipo_documento WHERE d.estado = 0 AND
    d.fecha_emision BETWEEN '${from}' AND '${to}' GROUP BY d.fecha_emision`;
  const out = execFileSync('sqlite3', ['-separator', '|', db, sql], { encoding: 'utf8' });
  return new Map(out.trim().split('\n').filter(Boolean).map((l) => {
    const [day, docs, net] = l.split('|');
    return [day, { docs: Number(docs), net: Number(net) }];
  }));
}

function checkSales(chart, expected, today) {
  check(chart && chart.points === 30 && chart.bars === 30 && chart.dots === 30,
    `sales chart: ${JSON.stringify(chart && { points: chart.points, bars: chart.bars, dots: chart.dots })}`);
  check(chart.data[29].day === today && chart.data[0].day === utcDate(-29),
    `sales chart days ${chart.data[0].day}..${chart.data[29].day}, want ..${today}`);
  let docs = 0;
  for (const d of chart.data) {
    const want = expected.get(d.day) || { docs: 0, net: 0 };
    check(Number(d.docs) === want.docs && Math.abs(Number(d.net) - want.net) < 0.01,
      `sales on ${d.day}: chart ${d.docs}/${d.net}, warehouse ${want.docs}/${want.net}`);
    docs += want.docs;
  }
  check(docs > 0, 'the daily sync copied no active document in the window');
}

async function main(chromium) {
  fs.mkdirSync(outDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'petl-browser-'));
  const sim = start(dir, 'sim', simBin, ['--token', SIM_TOKEN, '--port', '0', '--days', '20',
    '--docs-per-day', '15']);
  const simUrl = await waitFor(sim.out, /(http:\/\/\S+)/);
  const db = path.join(dir, 'w.db');
  const serve = start(dir, 'serve', etlBin, ['serve'], {
    PATH: process.env.PATH, DATABASE_URL: `sqlite:///${db}`, BSALE_API_URL: simUrl,
    BSALE_API_TOKEN: SIM_TOKEN, HOST: '127.0.0.1', PORT: '0', ETL_TIMEZONE: 'UTC',
    LOG_FORMAT: 'text', SHUTDOWN_TIMEOUT_S: '10',
  });
  const base = `http://127.0.0.1:${await waitFor(serve.err, /listening on http:\/\/127\.0\.0\.1:(\d+)/)}`;
  const today = utcDate(0);
  const full = await post(base, '/etl/run-full-sync');
  const daily = await post(base, `/etl/run-daily-sync?from=${utcDate(-9)}&to=${today}`);

  const browser = start(dir, 'chromium', chromium, ['--headless', '--no-sandbox', '--disable-gpu',
    '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${path.join(dir, 'profile')}`,
    'about:blank'], { PATH: process.env.PATH, HOME: dir });
  const wsUrl = await waitFor(browser.err, /DevTools listening on (ws:\/\/\S+)/, 30000);
  const cdp = await devtools(wsUrl);
  const page = await openPage(cdp);

  await navigate(page, `${base}/`, 'es-CL,es;q=0.9,en;q=0.5');
  let f = await evaluate(page, pageFacts);
  check(f.lang === 'es' && f.text.includes('Ejecuciones recientes'), `Spanish page: lang ${f.lang}`);
  check(f.scripts === 0, 'the page has scripts');
  check(f.runs.join() === `${daily.id},${full.id}`, `runs listed: ${f.runs}`);
  check(f.runsChart && f.runsChart.points === 2 && f.runsChart.bars === 2 && f.runsChart.dots === 2,
    `runs chart: ${JSON.stringify(f.runsChart)}`);
  check(f.runsChart.data.map((d) => `${d.run}:${d.rows}`).join() ===
    `${full.id}:${full.rows_total},${daily.id}:${daily.rows_total}`,
    `runs chart data ${JSON.stringify(f.runsChart.data)}`);
  checkSales(f.salesChart, expectedSales(db, utcDate(-29), today), today);

  await navigate(page, `${base}/status`, 'en-US,en;q=0.9');
  f = await evaluate(page, pageFacts);
  check(f.lang === 'en' && f.text.includes('Recent runs'), `English page: lang ${f.lang}`);

  // The daily button, its confirmation page, and the POST back to the page.
  await clickAndWait(page, 'button[data-trigger="daily"]');
  f = await evaluate(page, pageFacts);
  check(f.text.includes('Start a daily sync now?'), `confirmation page: ${f.text.slice(0, 200)}`);
  await clickAndWait(page, 'button[data-confirm="daily"]');
  f = await evaluate(page, pageFacts);
  check(f.path === '/status' && f.runs.length === 3 && Number(f.runs[0]) > daily.id,
    `after the form: ${f.path}, runs ${f.runs}`);
  const formRun = f.runs[0];
  for (let i = 0; i < 300; i++) { // the form's run, to its end, before the page is shot
    const r = await (await fetch(`${base}/etl/runs/${formRun}`)).json();
    if (r.status !== 'running') break;
    await sleep(100);
  }
  await navigate(page, `${base}/status`, 'es-CL,es');
  f = await evaluate(page, pageFacts);
  check(f.runsChart.points === 3 && f.runsChart.bars === 3, `runs chart after the form: ${f.runsChart.points}`);

  const shot = await page.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  const png = path.join(outDir, 'status-page.png');
  fs.writeFileSync(png, Buffer.from(shot.data, 'base64'));
  check(fs.statSync(png).size > 10000, 'the screenshot is empty');

  check(page.errors.length === 0, `console errors: ${page.errors.join(' | ')}`);
  const outside = page.requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') &&
    u !== 'about:blank');
  check(outside.length === 0, `requests outside the service: ${outside.join(' ')}`);

  cdp.ws.close();
  browser.p.kill('SIGTERM');
  serve.p.kill('SIGTERM');
  sim.p.kill('SIGTERM');
  await Promise.all([browser.p, serve.p, sim.p].map((p) => new Promise((r) =>
    (p.exitCode !== null || p.signalCode !== null ? r() : p.on('exit', r)))));
  // Chromium's helper processes may still be writing the profile as the main one exits.
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  console.log(`status page: ${checks} checks passed; screenshot ${png}`);
  console.log(`${checks} passed, 0 failed`);
}

// Entry point, after every declaration above is initialised.
if (!etlBin || !simBin || !outDir) fail('usage: status_page_browser.mjs PATITAS_ETL BSALE_SIM OUT_DIR');
// Node 20 has WebSocket behind a flag: run again with it.
if (typeof WebSocket === 'undefined') {
  if (process.execArgv.includes('--experimental-websocket')) skipOrFail('this Node.js has no WebSocket');
  const r = spawn(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)],
    { stdio: 'inherit' });
  r.on('exit', (code, sig) => process.exit(sig ? 1 : code));
} else {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
  if (!chromium) skipOrFail('chromium is not installed (apt-get install chromium)');
  setTimeout(() => fail('timed out after 150 s'), 150000).unref();
  main(chromium).catch((e) => fail(e.stack || String(e)));
}
