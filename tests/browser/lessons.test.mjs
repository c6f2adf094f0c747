// lessons.test.mjs: the lesson mode on the page. A `lesson=N` link opens step N (status() says which, with
// its title in the page's language) in English and in Japanese; Page Down / Page Up walk the steps and come
// back to the same views; a bad `lesson=` value gives a clear message on the page, which keeps working.
// One page for all of it: the steps are opened by changing the URL's hash, as a clicked link does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expectNoErrors, screenshot, startSession } from './harness.mjs';

// What each step shows, written out here independently of ui/lessons.cpp: the notebook's order.
const kPanels = ['quantizer', 'quantizer', 'quantizer', 'network', 'eval', 'quantizer', 'eval', 'train'];

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

async function statusAfterFrames(page) {
  await page.evaluate(() => window.quantlab.afterFrames(2));
  return page.evaluate(() => window.quantlab.status());
}

// Sets the URL's hash (a hashchange, as a clicked link) and waits until the page shows `lesson`.
async function openByHash(page, hash, lesson) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((n) => window.quantlab.status().lesson === n, lesson, { timeout: 30000, polling: 20 });
  return statusAfterFrames(page);
}

test('every lesson=N link opens its step, in English and Japanese; next / previous round-trip', async () => {
  // A fresh page opened on a lesson link.
  const { page, errors } = await session.open({ hash: 'lesson=5' });
  const first = await statusAfterFrames(page);
  assert.equal(first.lesson, 5);
  assert.equal(first.lessons, kPanels.length, 'status().lessons is the number of steps');
  assert.equal(first.panel, 'eval');
  assert.match(first.state, /^lesson=5(&|$)/, 'the URL keeps the step');
  await page.waitForFunction(() => /^#lesson=5/.test(location.hash));

  const titles = { en: [], ja: [] };
  for (const lang of ['en', 'ja']) {
    for (let n = 1; n <= kPanels.length; ++n) {
      const st = await openByHash(page, `lesson=${n}&lang=${lang}`, n);
      assert.equal(st.lang, lang, `step ${n} ${lang}: language`);
      assert.equal(st.panel, kPanels[n - 1], `step ${n} ${lang}: panel`);
      assert.ok(st.lesson_title.length > 3, `step ${n} ${lang}: a title`);
      assert.equal(st.error, '', `step ${n} ${lang}: no error`);
      if (lang === 'ja') assert.match(st.lesson_title, /[\u3040-\u30ff\u4e00-\u9fff]/, `step ${n}: a Japanese title`);
      if (n === 1) assert.equal(st.lab_bits, 3, 'step 1: the notebook plot at b = 3');
      if (n === 7) assert.equal(st.weights, 'qat_w2a2.safetensors', 'step 7: the shipped QAT model');
      if (n === 8) assert.equal(st.weights, 'notebook_pretrain.safetensors', 'step 8: back to the notebook weights');
      titles[lang].push(st.lesson_title);
      if (lang === 'ja' && (n === 2 || n === 4)) await screenshot(page, `lesson-${n}-ja`);
      if (lang === 'en' && (n === 4 || n === 7)) await screenshot(page, `lesson-${n}-en`);
    }
  }
  assert.equal(new Set(titles.en).size, kPanels.length, 'eight different steps');
  for (let i = 0; i < kPanels.length; ++i) assert.notEqual(titles.en[i], titles.ja[i], `step ${i + 1} is translated`);

  // Next / previous with the keys: Page Down from step 1 to the last, Page Up back; each step looks the same
  // both ways, and the last Page Down / first Page Up stay put.
  await openByHash(page, 'lesson=1&lang=en', 1);
  await page.focus('#canvas');
  const forward = [(await statusAfterFrames(page)).state];
  for (let n = 2; n <= kPanels.length + 1; ++n) {
    await page.keyboard.press('PageDown');
    const want = Math.min(n, kPanels.length);
    await page.waitForFunction((w) => window.quantlab.status().lesson === w, want, { timeout: 30000, polling: 20 });
    if (n <= kPanels.length) forward.push((await statusAfterFrames(page)).state);
  }
  for (let n = kPanels.length - 1; n >= 1; --n) {
    await page.keyboard.press('PageUp');
    await page.waitForFunction((w) => window.quantlab.status().lesson === w, n, { timeout: 30000, polling: 20 });
    const st = await statusAfterFrames(page);
    assert.equal(st.state, forward[n - 1], `step ${n} after Page Up is the view Page Down showed`);
  }
  // The URL follows: it holds the step the page shows.
  await page.waitForFunction(() => /^#lesson=1(&|$)/.test(location.hash));
  // Escape closes the lesson mode and keeps the view.
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.quantlab.status().lesson === 0, null, { timeout: 30000 });
  assert.equal((await statusAfterFrames(page)).panel, 'quantizer');
  expectNoErrors(assert, errors, 'lessons');
});

test('a bad lesson= value shows a message and the page keeps working', async () => {
  const { page, errors } = await session.open({ hash: 'lesson=3' });
  for (const bad of ['99', 'abc', '-2']) {
    const r = await page.evaluate((s) => window.quantlab.applyState(s), `lesson=${bad}`);
    assert.equal(r.ok, false, `lesson=${bad} is refused`);
    const st = await statusAfterFrames(page);
    assert.match(st.error, new RegExp(`lesson='${bad}'.*lesson step 1\\.\\.8`), `lesson=${bad}: the banner says what is wrong`);
    assert.equal(st.lesson, 3, 'the step shown is unchanged');
  }
  // The same from a link typed into the address bar.
  await page.evaluate(() => { location.hash = 'lesson=0.5'; });
  await page.waitForFunction(() => /lesson='0\.5'/.test(window.quantlab.status().error), null, { timeout: 30000 });
  await page.waitForTimeout(200);
  await screenshot(page, 'lesson-bad-value');
  // Still working: the next link opens its step.
  const st = await openByHash(page, 'lesson=4', 4);
  assert.equal(st.panel, 'network');
  expectNoErrors(assert, errors, 'bad lesson value');
});
