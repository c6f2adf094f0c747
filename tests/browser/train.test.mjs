// train.test.mjs: training on the page (core's engine, ui/core_trainer.hpp) equals `quantlab train --engine core`.
// The page fine-tunes its loaded model (the notebook's weights) at W4A4 on the first images of the training sample
// it fetches when the run starts (cifar10_train_2000.bin = the first 2,000 records of data_batch_1.bin); the native
// binary trains the same run on the same images (--limit-train) with the same seed. Checked: every tensor of the
// page's weights equals the native export's (sha256), the loss falls, the test accuracy rises above PTQ's, the
// weights load as the current model; dropped data_batch_*.bin files become the training images; an LSQ run's tensors and learned steps (the file's scales) equal native core's;
// bad input (a learning rate that blows the loss up, bytes that are not
// CIFAR-10, a batch larger than the data) gives a message and the page keeps working. Screenshots of the training
// panel at 1280x720 in English and Japanese. Small on purpose (the reference engine is slow):
// 320 images, batch 32, 16 steps; the native run goes alongside the page's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { startServer } from '../../web/serve.mjs';
import { config, dropFiles, expectNoErrors, repoRoot, screenshot, startSession } from './harness.mjs';

const kImages = 320;  // 256 training + 64 validation images (the 80/20 split)
const kRun = { epochs: 2, batch: 32, lr: 0.01, qat: true, wb: 4, ab: 4 };  // 16 steps

// Per tensor: sha256 of its raw bytes, from a .safetensors file's bytes (8-byte header length, JSON header, data).
function tensorHashes(bytes) {
  const buf = Buffer.from(bytes);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    out[name] = createHash('sha256').update(buf.subarray(8 + n + b, 8 + n + e)).digest('hex');
  }
  return out;
}

const haveData = existsSync(path.join(config.dataDir, 'data_batch_1.bin'));
let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

async function waitRunEnd(page, id, timeout = 300000) {
  await page.waitForFunction((i) => {
    const r = window.quantlab.trainStatus().runs.find((x) => x.id === i);
    return r && r.state !== 'queued' && r.state !== 'running';
  }, id, { timeout, polling: 200 });
  return page.evaluate((i) => window.quantlab.trainStatus().runs.find((x) => x.id === i), id);
}

test('the page trains the weights quantlab train --engine core trains, and they help', { skip: !haveData && 'no CIFAR-10 training batches' }, async () => {
  // The same run natively, alongside the page's: same start weights, images, seed, split and settings.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlab-train-'));
  const out = path.join(tmp, 'native.safetensors');
  const native = promisify(execFile)(config.nativeBin, ['train', '--engine', 'core',
    '--init', path.join(repoRoot, 'assets/notebook_pretrain.safetensors'), '--data', config.dataDir, '--limit-train', String(kImages),
    '--epochs', String(kRun.epochs), '--batch', String(kRun.batch), '--lr', String(kRun.lr), '--bits', '4', '--seed', '1',
    '--threads', '1', '--limit-test', '100', '--calib', '100', '--checkpoint-dir', '', '--export', out, '-q'],
    // The page's GEMM is wasm SIMD, 4 lanes without fused multiply-add, in the order of the native SSE2 kernel;
    // AVX2 + FMA rounds differently (core's fast kernels give the same bits for any thread count, not any ISA).
    { env: { ...process.env, QUANTLAB_KERNEL_ISA: 'sse2' } });
  try {
    const { page, errors } = await session.open({ hash: 'panel=train' });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.evaluate((n) => window.quantlab.trainTestOptions({ limitTrain: n, seed: 1, valEvery: 4 }), kImages);
    await page.evaluate(() => window.quantlab.frameStats(true));
    const t0 = Date.now();
    const started = await page.evaluate((o) => window.quantlab.trainStart(o), kRun);
    assert.equal(started.error, '');
    const run = await waitRunEnd(page, started.id);
    const pageSeconds = (Date.now() - t0) / 1000;
    assert.equal(run.state, 'finished', run.message);
    const st = await page.evaluate(() => window.quantlab.trainStatus());
    assert.equal(await page.evaluate(() => window.quantlab.trainDataBytes), 2000 * 3073, 'the training sample was fetched');
    assert.equal(st.train_images, 2000);
    const frames = await page.evaluate(() => window.quantlab.frameStats());
    console.log(`page: ${run.steps} steps in ${pageSeconds.toFixed(1)} s, ${run.images_per_s.toFixed(1)} training images/s, loss ` +
                `${run.first_loss.toFixed(3)} -> ${run.loss.toFixed(3)}, test ${run.ptq_test.toFixed(1)} % (PTQ) -> ${run.test.toFixed(1)} %, ` +
                `val ${run.val.toFixed(1)} %; frames while training: max ${frames.max_ms.toFixed(1)} ms, mean ${frames.mean_ms.toFixed(1)} ms`);

    await native;
    const want = tensorHashes(readFileSync(out));
    const bytes = await page.evaluate((id) => Array.from(window.quantlab.trainWeights(id)), started.id);
    const mine = tensorHashes(Uint8Array.from(bytes));
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(want).sort());
    for (const name of Object.keys(want)) assert.equal(mine[name], want[name], `tensor ${name}`);
    console.log(`the page's ${Object.keys(mine).length} tensors equal the native export's (conv1.weight sha256 ${mine['conv1.weight'].slice(0, 16)})`);
    assert.equal(run.steps, 16);
    assert.ok(run.loss < run.first_loss, `the loss falls (${run.first_loss} -> ${run.loss})`);
    assert.ok(run.test > run.ptq_test, `QAT beats PTQ on the test images (${run.ptq_test} -> ${run.test})`);
    await page.waitForTimeout(300);
    await screenshot(page, 'train-panel');
    await page.evaluate(() => window.quantlab.applyState('panel=train&lang=ja'));
    await page.waitForTimeout(300);
    await screenshot(page, 'train-panel-ja');
    await page.evaluate(() => window.quantlab.applyState('panel=train&lang=en'));

    // The trained weights as the current model: the other panels evaluate them (their stored W4A4 setting).
    const used = await page.evaluate((id) => window.quantlab.trainUse(id), started.id);
    assert.equal(used.error, '');
    await page.evaluate(() => window.quantlab.afterFrames(3));
    const s = await page.evaluate(() => window.quantlab.status());
    assert.equal(s.weights, `run${started.id}.safetensors`);
    assert.equal(s.bits, 4);
    expectNoErrors(assert, errors, 'training');
  } finally {
    await native.catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
});

