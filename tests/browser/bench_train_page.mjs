// bench_train_page.mjs: training speed on the page beside native core, reported (not asserted; not a CTest
// test). Each round, taking turns: the page (threads build, headless Chromium) fine-tunes the notebook's weights
// at W4A4 on its training sample (core's engine on its worker thread, with the threads the page gives it), then
// `quantlab train --engine core` does the same steps natively with as many threads. Both report images/s over
// the training steps only (no start-up, no evaluation). Prints per-round figures and medians.
// --epoch: instead, the classroom case: float_best on the page, one W4A4 QAT epoch over 10,000 training
// images (data_batch_1.bin and _2 served beside the page and handed over as dropped files would be; 12,500
// images, the 80/20 split), test accuracy on all 10,000 test images; the wall time from Start to the run's end.
// Usage: node tests/browser/bench_train_page.mjs [--batch 128] [--steps 24] [--rounds 3] [--bits 4] [--json out.json]
//        node tests/browser/bench_train_page.mjs --epoch [--batch 64] [--lr 0.01] [--rule mse] [--sym]
// Paths as in harness.mjs (QUANTLAB_WEB_PAGE, QUANTLAB_NATIVE_BIN, QUANTLAB_DATA_DIR); QUANTLAB_WEB_PAGE set to a
// single-threaded page (build/web-st/page) measures that one (its runs train in a Web Worker, one thread).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { config, repoRoot, startSession, waitEvaluated } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const batch = Number(opt('--batch', 128)), steps = Number(opt('--steps', 24)), rounds = Number(opt('--rounds', 3));
const bits = Number(opt('--bits', 4));
const jsonOut = opt('--json', null);
const kImages = 2000;  // the page's bundled sample: the first 2,000 records of data_batch_1.bin
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const waitEnd = (page, id) => page.waitForFunction((i) => {
  const x = window.quantlab.trainStatus().runs.find((y) => y.id === i);
  return x && x.state !== 'queued' && x.state !== 'running';
}, id, { timeout: 600000, polling: 250 });

