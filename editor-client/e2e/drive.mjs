// Drives a real VS Code (code-server, VS Code for the web) in Debian's Chromium through playwright-core,
// for tests/e2e/test_vscode.py: waits for the housecoder status bar item to say ready, runs
// *housecoder: Index Workspace*, opens a file, types at a line's end like a person, waits for the ghost
// text, measures how long it took after the last keystroke, takes a screenshot, runs *housecoder: Show Last
// Completion*, asks for the suggestion again, accepts it with Tab and saves; then types more samples. Writes
// what it saw as JSON to the spec's `output`; a failure is written there too (with a screenshot), exit 1.
//
// usage: node drive.mjs SPEC.json
// SPEC: url, browser (executable), output, screenshot, timeoutMs, index (bool), file (name for Quick Open),
// line (1-based), erase (characters to delete at the line's end first), idleMs (a pause before typing), type
// (the keystrokes), typeDelayMs,
// samples (more {line, erase, idleMs, type, partial} runs, timed; partial: on the first of them whose suggestion has
// several words, accept the next word with Ctrl+Right, then dismiss the rest), settleUntil (text the status bar's label shows once the accepts are counted: read it then, or after settleMs at
// most).

import { readFileSync, writeFileSync } from 'node:fs';

import { chromium } from 'playwright-core';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const timeout = spec.timeoutMs ?? 120_000;
const out = { steps: [] };
const started = Date.now();
const step = (name, extra = {}) => out.steps.push({ name, ms: Date.now() - started, ...extra });

const STATUS = '[id="housecoder.housecoder.housecoder.status"]';
const GHOST = '.ghost-text-decoration, .ghost-text';
const EDITOR = '.editor-instance .monaco-editor';

/** Page-side: record when ghost text appears after the last keystroke (both on the page's clock). */
function installProbe() {
  const probe = { keyAt: 0, ghostAt: 0, present: false, statusLabels: [], progress: [] };
  window.__housecoder = probe;
  const ghostNow = () => document.querySelector('.ghost-text-decoration, .ghost-text') !== null;
  window.addEventListener('keydown', () => {
    probe.keyAt = performance.now();
    probe.ghostAt = 0;
  }, true);
  const status = () => document.getElementById('housecoder.housecoder.housecoder.status');
  new MutationObserver(() => {
    const present = ghostNow();
    if (present && !probe.present && probe.keyAt > 0 && probe.ghostAt === 0) {
      probe.ghostAt = performance.now();
    }
    probe.present = present;
    const label = status()?.getAttribute('aria-label');
    if (label && probe.statusLabels.at(-1) !== label) {
      probe.statusLabels.push(label);
    }
    for (const item of document.querySelectorAll('.statusbar-item')) {
      const text = item.getAttribute('aria-label') ?? '';
      if (/index/i.test(text) && item.id !== 'housecoder.housecoder.housecoder.status' && !probe.progress.includes(text)) {
        probe.progress.push(text);
      }
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true }); // before <body> exists
}

async function ghostText(page) {
  return page.evaluate(() => {
    const clean = (node) => (node.textContent ?? '').replace(/\u00a0/g, ' ');
    const inline = [...document.querySelectorAll('.ghost-text-decoration')].map(clean).join('');
    // Lines after the first are a view zone of their own lines.
    const more = [...document.querySelectorAll('.ghost-text .view-line')].map(clean);
    return more.length ? [inline, ...more].join('\n') : inline;
  });
}

async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function lineText(page, line) {
  return page.evaluate((n) => {
    const lines = [...document.querySelectorAll('.editor-instance .monaco-editor .view-lines .view-line')];
    // view lines are absolutely positioned: order them by their top
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    const numbers = [...document.querySelectorAll('.editor-instance .monaco-editor .line-numbers')]
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top).map((e) => Number(e.textContent));
    const index = numbers.indexOf(n);
    return index >= 0 && lines[index] ? lines[index].textContent.replace(/\u00a0/g, ' ') : null;
  }, line);
}

/** Go to the end of `line` (0: of the file), delete `erase` characters, type `keys`; returns the ghost text and its latency. */
async function typeAndWait(page, { line, erase = 0, type, idleMs = 0 }) {
  await page.keyboard.press('Escape');
  if (line > 0) {
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
  } else {
    await page.keyboard.press('Control+End');
  }
  for (let i = 0; i < erase; i++) {
    await page.keyboard.press('Backspace');
  }
  // The cursor settled on the line: the extension tells the server, which prefills the line's prompt while idle.
  await page.waitForTimeout(idleMs);
  // Nothing on screen before the keystrokes (a suggestion from an earlier edit would be typed through).
  if (await page.locator(GHOST).count()) {
    await page.keyboard.press('Escape');
  }
  await page.waitForFunction(() => document.querySelector('.ghost-text-decoration, .ghost-text') === null, null, { timeout: 10_000 });
  await page.keyboard.type(type, { delay: spec.typeDelayMs ?? 80 });
  await page.waitForFunction(() => window.__housecoder.ghostAt > 0, null, { timeout: spec.ghostTimeoutMs ?? 120_000, polling: 50 });
  // the whole suggestion: the ghost text stops changing
  let text = await ghostText(page);
  for (let stable = 0; stable < 3;) {
    await page.waitForTimeout(100);
    const again = await ghostText(page);
    stable = again === text ? stable + 1 : 0;
    text = again;
  }
  const ms = await page.evaluate(() => window.__housecoder.ghostAt - window.__housecoder.keyAt);
  return { text, ms: Math.round(ms) };
}