// The quantizer's stored settings (metadata quant_config) of a .safetensors file's bytes.
function storedConfig(bytes) {
  const buf = Buffer.from(bytes);
  const n = Number(buf.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(buf.subarray(8, 8 + n).toString('utf8')).__metadata__.quant_config);
}

test('LSQ on the page learns the steps quantlab train --engine core --quantizer lsq learns', { skip: !haveData && 'no CIFAR-10 training batches' }, async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'quantlab-lsq-'));
  const out = path.join(tmp, 'native.safetensors');
  const native = promisify(execFile)(config.nativeBin, ['train', '--engine', 'core', '--quantizer', 'lsq',
    '--init', path.join(repoRoot, 'assets/notebook_pretrain.safetensors'), '--data', config.dataDir, '--limit-train', '80',
    '--epochs', '1', '--batch', '16', '--lr', '0.01', '--bits', '4', '--seed', '1', '--threads', '1', '--max-steps', '4',
    '--limit-test', '100', '--calib', '100', '--checkpoint-dir', '', '--export', out, '-q'],
    { env: { ...process.env, QUANTLAB_KERNEL_ISA: 'sse2' } });  // as above: the page's kernel order
  try {
    const { page, errors } = await session.open({ hash: 'panel=train' });
    const bad = await page.evaluate(() => window.quantlab.trainStart({ qat: true, wb: 4, ab: 4, quantizer: 'lsqq' }));
    assert.match(bad.error, /fixed, lsq or pact/);
    await page.evaluate(() => window.quantlab.trainTestOptions({ limitTrain: 80, maxSteps: 4, seed: 1 }));
    const { id, error } = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 16, lr: 0.01, qat: true, wb: 4, ab: 4, quantizer: 'lsq' }));
    assert.equal(error, '');
    const run = await waitRunEnd(page, id);
    assert.equal(run.state, 'finished', run.message);
    await native;
    const want = readFileSync(out);
    const bytes = Uint8Array.from(await page.evaluate((i) => Array.from(window.quantlab.trainWeights(i)), id));
    assert.deepEqual(tensorHashes(bytes), tensorHashes(want));
    // The learned steps, stored as the file's scales: the same numbers; unsigned codes after a ReLU.
    const [mine, theirs] = [storedConfig(bytes), storedConfig(want)];
    assert.deepEqual(mine.weight_scales, theirs.weight_scales);
    assert.deepEqual(mine.act_scales, theirs.act_scales);
    assert.equal(mine.act_scales.length, 5);
    assert.equal(mine.layers[1].act.symmetric, false);
    console.log(`lsq: the page's tensors and learned steps equal native core's (act steps ${mine.act_scales.map((x) => x.toFixed(4)).join(', ')})`);
    await page.waitForTimeout(300);
    await screenshot(page, 'train-panel-lsq');
    expectNoErrors(assert, errors, 'lsq');
  } finally {
    await native.catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad input: a diverging learning rate, bytes that are not CIFAR-10, a batch larger than the data', async () => {
  const { page, errors } = await session.open({ hash: 'panel=train' });
  const junk = await page.evaluate(() => window.quantlab.setTrainData('junk.bin', new Uint8Array(1000)));
  assert.equal(junk.ok, false);
  assert.match(junk.error, /junk\.bin/);
  // Small runs on the first 64 images (the sample the page fetches, or the bytes handed here).
  await page.evaluate(() => window.quantlab.trainTestOptions({ limitTrain: 64, maxSteps: 4, seed: 1 }));
  const nan = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 16, lr: 1e12, qat: true, wb: 4, ab: 4 }));
  assert.equal(nan.error, '');
  const r = await waitRunEnd(page, nan.id);
  assert.equal(r.state, 'failed');
  assert.match(r.message, /the loss became/);
  assert.match(r.message, /last good weights/);
  assert.ok(await page.evaluate((id) => window.quantlab.trainWeights(id) !== null, nan.id), 'the last good weights can be had');
  const big = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 512, lr: 0.01 }));
  const rb = await waitRunEnd(page, big.id);
  assert.equal(rb.state, 'failed');
  assert.match(rb.message, /batch 512 is larger than the 51 training images/);
  const s = await page.evaluate(() => window.quantlab.status());
  assert.equal(s.weights, 'notebook_pretrain.safetensors', 'the page keeps its model');
  await page.evaluate(() => window.quantlab.afterFrames(3));
  expectNoErrors(assert, errors, 'bad input');
});

