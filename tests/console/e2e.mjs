// The web console in a real browser: Debian's chromium, headless, driven by Playwright
// (playwright-core: no browser download). Started by tests/integration/console/browser.rs,
// which runs the appliance with simulated nodes and passes where it is in the environment:
//
//   RACKBOOT_URL      the control plane (https, self-signed: its pin was checked by the caller)
//   OPS, VIEWER       an operator's and a read-only user's names (password: NAME-password-long)
//   ADMIN_TOKEN       an admin API token (the scale mode changes every node through the API)
//   MODE              walk (default): the user's walk through the console, with screenshots;
//                     scale: first render and a live update of every tile, measured
//   NODES             scale: how many nodes the appliance holds
//   OUT               where screenshots and the figures go
//
// Prints one JSON line of figures on success; throws (non-zero exit) with what was wrong.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";

const base = process.env.RACKBOOT_URL;
const out = process.env.OUT || "target/console-e2e";
const mode = process.env.MODE || "walk";
mkdirSync(out, { recursive: true });

const ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function login(browser, user, viewport = { width: 1280, height: 800 }) {
  // A fresh context is a fresh profile: no cookie, no cache.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => { throw new Error(`script error on ${page.url()}: ${e}`); });
  await page.goto(base + "/");
  check(page.url().includes("/console/login"), `not sent to the login page: ${page.url()}`);
  await page.fill("#username", user);
  await page.fill("#password", `${user}-password-long`);
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
  return { context, page };
}

