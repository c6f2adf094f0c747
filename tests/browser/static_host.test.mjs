// static_host.test.mjs: the folder scripts/package_web.sh writes runs on any static host. Packaged from the
// two built pages (threaded: QUANTLAB_WEB_PAGE, single-threaded: QUANTLAB_WEB_PAGE_ST), then:
//   - under /quantlab/ of a plain static server written here (no COOP/COEP headers, 404 for anything
//     missing), the page starts st/, logs no console errors, and its predictions at 8 bits on the bundled
//     sample equal `quantlab eval --backend integer`;
//   - behind scripts/serve.sh (COOP/COEP on localhost), the same folder starts mt/ (threads); with --host 0.0.0.0
//     its LAN address (plain http: no isolation possible) gets st/ and a clean console;
//   - with lang=ja (the app's state key) or a Japanese browser the shell, its errors and the app speak Japanese.
//   - packaged --with-data (when a CIFAR-10 folder is available), the plain host's page evaluates all 10,000
//     test images and matches native on them, and its training panel trains on the packaged training batches.
// Both pages' inference speeds (ql_benchmark) are printed, not asserted.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { config, expectNoErrors, nativeEval, repoRoot, screenshot, startSession, waitEvaluated } from './harness.mjs';

const stPage = process.env.QUANTLAB_WEB_PAGE_ST || path.join(repoRoot, 'build/web-st/page');
const kSubpath = '/quantlab/';

// A static file server as a web host runs one: files under `prefix`, a content type, nothing else (no
// isolation headers, no 204 for the optional test set).
function startPlainServer(root, prefix) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    if (urlPath.startsWith(prefix)) {
      const rel = urlPath.slice(prefix.length);
      file = path.join(root, rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel);
    }
    if (!file || !file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found\n');
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream',
                         'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}${prefix}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  })));
}