test('dropped data_batch_*.bin files become the training images; a bad one gives a message and keeps them', async () => {
  const { page, errors } = await session.open({ hash: 'panel=train' });
  const sample = readFileSync(path.join(repoRoot, 'assets/cifar10_test_1000.bin'));  // any CIFAR-10 records do
  // Dropped out of order, with a weights file beside them (which still opens as a model).
  await dropFiles(page, [{ name: 'data_batch_2.bin', bytes: sample.subarray(3073 * 40, 3073 * 70) },
                         { name: 'data_batch_1.bin', bytes: sample.subarray(0, 3073 * 40) },
                         { name: 'qat_w4a4.safetensors', bytes: readFileSync(path.join(repoRoot, 'assets/qat_w4a4.safetensors')) }]);
  await page.waitForFunction(() => window.quantlab.trainStatus().train_images === 70, null, { timeout: 60000, polling: 100 });
  let t = await page.evaluate(() => window.quantlab.trainStatus());
  assert.equal(t.data, 'data_batch_1.bin + data_batch_2.bin');
  await page.waitForFunction(() => window.quantlab.status().weights === 'qat_w4a4.safetensors', null, { timeout: 60000 });
  // A run trains on them (56 of the 70 after the 80/20 split), without fetching the bundled sample.
  await page.evaluate(() => window.quantlab.trainTestOptions({ maxSteps: 2, seed: 1 }));
  const { id, error } = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 8, lr: 0.01 }));
  assert.equal(error, '');
  const r = await waitRunEnd(page, id);
  assert.equal(r.state, 'finished', r.message);
  assert.equal(await page.evaluate(() => window.quantlab.trainDataBytes), 0, 'the sample was not fetched');
  // Not CIFAR-10 records: a message naming the file; the images stay.
  await dropFiles(page, [{ name: 'data_batch_3.bin', bytes: Buffer.alloc(100) }]);
  await page.waitForFunction(() => window.quantlab.errors.some((e) => e.includes('data_batch_3.bin')), null, { timeout: 60000 });
  t = await page.evaluate(() => window.quantlab.trainStatus());
  assert.equal(t.train_images, 70);
  await page.waitForTimeout(300);
  await screenshot(page, 'train-panel-dropped');
  expectNoErrors(assert, errors, 'dropped training batches');
});

