// harness.mjs: shared pieces of the browser tests and the page benchmark. Serves the built page on
// 127.0.0.1 (a free port) with web/serve.mjs, drives Debian's Chromium headless through playwright-core
// (no browser download), collects console errors, saves screenshots, and runs the native `quantlab` binary
// for the expected numbers. Paths come from the environment (CTest sets them; see tests/CMakeLists.txt):
//   QUANTLAB_WEB_PAGE       the built page folder (default: build/web/page)
//   QUANTLAB_NATIVE_BIN     the native quantlab command line (default: first of build/{ci,native,dev}/native/quantlab)
//   QUANTLAB_TEST_ARTIFACTS where screenshots go (default: build/test-artifacts/browser)
//   QUANTLAB_DATA_DIR       a CIFAR-10 folder with the full test_batch.bin (optional; default ../shared/data/...)
//   QUANTLAB_CHROMIUM       the browser (default /usr/bin/chromium)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../web/serve.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function firstExisting(candidates) { return candidates.find((p) => p && existsSync(p)); }

export const config = {
  pageDir: process.env.QUANTLAB_WEB_PAGE || path.join(repoRoot, 'build/web/page'),
  nativeBin: process.env.QUANTLAB_NATIVE_BIN ||
    firstExisting(['ci', 'native', 'dev'].map((p) => path.join(repoRoot, 'build', p, 'native/quantlab'))),
  artifacts: process.env.QUANTLAB_TEST_ARTIFACTS || path.join(repoRoot, 'build/test-artifacts/browser'),
  dataDir: process.env.QUANTLAB_DATA_DIR || path.resolve(repoRoot, '../shared/data/cifar-10-batches-bin'),
  chromium: process.env.QUANTLAB_CHROMIUM || '/usr/bin/chromium',
  sample: path.join(repoRoot, 'assets/cifar10_test_1000.bin'),
};

// The flags that give WebGL2 (SwiftShader) in headless Debian Chromium, and nothing online (docs/TOOLCHAIN.md).
export const kChromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'];

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    throw new Error(`playwright-core is not installed (${e.message}). Run scripts/setup.sh (it runs npm ci) ` +
                    'or `npm ci` in the repository root.');
  }
}

function checkBuilt() {
  for (const f of ['index.html', 'glue.js', 'quantlab.js', 'quantlab.wasm', 'quantlab.data'])
    if (!existsSync(path.join(config.pageDir, f)))
      throw new Error(`${path.join(config.pageDir, f)} is missing: build the page first ` +
                      '(cmake --preset web && cmake --build --preset web), or set QUANTLAB_WEB_PAGE.');
}

// Starts a server and a browser; returns {browser, server, url, newPage(opts), close()}.
// extra: URL path -> file (e.g. {'/test_batch.bin': '...'}). server: another server already started
// ({url, close()}: the page's URL, e.g. a packaged folder under a plain static server) instead of serve.mjs.
export async function startSession({ extra = {}, server: ownServer = null } = {}) {
  if (!ownServer) checkBuilt();
  const { chromium } = await loadPlaywright();
  const server = ownServer || await startServer({ root: config.pageDir, extra });
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'quantlab-chromium-'));
  // A persistent context is how playwright takes a fresh --user-data-dir of our own.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: config.chromium, headless: true, args: kChromiumArgs,
    viewport: { width: 1280, height: 800 },
  });
  const session = {
    url: server.url,
    context,
    // Opens the page (optionally at a hash state) and waits for its first frame. Returns a PageHandle.
    async open({ hash = '', waitFirstFrame = true, page = null } = {}) {
      const p = page || await context.newPage();
      const errors = [];
      p.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url})`); });
      p.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      p.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      await p.goto(server.url + (hash ? `#${hash}` : ''));
      if (waitFirstFrame) await waitFirstFrameOf(p);
      return { page: p, errors };
    },
    async close() {
      await context.close().catch(() => {});
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  return session;
}

export async function waitFirstFrameOf(page, timeout = 90000) {
  await page.waitForFunction(() => window.quantlab && (window.quantlab.firstFrameMs !== null || window.quantlab.errors.length),
                             null, { timeout });
  const errs = await page.evaluate(() => window.quantlab.errors);
  if (errs.length) throw new Error(`the page reported: ${errs.join(' | ')}`);
}

// Waits until the page's current evaluation has finished over `total` images (when given); returns status.
export async function waitEvaluated(page, { total = null, timeout = 120000 } = {}) {
  await page.evaluate(() => window.quantlab.afterFrames(2));  // status() catches up with a change at the next frame
  await page.waitForFunction((t) => {
    const s = window.quantlab.status();
    return s.done && s.evaluated === s.total && s.total > 0 && (t === null || s.total === t);
  }, total, { timeout, polling: 100 });
  return page.evaluate(() => window.quantlab.status());
}

export async function screenshot(page, name) {
  mkdirSync(config.artifacts, { recursive: true });
  const file = path.join(config.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// `quantlab eval --json` on a CIFAR-10 folder (default: a temp folder whose test_batch.bin is the bundled
// 1,000-image sample, the data the page starts on), with the page's default kernels (integer). Returns
// {bits -> {accuracy, correct, total, hash}}.
export function nativeEval({ bits = [32, 8, 4, 2], dataDir = null, extraArgs = [] } = {}) {
  if (!config.nativeBin || !existsSync(config.nativeBin))
    throw new Error('the native quantlab binary was not found: build it (cmake --preset native && cmake --build ' +
                    '--preset native) or set QUANTLAB_NATIVE_BIN');
  let tmp = null;
  if (!dataDir) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlab-sample-'));
    symlinkSync(config.sample, path.join(tmp, 'test_batch.bin'));
    dataDir = tmp;
  }
  try {
    const out = execFileSync(config.nativeBin, ['eval', '--json', '--backend', 'integer', '--bits', bits.join(','), '--data', dataDir,
                                              ...extraArgs],
                             { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
    const j = JSON.parse(out);
    const byBits = {};
    for (const r of j.results)
      byBits[r.weight_bits] = { accuracy: r.accuracy, correct: r.correct, total: r.total, hash: r.predictions_fnv1a64 };
    return byBits;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

// Drops files on the page the way a user's drag-and-drop does (a DataTransfer on a 'drop' event).
export async function dropFiles(page, files) {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([new Uint8Array(f.bytes)], f.name));
    return d;
  }, files.map((f) => ({ name: f.name, bytes: [...f.bytes] })));
  await page.dispatchEvent('#canvas', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('#canvas', 'drop', { dataTransfer: dt });
}

export function expectNoErrors(assert, errors, what) {
  assert.deepStrictEqual(errors, [], `${what}: the page logged errors`);
}

// A bounded CPU load, for tests that must pass on a busy machine (ctest running other suites, a presenter's
// laptop): one busy child process per core, each ending by itself after `seconds` at most. Returns
// {stop()}, which ends them at once (call it in a finally block).
export function startCpuLoad({ seconds = 60 } = {}) {
  const spin = `const end = Date.now() + ${Math.round(seconds * 1000)}; let x = 0; while (Date.now() < end) x = (x * 33 + 1) % 1e9;`;
  const children = os.cpus().map(() => spawn(process.execPath, ['-e', spin], { stdio: 'ignore' }));
  return {
    processes: children.length,
    stop() { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); },
  };
}
