// bad_file.test.mjs: dropped or picked files that are not weights or CIFAR-10 batches give a clear message
// on the page (the app's error banner names the file), and the page keeps working afterwards; a good file
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
  // The app shows the message in its own error banner (status().error is that banner's text).
  await page.waitForFunction(() => /broken\.safetensors/.test(window.quantlab.status().error));
  const st = await page.evaluate(() => window.quantlab.status());
  console.log(`app error: ${st.error}`);
  assert.match(st.error, /broken\.safetensors/, 'the message names the file');
  assert.equal(await page.evaluate(() => window.quantlab.lastFileError), st.error);
  await page.waitForTimeout(300);
  await screenshot(page, 'bad-file');

  // A truncated real weights file (the header promises more bytes than there are).
  const weights = readFileSync(path.join(repoRoot, 'assets/notebook_pretrain.safetensors'));
  await page.setInputFiles('#file', { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: weights.subarray(0, 5000) });
  await page.waitForFunction(() => /truncated\.safetensors/.test(window.quantlab.status().error));

  // A CIFAR-10 batch cut mid-record.
  const sample = readFileSync(config.sample);
  await page.setInputFiles('#file', { name: 'cut.bin', mimeType: 'application/octet-stream', buffer: sample.subarray(0, 3073 * 3 + 100) });
  await page.waitForFunction(() => /cut\.bin/.test(window.quantlab.status().error));

  // In Japanese the message's framing is Japanese too; the detail still names the file.
  await page.evaluate(() => { location.hash = 'lang=ja'; });
  await page.waitForFunction(() => window.quantlab.status().lang === 'ja');
  await page.setInputFiles('#file', { name: 'kowareta.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('garbage') });
  await page.waitForFunction(() => /kowareta\.safetensors/.test(window.quantlab.status().error));
  const ja = await page.evaluate(() => window.quantlab.status());
  console.log(`app error (ja): ${ja.error}`);
  assert.match(ja.error, /^このファイルを開けませんでした: /, 'the framing speaks the chosen language');
  await page.evaluate(() => { location.hash = 'lang=en'; });

  // Still working: the previous weights and data stay, and a change of bits gives the native numbers.
  const keep = await page.evaluate(() => window.quantlab.status());
  assert.equal(keep.total, 1000, 'the data set is unchanged');
  await page.evaluate(() => { location.hash = 'panel=eval&wb=3&ab=3'; });
  const s = await waitEvaluated(page, { total: 1000 });
  assert.equal(s.predictions_fnv1a64, expected[3].hash, 'after the bad files, bits 3 still matches native');

  // A good file is taken: the bundled weights, dropped under another name.
  await dropFiles(page, [{ name: 'again.safetensors', bytes: weights }]);
  await page.waitForFunction(() => /again\.safetensors/.test(window.quantlab.status().weights));
  assert.equal(await page.evaluate(() => window.quantlab.lastFileError), '');
  assert.equal(await page.isVisible('#banner'), false, 'no page-level (fatal) error at any point');
  expectNoErrors(assert, errors, 'bad files');
});