if (args.includes('--epoch')) {
  const served = {};
  for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']) served['/' + f] = path.join(config.dataDir, f);
  const sess = await startSession({ extra: served });
  try {
    // The float model's accuracy on the full test set first (the page fetches test_batch.bin when served).
    const { page } = await sess.open({ hash: 'panel=train&w=float_best.safetensors&wb=32&ab=32' });
    const floatAcc = (await waitEvaluated(page, { total: 10000, timeout: 240000 })).accuracy.toFixed(2);
    const set = await page.evaluate(async () => {
      const parts = [];
      for (const f of ['data_batch_1.bin', 'data_batch_2.bin']) parts.push(new Uint8Array(await (await fetch(f)).arrayBuffer()));
      return window.quantlab.setTrainData('data_batch_1.bin', parts);
    });
    if (!set.ok) throw new Error(set.error);
    await page.evaluate(() => window.quantlab.trainTestOptions({ limitTrain: 12500, seed: 1, valEvery: 50 }));
    await page.evaluate(() => window.quantlab.frameStats(true));
    // The quantizer: --rule (default mse) asymmetric per-channel, the lessons' best 4-bit setting; --maxabs: the notebook's.
    const o = { epochs: 1, batch: Number(opt('--batch', 64)), lr: Number(opt('--lr', 0.01)), qat: true, wb: 4, ab: 4,
                rule: opt('--rule', 'mse'), asym: !args.includes('--sym'), pc: !args.includes('--sym') };
    const state = `${o.rule}${o.asym ? ' asymmetric per-channel' : ' symmetric'}`;
    const t0 = Date.now();
    const { id, error } = await page.evaluate((x) => window.quantlab.trainStart(x), o);
    if (error) throw new Error(error);
    await waitEnd(page, id);
    const seconds = (Date.now() - t0) / 1000;
    const r = await page.evaluate((i) => window.quantlab.trainStatus().runs.find((y) => y.id === i), id);
    const frames = await page.evaluate(() => window.quantlab.frameStats());
    console.log(`one W4A4 QAT epoch (${state}, batch ${o.batch}, lr ${o.lr}) on the page from float_best (float ${floatAcc} % on 10,000 test images): ${r.state} in ${seconds.toFixed(1)} s ` +
                `(${r.steps} steps of ${o.batch}, ${r.images_per_s.toFixed(0)} images/s over the steps); test ${r.ptq_test.toFixed(2)} % (PTQ) -> ` +
                `${r.test.toFixed(2)} %, validation ${r.val.toFixed(2)} %; frames max ${frames.max_ms.toFixed(1)} ms, mean ${frames.mean_ms.toFixed(1)} ms; ` +
                `load average ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    await sess.close();
  }
  process.exit(0);
}

const session = await startSession();
const report = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg() }, batch, steps, bits, rounds: [] };
try {
  for (let r = 0; r < rounds; ++r) {
    const { page } = await session.open({ hash: 'panel=train' });
    // The page's own evaluations (the first estimate, then the other bit widths in the background) are not part
    // of the frames measured.
    await waitEvaluated(page);
    await page.waitForFunction(() => !window.quantlab.status().busy, null, { timeout: 120000, polling: 250 });
    const threads = await page.evaluate(() => window.quantlab.build.threads ? navigator.hardwareConcurrency : 1);
    await page.evaluate(([n, s]) => window.quantlab.trainTestOptions({ limitTrain: n, maxSteps: s, seed: 1, valEvery: 1000 }), [kImages, steps]);
    await page.evaluate(() => window.quantlab.frameStats(true));
    const run = { epochs: 50, batch, lr: 0.01, qat: bits < 32, wb: bits, ab: bits };
    const { id, error } = await page.evaluate((o) => window.quantlab.trainStart(o), run);
    if (error) throw new Error(error);
    await waitEnd(page, id);
    const res = await page.evaluate((i) => window.quantlab.trainStatus().runs.find((y) => y.id === i), id);
    const frames = await page.evaluate(() => window.quantlab.frameStats());
    const device = await page.evaluate(() => window.quantlab.trainStatus().device || '');
    await page.close();
    if (res.state !== 'finished') throw new Error(`page run ${res.state}: ${res.message}`);
    // The page's pool: hardware threads - 1 (web/main.cpp), at least 1.
    const poolThreads = Math.max(1, Math.min(4, threads - 1));
    const out = execFileSync(config.nativeBin, ['train', '--engine', 'core', '--init', path.join(repoRoot, 'assets/notebook_pretrain.safetensors'),
      '--data', config.dataDir, '--limit-train', String(kImages), '--max-steps', String(steps), '--epochs', '50', '--batch', String(batch),
      '--lr', '0.01', '--bits', String(bits), '--seed', '1', '--threads', String(poolThreads), '--limit-test', '100', '--calib', '100',
      '--checkpoint-dir', ''], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /([0-9.]+) images\/s \(training steps only/.exec(out);
    const native = m ? Number(m[1]) : NaN;
    const row = { page: res.images_per_s, native, threads: poolThreads, frames_max_ms: frames.max_ms, frames_mean_ms: frames.mean_ms, device };
    report.rounds.push(row);
    console.log(`round ${r + 1}: page ${row.page.toFixed(0)} images/s, native core ${native.toFixed(0)} images/s (${poolThreads} thread(s) each), ` +
                `page/native ${(row.page / native).toFixed(2)}; frames while training max ${frames.max_ms.toFixed(1)} ms, mean ${frames.mean_ms.toFixed(1)} ms`);
  }
} finally {
  await session.close();
}
const pm = median(report.rounds.map((x) => x.page)), nm = median(report.rounds.map((x) => x.native));
const ratio = median(report.rounds.map((x) => x.page / x.native));
report.median = { page: pm, native: nm, page_over_native: ratio };
console.log(`median over ${rounds} rounds: page ${pm.toFixed(0)} images/s, native core ${nm.toFixed(0)} images/s, page/native ${ratio.toFixed(2)} ` +
            `(W${bits}A${bits}, batch ${batch}, ${steps} steps; load average ${os.loadavg()[0].toFixed(1)})`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2));