async function walk(browser) {
  const figures = {};
  const { context, page } = await login(browser, process.env.OPS);
  // The rack: every node a tile, a legend with counts.
  const tiles = await page.locator(".rack a.t").count();
  check(tiles >= 2, `the rack shows ${tiles} tiles`);
  figures.tiles = tiles;
  check(await page.locator(".legend").isVisible(), "no legend");

  // Keyboard: the first Tab stops are the skip link and the navigation.
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim());
  check(/skip|rack/i.test(first || ""), `the first Tab stop is ${JSON.stringify(first)}`);

  // A Boot session from the template, after its dry run.
  await page.click("nav >> text=Sessions");
  await page.selectOption("select[name=template]", "compute");
  await page.selectOption("select[name=operation]", "boot");
  await Promise.all([page.waitForURL(/\/console\/sessions\/new/), page.click("text=Preview")]);
  const summary = await page.textContent("#plan-summary");
  check(summary.includes(`${tiles} nodes`), `the dry run says ${summary}`);
  check(await page.locator("table.plan tbody tr").count() === tiles, "the plan does not list every node");
  await Promise.all([
    page.waitForURL(/\/console\/sessions\/[^/?]+$/),
    page.click("text=Start this session"),
  ]);
  const session = page.url().split("/").pop();
  // From here on the page is never reloaded: a marker on the window survives only if not.
  await page.evaluate(() => { window.__noReload = true; });
  const started = Date.now();
  // The tiles move, and the progress bar reaches 100 % successful, live.
  const seen = new Set();
  for (;;) {
    const states = await page.$$eval(".rack a.t", (els) => els.map((e) => e.className));
    check(states.length === tiles, `the session page shows ${states.length} of ${tiles} nodes`);
    states.forEach((s) => seen.add(s));
    const status = await page.textContent(`dd.status[data-session="${session}"]`);
    const ok = await page.textContent(".progress .pct-ok");
    if (status.trim() === "complete" && ok.trim() === "100" && states.every((s) => s === "t s-stable")) break;
    check(Date.now() - started < 120000, `session ${session} did not reach stable: ${status}, ${ok}% ok, ${states}`);
    await page.waitForTimeout(200);
  }
  figures.session_seconds = (Date.now() - started) / 1000;
  figures.tile_states_seen = [...seen].map((s) => s.replace("t s-", "")).sort();
  check(await page.evaluate(() => window.__noReload === true), "the session page was reloaded");
  check(figures.tile_states_seen.length > 1, `the tiles never changed: ${figures.tile_states_seen}`);
  const updates = Number(await page.getAttribute("html", "data-updates"));
  check(updates > 1, `only ${updates} live updates arrived`);
  figures.live_updates = updates;
  await page.waitForTimeout(600); // the bars' widths ease in over 0.4 s
  await page.screenshot({ path: `${out}/console-session.png`, fullPage: true });

  // A node's page: its boot timeline drawn, with each step.
  await page.click(".rack a.t >> nth=0");
  await page.waitForURL(/\/console\/nodes\//);
  const steps = await page.locator("figure.timeline svg g.ev").count();
  check(steps >= 4, `the timeline shows ${steps} steps`);
  figures.timeline_steps = steps;
  const lanes = await page.$$eval("figure.timeline svg text.lbl", (els) => els.map((e) => e.textContent));
  for (const want of ["power", "script", "kernel", "initrd"]) {
    check(lanes.some((l) => l.includes(want)), `no ${want} lane: ${lanes}`);
  }
  check(await page.locator("button[data-action=off]").count() === 1, "an operator has no power-off button");
  await page.screenshot({ path: `${out}/console-node.png`, fullPage: true });

  // The rack after the boot; then on a phone, nothing wider than the screen.
  await page.goto(base + "/");
  await page.screenshot({ path: `${out}/console-rack.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the rack is ${overflow}px wider than a phone's screen`);
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(dark !== light, `dark and light themes look the same (${dark})`);

  // Another site's form, posted with the operator's cookie, is refused.
  const node = await page.$eval(".rack a.t", (e) => e.id.slice(2));
  const forged = await context.request.post(`${base}/console/nodes/${node}/power`, {
    form: { action: "off" },
    headers: { Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  check(forged.status() === 403, `a cross-site power request got ${forged.status()}`);
  await context.close();

  // A read-only user: every page, no action, and an action posted anyway is refused.
  const ro = await login(browser, process.env.VIEWER);
  await ro.page.goto(`${base}/console/nodes/${node}`);
  check(await ro.page.locator("button[data-action]").count() === 0, "read-only sees power buttons");
  await ro.page.goto(`${base}/console/sessions/${session}`);
  check(await ro.page.locator("form[action$='/delete']").count() === 0, "read-only sees Delete");
  await ro.page.goto(`${base}/console/sessions/new?template=compute&operation=boot`);
  check(await ro.page.locator("form.confirm").count() === 0, "read-only sees Start");
  const status = await ro.page.evaluate(async (node) => {
    const csrf = document.querySelector("input[name=csrf]");
    const body = new URLSearchParams({ action: "off", csrf: csrf ? csrf.value : "" });
    const r = await fetch(`/console/nodes/${node}/power`, { method: "POST", body, redirect: "manual" });
    return r.status;
  }, node);
  check(status === 403, `a read-only power request from the console got ${status}`);
  await ro.context.close();
  return figures;
}

// 10,000 tiles: how soon the rack is drawn, and whether the page stays responsive while
// every tile changes at once (long tasks: main-thread work over 50 ms, the browser's own
// measure of jank).
async function scale(browser) {
  const nodes = Number(process.env.NODES);
  const { context, page } = await login(browser, process.env.OPS);
  const figures = { nodes };
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push([e.startTime, e.duration]); })
      .observe({ type: "longtask", buffered: true });
  });
  const t0 = Date.now();
  await page.goto(base + "/", { waitUntil: "load" });
  figures.first_render_ms = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return { ttfb: n.responseStart, load: n.loadEventEnd, bytes: n.transferSize, fcp: fcp ? fcp.startTime : null };
  });
  Object.assign(figures, { ttfb_ms: Math.round(nav.ttfb), fcp_ms: Math.round(nav.fcp), load_ms: Math.round(nav.load), html_bytes: nav.bytes });
  const tiles = await page.locator(".rack a.t").count();
  check(tiles === nodes, `the rack shows ${tiles} of ${nodes} tiles`);
  await page.waitForFunction(() => Number(document.documentElement.getAttribute("data-updates") || 0) >= 1);
  // Every node into configuring through the API, then back: the page follows, live.
  const rounds = [];
  for (const phase of ["configuring", ""]) {
    const want = phase ? "t s-configuring" : null;
    const before = await page.evaluate(() => { window.__long = []; window.__lag = 0; return performance.now(); });
    // The page's own responsiveness probe: how late a 16 ms timer fires while it works.
    await page.evaluate(() => {
      let last = performance.now();
      window.__probe = setInterval(() => { const now = performance.now(); window.__lag = Math.max(window.__lag, now - last - 16); last = now; }, 16);
    });
    const ids = await page.$$eval(".rack a.t", (els) => els.map((e) => e.id.slice(2)));
    const body = ids.map((id) => ({ id, status: { phase: phase } }));
    const r = await context.request.patch(`${base}/apis/bos/v2/components`, {
      headers: { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` }, data: body,
    });
    check(r.ok(), `PATCH components: ${r.status()} ${await r.text()}`);
    const patched = Date.now();
    await page.waitForFunction((want) => {
      const t = document.querySelectorAll(".rack a.t");
      for (const e of t) { if (want ? e.className !== want : e.className === "t s-configuring") return false; }
      return true;
    }, want, { timeout: 60000, polling: 250 });
    const m = await page.evaluate((before) => {
      clearInterval(window.__probe);
      const l = window.__long.filter(([s]) => s >= before);
      return { long_tasks: l.length, longest_ms: Math.round(Math.max(0, ...l.map(([, d]) => d))), lag_ms: Math.round(window.__lag) };
    }, before);
    rounds.push({ to: phase || "stable/off", all_tiles_after_ms: Date.now() - patched, ...m });
  }
  figures.updates = rounds;
  await page.screenshot({ path: `${out}/console-rack-${nodes}.png` });
  await context.close();
  return figures;
}

// bench/console.sh: a real session over every node, watched from the rack view. Loads the
// rack (no login: the bench's appliance runs in the lab shape), says "ready" on stdout, then
// follows until every tile reads stable, counting the tile changes it was shown and how the
// main thread fared; then draws the same page from a file (the browser's own floor for the
// first render: no server, no network) for the ratio.
async function watch(browser) {
  const nodes = Number(process.env.NODES);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__long = [];
    window.__changes = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
      .observe({ type: "longtask", buffered: true });
  });
  const t0 = Date.now();
  await page.goto(base + "/", { waitUntil: "load" });
  const first = Date.now() - t0;
  const tiles = await page.locator(".rack a.t").count();
  check(tiles === nodes, `the rack shows ${tiles} of ${nodes} tiles`);
  const html = await page.content();
  await page.evaluate(() => {
    new MutationObserver((m) => { window.__changes += m.length; })
      .observe(document.getElementById("rack"), { attributes: true, attributeFilter: ["class"], subtree: true });
    window.__lag = 0;
    let last = performance.now();
    setInterval(() => { const now = performance.now(); window.__lag = Math.max(window.__lag, now - last - 16); last = now; }, 16);
  });
  console.log("ready");
  const t1 = Date.now();
  await page.waitForFunction(() => {
    for (const e of document.querySelectorAll(".rack a.t")) if (e.className !== "t s-stable") return false;
    return true;
  }, null, { timeout: 900000, polling: 500 });
  const stable = Date.now() - t1;
  const m = await page.evaluate(() => ({
    changes: window.__changes, long_tasks: window.__long.length,
    longest_ms: Math.round(Math.max(0, ...window.__long)),
    long_total_ms: Math.round(window.__long.reduce((a, b) => a + b, 0)), lag_ms: Math.round(window.__lag),
  }));
  await page.screenshot({ path: `${out}/console-rack-${nodes}.png` });
  // The floor: the same document and styles from a file.
  const css = await (await context.request.get(base + "/console/assets/console.css")).text();
  writeFileSync(`${out}/rack.css`, css);
  writeFileSync(`${out}/rack.html`, html.replace(/<script[^>]*><\/script>/g, "").replace(/href="\/console\/assets\/console\.css[^"]*"/, 'href="rack.css"'));
  const floor = await context.newPage();
  const t2 = Date.now();
  await floor.goto(`file://${out}/rack.html`, { waitUntil: "load" });
  const file_ms = Date.now() - t2;
  await context.close();
  return { nodes, first_render_ms: first, file_render_ms: file_ms, all_stable_after_ready_ms: stable, ...m };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ARGS });
try {
  const run = { walk, scale, watch }[mode];
  check(run, `MODE ${mode} is not walk, scale or watch`);
  const figures = await run(browser);
  writeFileSync(`${out}/figures-${mode}.json`, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures));
} finally {
  await browser.close();
}