// The single-threaded page (no pthreads: its runs train in a Web Worker of their own, web/train_worker.cpp, which
// it starts with the first run) trains the same weights as the threaded one. Skipped where that page is not built.
const stPage = process.env.QUANTLAB_WEB_PAGE_ST || path.join(repoRoot, 'build/web-st/page');
test('the single-threaded page trains the same weights in its Web Worker', { skip: !existsSync(path.join(stPage, 'quantlab.wasm')) && 'no single-threaded page' }, async () => {
  const small = { epochs: 1, batch: 16, lr: 0.01, qat: true, wb: 4, ab: 4 };
  async function trainOn(sess) {
    const { page, errors } = await sess.open({ hash: 'panel=train' });
    const workers = () => page.workers().filter((w) => w.url().endsWith('/train_worker.js')).length;
    assert.equal(workers(), 0, 'no training worker before the first run');
    await page.evaluate(() => window.quantlab.trainTestOptions({ limitTrain: 80, maxSteps: 3, seed: 1 }));
    await page.evaluate(() => window.quantlab.frameStats(true));
    const { id, error } = await page.evaluate((o) => window.quantlab.trainStart(o), small);
    assert.equal(error, '');
    const r = await waitRunEnd(page, id);
    assert.equal(r.state, 'finished', r.message);
    const build = await page.evaluate(() => window.quantlab.build);
    const frames = await page.evaluate(() => window.quantlab.frameStats());
    const device = await page.evaluate(() => window.quantlab.trainStatus().device);
    assert.match(device, build.threads ? /worker thread/ : /Web Worker/);
    assert.equal(workers(), build.threads ? 0 : 1, 'the single-threaded page trains in its own Web Worker');
    // Use and Download work from the weights the worker sent (no round trip).
    const used = await page.evaluate((i) => window.quantlab.trainUse(i), id);
    assert.equal(used.error, '');
    console.log(`${build.threads ? 'threads' : 'single-threaded'} page: ${r.steps} steps, ${r.images_per_s.toFixed(1)} images/s, ` +
                `frames max ${frames.max_ms.toFixed(1)} ms, mean ${frames.mean_ms.toFixed(1)} ms`);
    const bytes = await page.evaluate((i) => Array.from(window.quantlab.trainWeights(i)), id);
    expectNoErrors(assert, errors, build.threads ? 'threads page' : 'single-threaded page');
    await page.close();
    return { build, hashes: tensorHashes(Uint8Array.from(bytes)) };
  }
  const st = await startSession({ server: await startServer({ root: stPage }) });
  try {
    const a = await trainOn(st);
    const b = await trainOn(session);
    assert.equal(a.build.threads, false);
    assert.equal(b.build.threads, true);
    assert.deepEqual(a.hashes, b.hashes);
  } finally {
    await st.close();
  }
});

// The single-threaded page without its training worker's files (a partial upload): the run fails with a message
// naming the file and the page keeps working (a missing train_worker.js ends in the Worker's error event, a missing
// train_worker.wasm in the worker's abort).
test('the single-threaded page says so when its training worker cannot start', { skip: !existsSync(path.join(stPage, 'quantlab.wasm')) && 'no single-threaded page' }, async () => {
  for (const missing of ['train_worker.js', 'train_worker.wasm']) {
    const st = await startSession({ server: await startServer({ root: stPage, extra: { [`/${missing}`]: path.join(stPage, 'no-such-file') } }) });
    try {
      const { page } = await st.open({ hash: 'panel=train' });
      const { id, error } = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 16, lr: 0.01 }));
      assert.equal(error, '');
      const r = await waitRunEnd(page, id, 120000);
      assert.equal(r.state, 'failed', missing);
      assert.match(r.message, /training worker/, missing);
      assert.match(r.message, missing.endsWith('.wasm') ? /train_worker\.js and its \.wasm/ : /train_worker\.js stopped/);
      console.log(`without ${missing}: ${r.message}`);
      const again = await page.evaluate(() => window.quantlab.trainStart({ epochs: 1, batch: 16, lr: 0.01 }));
      assert.equal((await waitRunEnd(page, again.id, 60000)).state, 'failed', 'later runs fail at once, with the reason');
      await page.evaluate(() => window.quantlab.applyState('panel=eval&wb=4&ab=4'));
      await page.evaluate(() => window.quantlab.afterFrames(3));
      assert.equal((await page.evaluate(() => window.quantlab.status())).bits, 4, 'the page keeps working');
    } finally {
      await st.close();
    }
  }
});
