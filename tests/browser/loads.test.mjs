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
