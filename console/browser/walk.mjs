// Walks every console page in Debian chromium as the coordinator and as a
// contractor, with their client certificates; fails on any console error.
// Usage: node walk.mjs --url URL --pki DIR --coordinator ID --contractor ID
//        --order ID --submitted N --shots DIR
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const pages = ["/console", "/console/orders", "/console/demand", "/console/capacity", "/console/balance", "/console/availability", "/console/allocation"];

async function session(party, certs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosx-chromium-"));
  const browser = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ignoreHTTPSErrors: true,
    clientCertificates: certs ? [{ origin: args.url, certPath: path.join(args.pki, party + ".pem"), keyPath: path.join(args.pki, party + ".key") }] : [],
  });
  return browser;
}

// Pages a contractor may be refused (the API refuses it the same figures).
const mayRefuse = new Set(["/console/capacity", "/console/balance", "/console/demand", "/console/availability", "/console/allocation"]);

async function walk(party, label) {
  const ctx = await session(party, true);
  const page = await ctx.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  for (const p of pages) {
    const r = await page.goto(args.url + p);
    const ok = r.status() === 200 || (label === "contractor" && mayRefuse.has(p) && r.status() === 403);
    if (!ok) fail(`${label} ${p}: HTTP ${r.status()}`);
    await page.screenshot({ path: path.join(args.shots, `${label}${p.replaceAll("/", "-")}.png`), fullPage: true });
  }
  const order = await page.goto(args.url + "/console/orders/" + args.order);
  return { ctx, page, errors, orderStatus: order.status() };
}

const coord = await walk(args.coordinator, "coordinator");
if (coord.orderStatus !== 200) fail("coordinator cannot open the order: " + coord.orderStatus);
await coord.page.screenshot({ path: path.join(args.shots, "coordinator-order.png"), fullPage: true });
await coord.page.goto(args.url + "/console");
const cell = await coord.page.locator("#orders-by-state tr", { hasText: "REPAIR_ORDER_STATE_SUBMITTED" }).locator("td.num").textContent();
if (cell.trim() !== args.submitted) fail(`overview shows ${cell} submitted, API ${args.submitted}`);
// A heat-map cell opens its chart: bars coloured by the DCM rule, capacity and surge lines.
await coord.page.goto(args.url + "/console/demand");
await Promise.all([coord.page.waitForNavigation(), coord.page.click("#demand td a")]);
if ((await coord.page.locator("svg.chart rect.bar").count()) === 0) fail("the cell chart has no bars");
if ((await coord.page.locator("svg.chart polyline.capacity").count()) !== 1) fail("the cell chart has no capacity line");
await coord.page.screenshot({ path: path.join(args.shots, "coordinator-demand-cell.png"), fullPage: true });
// Propose from the page (same origin) works.
await coord.page.goto(args.url + "/console/allocation");
await Promise.all([coord.page.waitForNavigation(), coord.page.click("#propose")]);
const h1 = await coord.page.locator("h1").textContent();
if (!h1.includes("Proposed plan")) fail("propose did not render a plan: " + h1 + " " + (await coord.page.locator("main").textContent()));
await coord.page.screenshot({ path: path.join(args.shots, "coordinator-plan.png"), fullPage: true });
// A cross-origin form post (from a page of another origin) is refused.
const cross = await coord.ctx.request.post(args.url + "/console/allocation/propose", { headers: { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" } });
if (cross.status() !== 403) fail("cross-origin POST answered " + cross.status());
if (coord.errors.length) fail("console errors as coordinator: " + coord.errors.join("; "));
await coord.ctx.close();

const contractor = await walk(args.contractor, "contractor");
if (contractor.orderStatus !== 404) fail("contractor opened another's order: " + contractor.orderStatus);
if (contractor.errors.filter((e) => !e.includes("404") && !e.includes("403")).length) fail("console errors as contractor: " + contractor.errors.join("; "));
await contractor.ctx.close();

// No certificate: the TLS handshake is refused.
const anon = await session(args.coordinator, false);
const anonPage = await anon.newPage();
let refused = false;
try { await anonPage.goto(args.url + "/console", { timeout: 10000 }); } catch (e) { refused = true; }
await anon.close();
if (!refused) fail("a browser without a certificate got a page");
console.log("all browser checks passed");