let browser;
let page;
try {
  browser = await chromium.launch({
    executablePath: spec.browser,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(timeout);
  await page.addInitScript(installProbe);
  await page.goto(spec.url);
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout });
  step('workbench');

  // The status bar item: the server's state, until the model is ready.
  await page.waitForFunction((sel) => /housecoder: ready/.test(document.querySelector(sel)?.getAttribute('aria-label') ?? ''),
    STATUS, { timeout });
  out.status_ready = await page.locator(STATUS).getAttribute('aria-label');
  out.status_icon = await page.locator(`${STATUS} .codicon`).first().getAttribute('class');
  step('status ready');

  if (spec.index) {
    await runCommand(page, 'housecoder: Index Workspace');
    const toast = page.locator('.notification-toast', { hasText: 'files indexed' }).first();
    await toast.waitFor({ timeout });
    out.index_message = (await toast.locator('.notification-list-item-message').innerText()).trim();
    out.index_status_labels = await page.evaluate(() => window.__housecoder.statusLabels);
    out.index_progress = await page.evaluate(() => window.__housecoder.progress);
    await page.keyboard.press('Escape');
    step('indexed');
  }

  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type(spec.file);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab.active[data-resource-name="${spec.file}"]`);
  await page.waitForSelector(`${EDITOR} .view-lines`);
  await page.locator(`${EDITOR} .view-lines`).click();
  step('opened');

  const first = await typeAndWait(page, spec);
  out.ghost = first.text;
  out.first_ghost_ms = first.ms;
  out.line_with_ghost = await lineText(page, spec.line);
  out.status_with_ghost = await page.locator(STATUS).getAttribute('aria-label');
  await page.screenshot({ path: spec.screenshot });
  step('ghost text', { ms_after_key: first.ms });

  // What the server says it completed (the extension writes it to its log), then the same suggestion again:
  // back in the editor, *Trigger Inline Suggestion* asks for it (the server answers from its cache).
  await runCommand(page, 'housecoder: Show Last Completion');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await runCommand(page, 'Trigger Inline Suggestion');
  await page.waitForSelector(GHOST, { timeout });
  out.ghost_again = await ghostText(page);
  step('show last completion, ghost text again');

  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelector('.ghost-text-decoration, .ghost-text') === null, null, { timeout: 10_000 });
  await page.keyboard.press('Escape'); // a next suggestion may already show after the accepted one
  out.line_after_tab = await lineText(page, spec.line);
  await page.keyboard.press('Control+S');
  await page.waitForFunction(() => !document.querySelector('.tab.active.dirty'), null, { timeout: 30_000 });
  step('accepted and saved');

  out.samples = [];
  for (const sample of spec.samples ?? []) {
    const seen = await typeAndWait(page, sample);
    // Once, on the first suggestion of several words: Ctrl+Right must take less than all of it.
    if (sample.partial && !out.samples.some((done) => done.partial_chars !== undefined) && /^\s*\w+\W/.test(seen.text)) {
      // The next word only (editor.action.inlineSuggest.acceptNextWord): the cursor moves by what it took.
      const column = async () => Number(/Col (\d+)/.exec(await page.locator('[id="status.editor.selection"]').innerText())?.[1]);
      const before = await column();
      await page.keyboard.press('Control+ArrowRight');
      await page.waitForFunction((col) => !new RegExp(`Col ${col}\\b`).test(document.getElementById('status.editor.selection')?.innerText ?? ''),
        before, { timeout: 10_000 });
      seen.partial_chars = (await column()) - before;
      seen.ghost_after_partial = await ghostText(page);
    }
    out.samples.push(seen);
    await page.keyboard.press('Escape');
  }
  if (out.samples.length) {
    step('samples');
  }
  // The acceptance figures reach the status bar a moment after the accept (the extension refreshes it every 2 s):
  // wait until its label shows them; past settleMs it is read as it is, for the test to say what it showed.
  if (spec.settleUntil) {
    await page
      .waitForFunction(([selector, text]) => (document.querySelector(selector)?.getAttribute('aria-label') ?? '').includes(text),
        [STATUS, spec.settleUntil], { timeout: spec.settleMs ?? 30_000 })
      .catch(() => undefined);
  }
  out.status_final = await page.locator(STATUS).getAttribute('aria-label');
  out.status_final_text = (await page.locator(STATUS).innerText()).trim();
  out.ok = true;
} catch (err) {
  out.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  if (page && spec.screenshot) {
    await page.screenshot({ path: spec.screenshot.replace(/\.png$/, '-failed.png') }).catch(() => undefined);
  }
} finally {
  await browser?.close().catch(() => undefined);
  writeFileSync(spec.output, JSON.stringify(out, null, 2));
}
process.exit(out.ok ? 0 : 1);
