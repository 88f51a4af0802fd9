// Walks every console page in Debian chromium as the coordinator and as a
// contractor, with their client certificates; fails on any console error.
// Usage: node walk.mjs --url URL --pki DIR --coordinator ID --contractor ID
//        --order ID --offer ID --owner ID --submitted N --passphrase P --shots DIR
// A party with PKI/ID.p12 presents that PKCS#12 file (as a browser imports it),
// else PKI/ID.pem and PKI/ID.key. PKI/alert-order.json is an order that tips
// a cell into a bottleneck; posting it as the owner must add a live alert.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const pages = ["/console", "/console/orders", "/console/offers", "/console/reports", "/console/demand", "/console/capacity", "/console/balance", "/console/availability", "/console/allocation"];

function identity(party) {
  const p12 = path.join(args.pki, party + ".p12");
  if (fs.existsSync(p12)) return { origin: args.url, pfxPath: p12, passphrase: args.passphrase };
  return { origin: args.url, certPath: path.join(args.pki, party + ".pem"), keyPath: path.join(args.pki, party + ".key") };
}

async function session(party, certs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosx-chromium-"));
  const browser = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ignoreHTTPSErrors: true,
    clientCertificates: certs ? [identity(party)] : [],
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
  const offer = await page.goto(args.url + "/console/offers/" + args.offer);
  return { ctx, page, errors, orderStatus: order.status(), offerStatus: offer.status() };
}

const coord = await walk(args.coordinator, "coordinator");
if (coord.orderStatus !== 200) fail("coordinator cannot open the order: " + coord.orderStatus);
if (coord.offerStatus !== 200) fail("coordinator cannot open the offer: " + coord.offerStatus);
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
// The overview adds a new alert without a reload: the owner's orders tip a cell into a bottleneck.
await coord.page.goto(args.url + "/console");
await coord.page.waitForTimeout(1500); // the event stream is open and past its first checkpoint
const owner = await session(args.owner, true);
const body = fs.readFileSync(path.join(args.pki, "alert-order.json"), "utf8");
for (let i = 0; i < 4; i++) {
  const r = await owner.request.post(args.url + "/v1/repairOrders", { headers: { "content-type": "application/json" }, data: body });
  if (r.status() !== 200) fail("creating an order over HTTP/JSON answered " + r.status() + " " + (await r.text()));
}
await owner.close();
try {
  await coord.page.locator("#live-alerts li.live.red").first().waitFor({ timeout: 20000 });
} catch (e) { fail("no live alert appeared on the overview: " + (await coord.page.locator("#live-alerts").innerHTML())); }
const live = await coord.page.locator("#live-alerts li.live.red").first().textContent();
if (!live.includes("Bottleneck raised") || !live.includes("F-35A")) fail("live alert reads " + live);
await coord.page.screenshot({ path: path.join(args.shots, "coordinator-live-alert.png"), fullPage: true });
// A fleet's availability page: its trend chart on labelled axes, the flags, the inputs.
await coord.page.goto(args.url + "/console/availability");
await Promise.all([coord.page.waitForNavigation(), coord.page.click("#health td a")]);
if ((await coord.page.locator("svg.chart g.axes text.tick").count()) < 5) fail("the trend chart has no axis ticks");
if ((await coord.page.locator("#inputs tbody tr").count()) === 0) fail("no inputs on the fleet page");
await coord.page.screenshot({ path: path.join(args.shots, "coordinator-availability-fleet.png"), fullPage: true });
// Every table's CSV download parses (as a browser downloads it).
const csv = await coord.ctx.request.get(args.url + "/console/balance?table=nations&format=csv");
if (!(await csv.text()).startsWith("key,cents,hours,share_of_cents,share_of_hours")) fail("balance CSV header");
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
if (contractor.offerStatus !== 404) fail("contractor opened another's offer: " + contractor.offerStatus);
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
