// bad_file.test.mjs: dropped or picked files that are not weights or CIFAR-10 batches give a clear message
// on the page (the banner and the app's own error), and the page keeps working afterwards; a good file
// dropped next is taken.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { config, dropFiles, expectNoErrors, nativeEval, repoRoot, screenshot, startSession, waitEvaluated } from './harness.mjs';

let session, expected;
before(async () => {
  expected = nativeEval({ bits: [3] });
  session = await startSession();
});
after(async () => { await session?.close(); });

test('a dropped bad file shows an error and the page keeps working', async () => {
  const { page, errors } = await session.open();
  await waitEvaluated(page, { total: 1000 });

  // Not safetensors, not a torch zip, not a whole number of CIFAR-10 records.
  await dropFiles(page, [{ name: 'broken.safetensors', bytes: Buffer.from('this is not a weights file at all') }]);
  await page.waitForSelector('#banner.show');
  const banner = await page.textContent('#banner-text');
  console.log(`banner: ${banner}`);
  assert.match(banner, /broken\.safetensors/, 'the message names the file');
  const st = await page.evaluate(() => window.quantlab.status());
  assert.notEqual(st.error, '', 'the app shows the error too');
  await page.waitForTimeout(200);
  await screenshot(page, 'bad-file');

  // A truncated real weights file (the header promises more bytes than there are).
  const weights = readFileSync(path.join(repoRoot, 'assets/notebook_pretrain.safetensors'));
  await page.setInputFiles('#file', { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: weights.subarray(0, 5000) });
  await page.waitForFunction(() => /truncated\.safetensors/.test(document.getElementById('banner-text').textContent));

  // A CIFAR-10 batch cut mid-record.
  const sample = readFileSync(config.sample);
  await page.setInputFiles('#file', { name: 'cut.bin', mimeType: 'application/octet-stream', buffer: sample.subarray(0, 3073 * 3 + 100) });
  await page.waitForFunction(() => /cut\.bin/.test(document.getElementById('banner-text').textContent));

  // Still working: the previous weights and data stay, and a change of bits gives the native numbers.
  const keep = await page.evaluate(() => window.quantlab.status());
  assert.equal(keep.total, 1000, 'the data set is unchanged');
  await page.evaluate(() => { location.hash = 'panel=eval&wb=3&ab=3'; });
  const s = await waitEvaluated(page, { total: 1000 });
  assert.equal(s.predictions_fnv1a64, expected[3].hash, 'after the bad files, bits 3 still matches native');

  // A good file is taken and clears the banner: the bundled weights, dropped under another name.
  await dropFiles(page, [{ name: 'again.safetensors', bytes: weights }]);
  await page.waitForSelector('#banner', { state: 'hidden' });
  await page.waitForFunction(() => window.quantlab.status().weights === 'again.safetensors' || /again/.test(window.quantlab.status().weights));
  expectNoErrors(assert, errors, 'bad files');
});
