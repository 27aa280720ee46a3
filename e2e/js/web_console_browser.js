// Drives Debian's chromium (headless, through playwright-core) over the web console for
// e2e/tests/web_console.rs: visits every page, creates a topic through the topics page's form,
// reads the message browser and a group's offsets table, tries the live tail (and its error line
// when a poll fails), screenshots each
// page, and measures each page's load (navigation timing). Prints one JSON object on stdout;
// the Rust test makes the assertions.
//
// Environment: CONSOLE_URL (http://127.0.0.1:port), OUT_DIR (screenshots), TOPIC (holds a record
// with key, value and headers in partition 0), NEW_TOPIC (to create), GROUP (has committed
// offsets), CHROMIUM (default /usr/bin/chromium).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const base = process.env.CONSOLE_URL;
const outDir = process.env.OUT_DIR;
const topic = process.env.TOPIC;
const newTopic = process.env.NEW_TOPIC;
const group = process.env.GROUP;

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "web-console-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const errors = [];
  const result = { errors, loads: {}, screenshots: [] };
  // Set while the script makes the live tail's polls fail on purpose (Chromium logs each failed
  // request as a console error).
  let expectingFailures = false;
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("console", (msg) => {
      if (msg.type() === "error" && !expectingFailures) errors.push(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error on ${page.url()}: ${e.message}`));

    // Loads `url`, records its load time and screenshots it as `name`.png.
    async function visit(name, url) {
      await page.goto(base + url, { waitUntil: "load" });
      await measure(name);
    }
    async function measure(name) {
      const ms = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        return nav.loadEventEnd - nav.startTime;
      });
      result.loads[name] = ms;
      const file = path.join(outDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      result.screenshots.push(file);
    }

    await visit("overview", "/");
    result.brokers = await page.$$eval("#brokers tbody tr", (rows) =>
      rows.map((r) => Number(r.getAttribute("data-broker-id"))));

    await visit("topics", "/topics");
    await page.fill("#create-topic input[name=name]", newTopic);
    await page.fill("#create-topic input[name=partitions]", "2");
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/topics/${newTopic}`),
      page.click("#create-topic button[type=submit]"),
    ]);
    await page.waitForLoadState("load");
    await measure("topic");
    result.created_flash = await page.textContent(".flash");
    result.created_partitions = await page.$$eval("#partitions tbody tr", (rows) => rows.length);

    await visit("messages", `/topics/${topic}/messages?partition=0&offset=0`);
    result.records = await page.$$eval("#records tbody tr", (rows) => rows.map((r) => ({
      offset: Number(r.getAttribute("data-offset")),
      key: r.querySelector("td.key").innerText.trim(),
      value: r.querySelector("td.value").innerText.trim(),
      headers: Array.from(r.querySelectorAll("td.headers .header")).map((h) => h.innerText.trim()),
    })));
    // Live tail: a record produced now (through the JSON API) appears without a reload.
    await page.check("#live-tail");
    const produced = await page.evaluate(async (t) => {
      const response = await fetch(`/api/topics/${t}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ partition: 0, key: "tail-key", value: "tail-value" }),
      });
      return response.json();
    }, topic);
    await page.waitForSelector(`#records tbody tr[data-offset="${produced.offset}"]`, { timeout: 10000 });
    result.tailed = await page.textContent(`#records tbody tr[data-offset="${produced.offset}"] td.value`);
    // A failing poll shows an error line (the API's message) instead of going quiet, and the
    // next good poll clears it.
    expectingFailures = true;
    const failing = "**/api/topics/*/messages?*";
    await page.route(failing, (route) => route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({ error: "Service Unavailable", status: 503, message: "cluster unreachable (test)" }),
    }));
    await page.waitForSelector("#tail-error", { timeout: 10000 });
    result.tail_error = await page.textContent("#tail-error");
    await page.unroute(failing);
    await page.waitForSelector("#tail-error", { state: "detached", timeout: 10000 });
    result.tail_error_cleared = true;
    await page.uncheck("#live-tail");
    expectingFailures = false;

    await visit("groups", "/groups");
    result.groups = await page.$$eval("#groups tbody tr", (rows) =>
      rows.map((r) => r.getAttribute("data-group")));

    await visit("group", `/groups/${encodeURIComponent(group)}`);
    result.lags = await page.$$eval("#offsets tbody tr", (rows) => rows.map((r) => ({
      topic: r.getAttribute("data-topic"),
      partition: Number(r.getAttribute("data-partition")),
      lag: r.querySelector("td.lag").innerText.trim(),
    })));
    result.total_lag = await page.textContent("#total-lag");
    // A reset's dry run from the page's form (the group has no members).
    await page.fill("#reset-form input[name=topic]", "");
    await Promise.all([
      page.waitForNavigation({ waitUntil: "load" }),
      page.click("#reset-form button[value=preview]"),
    ]);
    await measure("group-reset-preview");
    result.reset_rows = await page.$$eval("#reset-plan tbody tr", (rows) => rows.length);

    await visit("topic-configs", `/topics/${topic}#configs`);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
