// bench_page.mjs: the page's speed, reported (not asserted; not a CTest test). In one run on this machine:
//   - images/s of the page's integer and fake-quant (fast float) inference in headless Chromium, through the
//     exported ql_benchmark (core's evaluate over the loaded test set: the full 10,000 images when a CIFAR-10
//     folder is available, else the bundled 1,000), beside the native core doing the same work
//     (`quantlab eval --threads 1`, which times each evaluation alone). Both run `repeats` passes and report
//     the best pass (the one least disturbed by other load) and the mean;
//   - page weight (wasm + js + data + html + glue, raw and gzip) and time to the first frame on localhost;
//   - the UI while it re-evaluates: time to the first estimate after a bit-width change and frame times.
// Usage: node tests/browser/bench_page.mjs [--bits 8] [--repeats 5] [--json out.json]
// Paths as in harness.mjs (QUANTLAB_WEB_PAGE, QUANTLAB_NATIVE_BIN, QUANTLAB_DATA_DIR).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { config, startSession, waitEvaluated } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const bits = Number(opt('--bits', 8));
const repeats = Number(opt('--repeats', 5));
const jsonOut = opt('--json', null);

const fullSet = path.join(config.dataDir, 'test_batch.bin');
const useFull = existsSync(fullSet);
const report = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg() }, bits };
const line = (name, value) => console.log(`${name.padEnd(52)} ${value}`);

