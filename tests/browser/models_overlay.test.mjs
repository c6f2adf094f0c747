// models_overlay.test.mjs: the accuracy-vs-bits overlay (the README's PTQ vs QAT table, live). Its points, which
// the page computes in the background, equal `quantlab eval` on the same 1,000 images: post-training
// quantization of float_best with the overlay's quantizer (asymmetric MSE ranges, per-channel weights, ranges
// per batch) at every sweep bit width, and each QAT file with its stored settings ("file (static)" row).
// Screenshots of the plot in English and Japanese.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { expectNoErrors, nativeEval, repoRoot, screenshot, startSession } from './harness.mjs';

const asset = (name) => path.join(repoRoot, 'assets', `${name}.safetensors`);

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

test('the overlay points equal quantlab eval of float_best (PTQ) and of each QAT file', async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=4&ab=4' });
  // 7 PTQ points and one per QAT model with the same bits on every layer (mixed ones have no place on the axis).
  const want = await page.evaluate(() => 7 + window.quantlab.status().models.filter((m) => m.qat && m.weight_bits === m.act_bits && m.weight_bits > 0).length);
  await page.waitForFunction((n) => {
    const o = window.quantlab.status().overlay;
    return o.length === n && o.every((p) => p.done);
  }, want, { timeout: 300000, polling: 250 });
  const s = await page.evaluate(() => window.quantlab.status());
  assert.ok(s.overlay.some((p) => p.model === 'qat_w2a2_lsq.safetensors'), 'the LSQ model is a point');
  assert.ok(!s.overlay.some((p) => p.model === 'qat_w2a2_fl8.safetensors'), 'a mixed model is not');
  const ptq = nativeEval({ bits: [2, 3, 4, 5, 6, 8, 16],
                           extraArgs: ['-w', asset('float_best'), '--no-file-config', '--asymmetric', '--rule', 'mse', '--per-channel'] });
  for (const p of s.overlay) {
    assert.equal(p.error, '');
    assert.equal(p.evaluated, 1000);
    const want = p.kind === 'ptq' ? ptq[p.weight_bits]
                                  : nativeEval({ bits: [32], extraArgs: ['-w', asset(p.model.replace('.safetensors', ''))] })[p.weight_bits];
    console.log(`${p.kind} ${p.model} ${p.weight_bits}: page ${p.accuracy.toFixed(2)} % ${p.predictions_fnv1a64}, native ${want.accuracy.toFixed(2)} % ${want.hash}`);
    assert.equal(p.predictions_fnv1a64, want.hash, `${p.kind} ${p.model} at ${p.weight_bits} bits`);
  }
  await page.waitForTimeout(300);
  await screenshot(page, 'models-overlay');
  await page.evaluate(() => window.quantlab.applyState('panel=eval&wb=4&ab=4&lang=ja'));
  await page.waitForTimeout(300);
  await screenshot(page, 'models-overlay-ja');
  expectNoErrors(assert, errors, 'overlay');
});
