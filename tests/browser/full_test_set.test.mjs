// full_test_set.test.mjs: when test_batch.bin is served beside the page, the page fetches it after the
// first frame and evaluates all 10,000 images; the predictions equal `quantlab eval` on that file.
// Skipped when no CIFAR-10 folder is available (QUANTLAB_DATA_DIR).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { config, expectNoErrors, nativeEval, repoRoot, screenshot, startSession, waitEvaluated } from './harness.mjs';

const testSet = path.join(config.dataDir, 'test_batch.bin');
const have = existsSync(testSet);
let session, expected;
before(async () => {
  if (!have) return;
  expected = nativeEval({ bits: [8], dataDir: config.dataDir });
  session = await startSession({ extra: { '/test_batch.bin': testSet } });
});
after(async () => { await session?.close(); });

test('the served full test set is loaded and matches native', { skip: have ? false : `no ${testSet}` }, async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=8&ab=8' });
  const s = await waitEvaluated(page, { total: 10000, timeout: 240000 });
  console.log(`full test set, 8 bits: page ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64}, native ` +
              `${expected[8].accuracy.toFixed(2)} % ${expected[8].hash}`);
  assert.equal(s.predictions_fnv1a64, expected[8].hash);
  await screenshot(page, 'full-test-set');
  expectNoErrors(assert, errors, 'full test set');
});

// A shipped QAT model at its own settings (bits, asymmetric MSE ranges, per-channel weights, static mode) is
// evaluated with the activation ranges calibrated into the file, as `quantlab eval`'s "file (static)" row:
// the same predictions, and the accuracy its metadata and the README state.
test('a QAT model at its own settings uses the file\'s ranges and matches native', { skip: have ? false : `no ${testSet}` }, async () => {
  const weights = path.join(repoRoot, 'assets', 'qat_w4a4.safetensors');
  const native = nativeEval({ bits: [32], dataDir: config.dataDir, extraArgs: ['--weights', weights] })[4];
  const { page, errors } = await session.open({ hash: 'panel=eval&w=qat_w4a4.safetensors&wb=4&ab=4&rule=mse&sym=0&pc=1&mode=static' });
  const s = await waitEvaluated(page, { total: 10000, timeout: 240000 });
  console.log(`qat_w4a4 at its settings, full test set: page ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64}, native file row ` +
              `${native.accuracy.toFixed(2)} % ${native.hash}`);
  assert.equal(s.predictions_fnv1a64, native.hash);
  await screenshot(page, 'qat-model-file-ranges');
  expectNoErrors(assert, errors, 'qat model');
});