// ---- native: quantlab eval, one thread, evaluation time only -----------------------------------------
function nativeImagesPerSecond(backend) {
  let dataDir = config.dataDir, tmp = null;
  if (!useFull) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlab-bench-'));
    symlinkSync(config.sample, path.join(tmp, 'test_batch.bin'));
    dataDir = tmp;
  }
  try {
    // `repeats` passes in one process; the CLI times each evaluation alone (no start-up, no loading).
    const out = execFileSync(config.nativeBin, ['eval', '--json', '--threads', '1', '--backend', backend, '--data', dataDir,
                                                '--bits', Array(repeats).fill(bits).join(',')],
                             { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    const rows = JSON.parse(out).results;
    const images = rows[0].total, times = rows.map((r) => r.seconds);
    const best = Math.min(...times), mean = times.reduce((a, b) => a + b, 0) / times.length;
    return { images_per_s: images / best, mean_images_per_s: images / mean, images, best_seconds: best,
             hash: rows[0].predictions_fnv1a64, accuracy: rows[0].accuracy };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- page weight ----------------------------------------------------------------------------------------
const weight = {};
let rawTotal = 0, gzTotal = 0;
for (const f of ['index.html', 'glue.js', 'quantlab.js', 'quantlab.wasm', 'quantlab.data']) {
  const p = path.join(config.pageDir, f);
  const raw = statSync(p).size, gz = gzipSync(readFileSync(p), { level: 9 }).length;
  weight[f] = { bytes: raw, gzip: gz };
  rawTotal += raw; gzTotal += gz;
}
weight.total = { bytes: rawTotal, gzip: gzTotal };
report.page_weight = weight;
console.log('page weight (bytes, gzip -9 in brackets)');
for (const [f, w] of Object.entries(weight)) line(`  ${f}`, `${w.bytes.toLocaleString('en')}  (${w.gzip.toLocaleString('en')})`);

// ---- the page ---------------------------------------------------------------------------------------------
const session = await startSession({ extra: useFull ? { '/test_batch.bin': fullSet } : {} });
try {
  // Time to first frame: three fresh loads (no caching: the server says no-cache and has no validators).
  const firstFrames = [];
  for (let i = 0; i < 3; ++i) {
    const { page } = await session.open({ hash: `panel=eval&wb=${bits}&ab=${bits}` });
    firstFrames.push(await page.evaluate(() => window.quantlab.firstFrameSinceNavigationMs));
    if (i < 2) await page.close();
    else report.page = page;
  }
  firstFrames.sort((a, b) => a - b);
  report.first_frame_ms = { median: firstFrames[1], all: firstFrames };
  line('time to first frame (navigation start -> first drawn frame)', `${firstFrames[1].toFixed(0)} ms (runs: ${firstFrames.map((x) => x.toFixed(0)).join(', ')})`);

  const page = report.page;
  delete report.page;
  await page.bringToFront();  // Chromium lowers the priority of background tabs' renderers
  const total = useFull ? 10000 : 1000;
  await waitEvaluated(page, { total, timeout: 300000 });

  // The UI while it re-evaluates after a change of bits: once background work (the accuracy-vs-bits sweep)
  // is over, to a setting no sweep has evaluated (W7A6), so nothing comes from a cache.
  await page.waitForFunction(() => !window.quantlab.status().busy, null, { timeout: 300000, polling: 250 }).catch(() => {});
  const ui = await page.evaluate(async () => {
    const q = window.quantlab;
    const wb = 7, ab = 6;
    const before = q.frameStats(true);
    const t0 = performance.now();
    q.applyState(`panel=eval&wb=${wb}&ab=${ab}`);
    await q.afterFrames(1);  // status() shows the previous result until the app's next frame
    let firstEstimateMs = null, firstComputeMs = null, firstImages = null;
    await new Promise((resolve) => {
      const poll = () => {
        const s = q.status();
        const mine = s.weight_bits.every((x) => x === wb) && s.act_bits.every((x) => x === ab);
        if (firstEstimateMs === null && mine && s.evaluated > 0) {
          firstEstimateMs = performance.now() - t0;
          firstComputeMs = s.compute_seconds * 1000;  // the evaluation's own time so far; the rest is frames
          firstImages = s.evaluated;
        }
        if (mine && s.done && s.evaluated === s.total) resolve();
        else requestAnimationFrame(poll);
      };
      poll();
    });
    const allMs = performance.now() - t0;
    const after = q.frameStats(false);
    return { first_estimate_ms: firstEstimateMs, first_estimate_compute_ms: firstComputeMs, first_estimate_images: firstImages,
             full_evaluation_ms: allMs, frames: after, main_loop_runs: after.frames - before.frames,
             frames_drawn: after.drawn - before.drawn };
  });
  report.ui_reevaluation = ui;
  line(`UI: first estimate after a change to W7A6 (${total} images)`,
       `${ui.first_estimate_ms?.toFixed(0)} ms on screen; its ${ui.first_estimate_images} images took ${ui.first_estimate_compute_ms?.toFixed(0)} ms to evaluate`);
  line('UI: whole re-evaluation', `${ui.full_evaluation_ms.toFixed(0)} ms`);
  line('UI: frame time during it (main-loop body: max / mean)', `${ui.frames.max_ms.toFixed(1)} / ${ui.frames.mean_ms.toFixed(1)} ms over ${ui.main_loop_runs} runs, ${ui.frames_drawn} of them drawn`);

  // Inference speed: page (wasm, 1 thread) vs native (1 thread), same images, same bits, same code. After the
  // page's own background evaluation has finished, so the two do not share the cores.
  await page.waitForFunction(() => !window.quantlab.status().busy, null, { timeout: 300000, polling: 250 }).catch(() => {});
  console.log(`inference over ${total} images at ${bits} bits (weights and activations), batch 128, 1 thread`);
  const results = {};
  for (const [name, backendId, backend] of [['integer', 2, 'integer'], ['fake-quant (fast float)', 1, 'fast']]) {
    const web = await page.evaluate(([id, b, r]) => window.quantlab.benchmark(id, b, r), [backendId, bits, repeats]);
    if (web.error) throw new Error(`page benchmark: ${web.error}`);
    const nat = nativeImagesPerSecond(backend);
    results[backend] = { page: web, native: nat, ratio: web.images_per_s / nat.images_per_s };
    line(`  ${name}: page (wasm SIMD, Chromium)`, `${web.images_per_s.toFixed(0)} img/s best, ${web.mean_images_per_s.toFixed(0)} mean  (${web.images} images, hash ${web.predictions_fnv1a64})`);
    line(`  ${name}: native core`, `${nat.images_per_s.toFixed(0)} img/s best, ${nat.mean_images_per_s.toFixed(0)} mean  (hash ${nat.hash})`);
    line(`  ${name}: page / native`, `${results[backend].ratio.toFixed(2)}x${web.predictions_fnv1a64 === nat.hash ? '' : '  (PREDICTIONS DIFFER)'}`);
  }
  report.inference = results;
} finally {
  await session.close();
}
report.machine.loadavg_after = os.loadavg();
line('load average before / after', `${report.machine.loadavg.map((x) => x.toFixed(2)).join(' ')} / ${report.machine.loadavg_after.map((x) => x.toFixed(2)).join(' ')}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
