// models.test.mjs: models on the page. The model picker lists every bundled model (status().models, from their
// own metadata); choosing one (window.quantlab.chooseModel, the picker's action) changes the status' model and
// the page's predictions equal `quantlab eval` of that file on the same 1,000 images (a QAT file: its stored
// settings, the "file (static)" row). An unknown name (chooseModel or the URL's w= key) gives a clear message
// in the current language and keeps the model; the page keeps working. The overlay: models_overlay.test.mjs.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { expectNoErrors, nativeEval, repoRoot, screenshot, startSession, waitEvaluated } from './harness.mjs';

const kModels = ['float_best', 'notebook_pretrain', 'qat_mixed_84kb', 'qat_w2a2', 'qat_w2a2_fl8', 'qat_w2a2_lsq', 'qat_w3a3',
                 'qat_w3a3_lsq', 'qat_w4a4'];
const asset = (name) => path.join(repoRoot, 'assets', `${name}.safetensors`);

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

async function choose(page, name) {
  const r = await page.evaluate((n) => window.quantlab.chooseModel(n), name);
  assert.ok(r.ok, `chooseModel(${name}): ${r.error}`);
  await page.waitForFunction((f) => window.quantlab.status().weights === f, `${name}.safetensors`);
}

test('the picker lists every bundled model with what it is', async () => {
  const { page, errors } = await session.open();
  const s = await page.evaluate(() => window.quantlab.status());
  assert.deepEqual(s.models.map((m) => m.name), kModels);
  for (const m of s.models) assert.ok(m.usable, `${m.name} usable`);
  // Bits that differ by layer (qat_mixed_84kb, qat_w2a2_fl8: conv1 and fc3 at 8) are 0.
  assert.deepEqual(s.models.filter((m) => m.qat).map((m) => [m.name, m.weight_bits, m.act_bits]),
                   [['qat_mixed_84kb', 0, 0], ['qat_w2a2', 2, 2], ['qat_w2a2_fl8', 0, 0], ['qat_w2a2_lsq', 2, 2], ['qat_w3a3', 3, 3],
                    ['qat_w3a3_lsq', 3, 3], ['qat_w4a4', 4, 4]]);
  const w4 = s.models.find((m) => m.name === 'qat_w4a4');
  assert.equal(w4.test_accuracy, 75.86);
  assert.match(w4.description, /^QAT W4A4, mse asymmetric, per-channel weights · test accuracy 75\.86 %/);
  expectNoErrors(assert, errors, 'picker list');
});

test('choosing a model: its predictions are quantlab eval of that file', async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval' });
  for (const [name, bits] of [['qat_w4a4', 4], ['qat_w2a2', 2], ['qat_w2a2_lsq', 2], ['qat_mixed_84kb', 0], ['float_best', 32]]) {
    await choose(page, name);
    const s = await waitEvaluated(page, { total: 1000 });
    // A QAT file starts from its own settings; `quantlab eval -w FILE` evaluates them first ("file (static)").
    const want = nativeEval({ bits: [32], extraArgs: ['-w', asset(name)] })[bits];
    console.log(`${name}: page ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64} (${s.bits}), native ${want.accuracy.toFixed(2)} % ${want.hash}`);
    assert.equal(s.predictions_fnv1a64, want.hash, `${name}: predictions differ from quantlab eval`);
    assert.equal(s.error, '');
    assert.match(s.state, new RegExp(`w=${name}\\.safetensors`), 'the URL state names the model');
  }
  expectNoErrors(assert, errors, 'choose');
});

test('an unknown model name gives a clear message and the page keeps its model', async () => {
  const { page, errors } = await session.open({ hash: 'panel=network' });
  await choose(page, 'qat_w3a3');
  const r = await page.evaluate(() => window.quantlab.chooseModel('qat_w9a9'));
  assert.equal(r.ok, false);
  assert.match(r.error, /^Unknown model 'qat_w9a9'\. Bundled models: float_best, notebook_pretrain, qat_mixed_84kb, qat_w2a2, qat_w2a2_fl8, qat_w2a2_lsq, qat_w3a3, qat_w3a3_lsq, qat_w4a4$/);
  let s = await page.evaluate(() => window.quantlab.status());
  assert.equal(s.weights, 'qat_w3a3.safetensors', 'the current model stays');
  assert.equal(s.error, r.error, 'the banner shows the message');
  await page.waitForTimeout(300);
  await screenshot(page, 'models-unknown');

  // The URL's weights key, in Japanese.
  const state = await page.evaluate(() => window.quantlab.state());
  const u = await page.evaluate((st) => window.quantlab.applyState(`${st}&lang=ja&w=nosuchmodel`), state);
  assert.equal(u.ok, false);
  assert.match(u.error, /不明なモデル 'nosuchmodel'/);
  s = await page.evaluate(() => window.quantlab.status());
  assert.equal(s.weights, 'qat_w3a3.safetensors');
  await page.waitForTimeout(300);
  await screenshot(page, 'models-unknown-ja');

  // A link that names an unknown model opens on the default one, with the message.
  const b = await session.open({ hash: 'w=nosuchmodel' });
  const sb = await b.page.evaluate(() => window.quantlab.status());
  assert.equal(sb.weights, 'notebook_pretrain.safetensors');
  assert.match(sb.error, /Unknown model 'nosuchmodel'/);

  // Still working: another model is taken and evaluated.
  await choose(page, 'qat_w2a2');
  const done = await waitEvaluated(page, { total: 1000 });
  assert.equal(done.error, '');
  expectNoErrors(assert, [...errors, ...b.errors], 'unknown model');
});
