// loads.test.mjs: the page loads without console errors, draws its first frame, starts on the bundled
// sample (1,000 images) and finishes evaluating it; the canvas backing store follows devicePixelRatio.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expectNoErrors, screenshot, startSession, waitEvaluated } from './harness.mjs';

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

test('loads without console errors and evaluates the bundled sample', async () => {
  const { page, errors } = await session.open();
  const firstFrameMs = await page.evaluate(() => window.quantlab.firstFrameMs);
  const status = await waitEvaluated(page, { total: 1000 });
  console.log(`first frame after ${firstFrameMs.toFixed(0)} ms; status ${JSON.stringify(status)}`);
  assert.equal(status.error, '');
  assert.ok(status.accuracy > 10 && status.accuracy <= 100, `accuracy ${status.accuracy}`);
  assert.equal(await page.isVisible('#banner'), false, 'no error banner');
  assert.equal(await page.isVisible('#loading'), false, 'the loading overlay is gone');
  await page.waitForTimeout(300);  // a few more frames, then check nothing went wrong meanwhile
  await screenshot(page, 'loads');
  expectNoErrors(assert, errors, 'load');
});

test('HiDPI: the canvas backing store is CSS size x devicePixelRatio', async () => {
  const page = await session.context.newPage();
  const cdp = await session.context.newCDPSession(page);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 900, height: 600, deviceScaleFactor: 2, mobile: false });
  const { errors } = await session.open({ page });
  await page.waitForTimeout(200);
  const dims = await page.evaluate(() => {
    const c = document.getElementById('canvas');
    const r = c.getBoundingClientRect();
    return { w: c.width, h: c.height, cssW: r.width, cssH: r.height, dpr: window.devicePixelRatio };
  });
  console.log(`HiDPI canvas ${JSON.stringify(dims)}`);
  assert.equal(dims.dpr, 2);
  assert.equal(dims.w, Math.round(dims.cssW * 2));
  assert.equal(dims.h, Math.round(dims.cssH * 2));
  await screenshot(page, 'loads-hidpi');
  expectNoErrors(assert, errors, 'HiDPI load');
});

test('an idle page draws nothing; a change is drawn at once', async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=8&ab=8' });
  await waitEvaluated(page, { total: 1000 });
  await page.waitForFunction(() => !window.quantlab.status().busy, null, { timeout: 120000, polling: 100 });
  await page.evaluate(() => window.quantlab.afterFrames(3));  // the last result's frame is on the canvas
  const idle0 = await page.evaluate(() => window.quantlab.frameStats(false));
  // A second and at least 10 main-loop runs, however slow the machine (no count of runs per second asserted).
  await Promise.all([page.waitForTimeout(1000), page.evaluate(() => window.quantlab.afterFrames(10))]);
  const idle1 = await page.evaluate(() => window.quantlab.frameStats(false));
  console.log(`idle second: ${idle1.frames - idle0.frames} main-loop runs, ${idle1.drawn - idle0.drawn} drawn`);
  assert.ok(idle1.frames - idle0.frames >= 10, 'the main loop keeps running (input, URL state)');
  assert.equal(idle1.drawn - idle0.drawn, 0, 'nothing changed, so nothing was drawn');
  const before = await page.screenshot();
  await page.evaluate(() => window.quantlab.applyState('panel=network&wb=8&ab=8'));
  await page.evaluate(() => window.quantlab.afterFrames(3));
  const changed = await page.evaluate(() => window.quantlab.frameStats(false));
  assert.ok(changed.drawn > idle1.drawn, 'the new panel was drawn');
  assert.notDeepEqual(await page.screenshot(), before, 'and the canvas shows it');
  await screenshot(page, 'idle-then-network-panel');
  expectNoErrors(assert, errors, 'idle page');
});