// scripts/serve.sh ARGS... (a free port); resolves with {url (the first it prints), urls, close()}.
function startServeSh(args) {
  const child = spawn('bash', [path.join(repoRoot, 'scripts/serve.sh'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const take = (d) => {
      out += d;
      if (!out.includes('Ctrl+C')) return;
      const urls = [...out.matchAll(/http:\/\/[^\s/]+\//g)].map((m) => m[0]);
      resolve({ url: urls[0], urls: [...new Set(urls)], close: async () => { child.kill(); } });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => reject(new Error(`scripts/serve.sh exited with ${code}: ${out}`)));
  });
}

let pkg, expected, plain, isolated;
before(async () => {
  pkg = mkdtempSync(path.join(os.tmpdir(), 'quantlab-package-'));
  const out = execFileSync('bash', [path.join(repoRoot, 'scripts/package_web.sh'), pkg, '--mt', config.pageDir, '--st', stPage],
                           { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.log(out.trim());
  expected = nativeEval({ bits: [8] })[8];
  plain = await startSession({ server: await startPlainServer(pkg, kSubpath) });
  isolated = await startSession({ server: await startServeSh(['--page', pkg]) });
});
after(async () => {
  await plain?.close();
  await isolated?.close();
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

test('the package holds both builds, the shell and .nojekyll, and no test set unless asked', () => {
  for (const f of ['index.html', 'glue.js', 'shell_i18n.js', 'quantlab.data', '.nojekyll', 'mt/quantlab.js',
                   'mt/quantlab.wasm', 'mt/quantlab.worker.js', 'st/quantlab.js', 'st/quantlab.wasm', 'st/train_worker.js',
                   'st/train_worker.wasm'])
    assert.ok(existsSync(path.join(pkg, f)), `${f} is in the package`);
  assert.ok(!existsSync(path.join(pkg, 'test_batch.bin')));
  assert.match(readFileSync(path.join(pkg, 'index.html'), 'utf8'), /<body data-threads="auto" data-test-set="none"/);
});

// Opens the page at `state`, checks which build it chose, and returns its 8-bit result and the speed.
async function evaluateAt(session, expectBuild, name) {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=8&ab=8' });
  const build = await page.evaluate(() => ({ ...window.quantlab.build, coi: window.crossOriginIsolated }));
  assert.deepEqual(build, expectBuild, `${name}: the build glue.js chose`);
  const s = await waitEvaluated(page, { total: 1000 });
  await page.waitForFunction(() => !window.quantlab.status().busy, null, { timeout: 120000, polling: 250 }).catch(() => {});
  const bench = await page.evaluate(() => window.quantlab.benchmark(2, 8, 3));
  assert.equal(bench.error, undefined, `${name}: benchmark`);
  console.log(`${name} (${build.dir}): 8 bits ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64} (native ` +
              `${expected.hash}); integer inference ${bench.images_per_s.toFixed(0)} img/s best of 3 ` +
              `(${bench.mean_images_per_s.toFixed(0)} mean, ${bench.images} images)`);
  await screenshot(page, `static-host-${build.dir.replace('/', '')}`);
  await page.waitForTimeout(300);
  expectNoErrors(assert, errors, name);
  return s;
}

test('a plain static host (no COOP/COEP, a subpath): the single-threaded build, native\'s predictions', async () => {
  const s = await evaluateAt(plain, { dir: 'st/', threads: false, isolated: false, coi: false }, 'plain static host');
  assert.equal(s.predictions_fnv1a64, expected.hash);
  assert.equal(s.total, 1000);
});

test('behind scripts/serve.sh (COOP/COEP): the same folder runs threaded', async () => {
  const s = await evaluateAt(isolated, { dir: 'mt/', threads: true, isolated: true, coi: true }, 'scripts/serve.sh');
  assert.equal(s.predictions_fnv1a64, expected.hash);
});

test('lang=ja: the shell, its messages and the app speak Japanese', async () => {
  const page = await plain.context.newPage();
  // Hold the data back so the loading screen can be seen (and photographed) in Japanese.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/quantlab/quantlab.data', async (route) => { await held; await route.continue(); });
  await page.goto(`${plain.url}?lang=ja`);
  await page.waitForFunction(() => /読み込み中/.test(document.getElementById('progress-text')?.textContent));
  const shell = await page.evaluate(() => ({
    lang: document.documentElement.lang, title: document.title, sub: document.querySelector('#loading .sub').textContent,
    open: document.getElementById('open').textContent, openTitle: document.getElementById('open').title,
  }));
  console.log(`Japanese shell: ${JSON.stringify(shell)}`);
  assert.equal(shell.lang, 'ja');
  assert.match(shell.title, /量子化/);
  assert.match(shell.sub, /量子化プレイグラウンド/);
  assert.equal(shell.open, 'ファイルを開く…');
  assert.match(shell.openTitle, /重み/);
  await screenshot(page, 'static-host-ja-loading');
  release();
  await page.waitForFunction(() => window.quantlab?.firstFrameMs !== null, null, { timeout: 90000 });
  await page.evaluate(() => window.quantlab.afterFrames(3));
  assert.match(await page.evaluate(() => window.quantlab.state()), /(^|&)lang=ja(&|$)/, 'the app started in Japanese');
  assert.match(page.url(), /#.*lang=ja/, 'and the URL keeps it');
  await screenshot(page, 'static-host-ja');
  // Switching the app to English switches the shell.
  await page.evaluate(() => window.quantlab.applyState('lang=en'));
  await page.evaluate(() => window.quantlab.afterFrames(2));
  assert.equal(await page.evaluate(() => document.getElementById('open').textContent), 'Open file…');
  await page.close();
});

test('a Japanese browser without lang= gets Japanese; an error is framed in Japanese', async () => {
  const context = plain.context;
  const page = await context.newPage();
  await page.addInitScript(() => {
    Object.defineProperty(navigator, 'languages', { get: () => ['ja-JP', 'en-US'] });
  });
  // The wasm missing on the server: the download fails, and the banner says so in Japanese.
  await page.route('**/st/quantlab.wasm', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto(plain.url);
  await page.waitForFunction(() => window.quantlab?.errors.length > 0, null, { timeout: 60000 });
  const shown = await page.evaluate(() => ({ banner: document.getElementById('banner-text').textContent,
                                              progress: document.getElementById('progress-text').textContent,
                                              lang: document.documentElement.lang }));
  console.log(`Japanese error: ${JSON.stringify(shown)}`);
  assert.equal(shown.lang, 'ja');
  assert.match(shown.banner, /^ダウンロードに失敗しました：.*st\/quantlab\.wasm: HTTP 404/);
  assert.equal(shown.progress, 'QuantLab を起動できませんでした。');
  assert.ok(await page.isVisible('#banner'));
  await screenshot(page, 'static-host-ja-error');
  await page.close();
});

// --with-data: test_batch.bin goes into the folder, and the page evaluates all 10,000 images from the plain host.
const fullSet = path.join(config.dataDir, 'test_batch.bin');
test('--with-data: the plain host serves the full test set and the page matches native on it',
     { skip: existsSync(fullSet) ? false : `no ${fullSet}` }, async () => {
  const withData = mkdtempSync(path.join(os.tmpdir(), 'quantlab-package-data-'));
  let server, session;
  try {
    execFileSync('bash', [path.join(repoRoot, 'scripts/package_web.sh'), withData, '--with-data', config.dataDir,
                          '--mt', config.pageDir, '--st', stPage], { stdio: ['ignore', 'ignore', 'inherit'] });
    assert.match(readFileSync(path.join(withData, 'index.html'), 'utf8'), /data-test-set="bundled"/);
    // The training batches there go in too, listed for glue.js.
    const batches = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).filter((b) => existsSync(path.join(config.dataDir, b)));
    assert.match(readFileSync(path.join(withData, 'index.html'), 'utf8'), new RegExp(`data-train-set="${batches.join(',')}"`));
    for (const b of batches) assert.equal(statSync(path.join(withData, b)).size, 10000 * 3073, b);
    const native = nativeEval({ bits: [8], dataDir: config.dataDir })[8];
    server = await startPlainServer(withData, kSubpath);
    session = await startSession({ server });
    const { page, errors } = await session.open({ hash: 'panel=eval&wb=8&ab=8' });
    await page.waitForFunction(() => window.quantlab.fullTestSet, null, { timeout: 120000 });
    const s = await waitEvaluated(page, { total: 10000, timeout: 300000 });
    console.log(`packaged with the full test set (st/): 8 bits ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64}, ` +
                `native ${native.accuracy.toFixed(2)} % ${native.hash}`);
    assert.equal(s.predictions_fnv1a64, native.hash);
    // The training panel trains on the served batches (one step here): all their images, not the 2,000 sample.
    if (batches.length) {
      await page.evaluate(() => window.quantlab.trainTestOptions({ limitTrain: 64, maxSteps: 1, seed: 1 }));
      const { id, error } = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 32, lr: 0.01 }));
      assert.equal(error, '');
      await page.waitForFunction((i) => ['finished', 'failed'].includes(window.quantlab.trainStatus().runs.find((r) => r.id === i)?.state),
                                 id, { timeout: 300000, polling: 250 });
      const t = await page.evaluate(() => window.quantlab.trainStatus());
      assert.equal(t.runs[0].state, 'finished', t.runs[0].message);
      assert.equal(t.train_images, batches.length * 10000);
      assert.equal(t.data, batches.join(' + '));
      console.log(`packaged training images: ${t.data} (${t.train_images})`);
    }
    expectNoErrors(assert, errors, 'packaged with data');
  } finally {
    await session?.close();  // closes the server too
    rmSync(withData, { recursive: true, force: true });
  }
});

test('scripts/serve.sh --host 0.0.0.0: every address is printed; the LAN one runs st/ without console errors', async () => {
  const server = await startServeSh(['--host', '0.0.0.0', '--page', pkg]);
  try {
    console.log(`serve.sh --host 0.0.0.0 printed ${server.urls.join(', ')}`);
    assert.ok(server.urls.some((u) => u.startsWith('http://127.0.0.1:')), 'the loopback address is listed');
    const lan = server.urls.find((u) => !u.startsWith('http://127.'));
    if (!lan) return;  // a machine without a network interface: nothing more to open
    const page = await plain.context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(lan);
    await page.waitForFunction(() => window.quantlab && (window.quantlab.firstFrameMs !== null || window.quantlab.errors.length),
                               null, { timeout: 90000 });
    assert.deepEqual(await page.evaluate(() => window.quantlab.build), { dir: 'st/', threads: false, isolated: false });
    await page.evaluate(() => window.quantlab.afterFrames(3));
    assert.deepEqual(errors, [], 'no console errors (no COOP header a plain-http origin would have ignored)');
    await page.close();
  } finally {
    await server.close();
  }
});
