// sensitivity.test.mjs: the network view's "Which layer breaks?" chart (ui/sensitivity_view.cpp). Its bars, which
// the page evaluates in the background while the view is shown, equal `quantlab eval --layer-bits` on the same
// 1,000 images: every layer at 4 bits but conv1 kept at 8, and only fc1 at 4 bits (the rest float). Then the bits
// change and the bars follow. Screenshots at 1280x720 and 1920x1080, English and Japanese, presenter off and on,
// with the layout checks of screenshots.test.mjs (no legend over data, nothing cut by the window). The
// accuracy-vs-size view's front: ordered by size, more bytes never lose more, and its smallest point (every layer
// at 2 bits) has the proxy loss summed from `quantlab eval` of each layer alone at 2 bits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expectNoErrors, nativeEval, screenshot, startSession } from './harness.mjs';

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

const overlaps = (a, b) => a && b && a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

// Waits until the chart's ten bars are final; returns status().
async function waitBars(page) {
  await page.evaluate(() => window.quantlab.afterFrames(2));
  await page.waitForFunction(() => {
    const s = window.quantlab.status().sensitivity;
    return s.length === 5 && s.every((l) => l.only.done && l.all_but.done);
  }, null, { timeout: 80000, polling: 200 });
  return page.evaluate(() => window.quantlab.status());
}

// One native run: {correct, hash} of a --bits / --layer-bits setting on the bundled sample.
function native(layerBits) {
  const r = nativeEval({ bits: [4], extraArgs: ['--layer-bits', layerBits] });
  const [only] = Object.values(r);
  return only;
}

test('"Which layer breaks?" bars equal quantlab eval --layer-bits and follow the bits', async () => {
  const { page, errors } = await session.open({ hash: 'panel=network&view=2&wb=4&ab=4' });
  const s = await waitBars(page);
  assert.deepEqual(s.sensitivity.map((l) => l.layer), ['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
  for (const l of s.sensitivity)
    for (const b of [l.only, l.all_but]) {
      assert.equal(b.error, '');
      assert.equal(b.evaluated, 1000);
    }
  const conv1Kept = s.sensitivity[0].all_but, fc1Only = s.sensitivity[2].only;
  const wantKept = native('conv1=8'), wantOnly = native('conv1=32,conv2=32,fc2=32,fc3=32');
  console.log(`all at 4 but conv1 at 8: page ${conv1Kept.correct} ${conv1Kept.predictions_fnv1a64}, native ${wantKept.correct} ${wantKept.hash}`);
  console.log(`only fc1 at 4: page ${fc1Only.correct} ${fc1Only.predictions_fnv1a64}, native ${wantOnly.correct} ${wantOnly.hash}`);
  assert.equal(conv1Kept.correct, Math.round(wantKept.accuracy * 10));  // of 1,000 images
  assert.equal(conv1Kept.predictions_fnv1a64, wantKept.hash);
  assert.equal(fc1Only.correct, Math.round(wantOnly.accuracy * 10));
  assert.equal(fc1Only.predictions_fnv1a64, wantOnly.hash);

  // Another setting: the bars are those of the new bits (only conv2 at 2 bits is the current conv2 setting).
  const r = await page.evaluate(() => window.quantlab.applyState('wb=2,4,4,4,4&ab=2,4,4,4,4'));
  assert.ok(r.ok, r.error);
  const s2 = await waitBars(page);
  const want2 = native('conv1=2,conv2=32,fc1=32,fc2=32,fc3=32');
  assert.equal(s2.sensitivity[0].only.predictions_fnv1a64, want2.hash, 'only conv1 at 2 bits');

  // Screenshots, with the layout checks.
  await page.mouse.move(2, 2);
  for (const [width, height] of [[1280, 720], [1920, 1080]]) {
    await page.setViewportSize({ width, height });
    for (const presenter of [false, true])
      for (const lang of ['en', 'ja']) {
        const state = `panel=network&view=2&wb=4&ab=4&lang=${lang}&fs=${presenter ? 2 : 1}&hc=${presenter ? 1 : 0}`;
        assert.ok((await page.evaluate((st) => window.quantlab.applyState(st), state)).ok);
        let layout;
        for (let i = 0; i < 20; ++i) {
          await page.evaluate(() => window.quantlab.afterFrames(2));
          layout = await page.evaluate(() => window.quantlab.layout());
          if (!layout.unsettled) break;
        }
        const name = `sensitivity-${width}x${height}-${lang}${presenter ? '-presenter' : ''}`;
        await screenshot(page, `screens/${name}`);
        const chart = layout.plots.find((p) => p.id === 'sensitivity');
        assert.ok(chart, `${name}: the chart is drawn`);
        for (const p of layout.plots) {
          assert.ok(!overlaps(p.legend, chart.area), `${name}: ${p.id}'s legend covers the chart's data`);
          const f = p.frame;
          assert.ok(f[0] >= -1 && f[1] >= -1 && f[2] <= width + 1 && f[3] <= height + 1, `${name}: ${p.id} is cut: ${JSON.stringify(f)}`);
          assert.ok(!p.title_clipped, `${name}: ${p.id}'s title does not fit`);
        }
      }
  }
  expectNoErrors(assert, errors, 'sensitivity');
});

test('accuracy vs size: the front from the one-layer losses, checked against quantlab eval', async () => {
  const { page, errors } = await session.open({ hash: 'panel=network&view=3&wb=4&ab=4' });
  await page.waitForFunction(() => window.quantlab.status().pareto?.ready, null, { timeout: 80000, polling: 250 });
  const s = await page.evaluate(() => window.quantlab.status());
  const front = s.pareto.front;
  assert.ok(front.length >= 5, `a front of ${front.length} points`);
  for (let i = 1; i < front.length; ++i) {
    assert.ok(front[i].bytes > front[i - 1].bytes, 'ordered by size');
    assert.ok(front[i].loss < front[i - 1].loss, 'a larger setting on the front loses less');
  }
  assert.deepEqual(front[0].bits, [2, 2, 2, 2, 2]);
  assert.deepEqual(front[front.length - 1].bits, [8, 8, 8, 8, 8]);
  const names = ['conv1', 'conv2', 'fc1', 'fc2', 'fc3'];
  const float = nativeEval({ bits: [32] })[32].accuracy;
  let loss = 0;
  for (const q of names) {
    const others = names.filter((n) => n !== q).map((n) => `${n}=32`).join(',');
    loss += float - Object.values(nativeEval({ bits: [2], extraArgs: ['--layer-bits', others] }))[0].accuracy;
  }
  console.log(`every layer at 2 bits: page proxy loss ${front[0].loss.toFixed(3)}, native ${loss.toFixed(3)}`);
  assert.ok(Math.abs(front[0].loss - loss) < 1e-3, `${front[0].loss} vs ${loss}`);  // sums of percentages in another order
  // A click on the front's largest point (every layer at 8 bits) makes it the setting. Its pixel from the plot's data
  // area (layout()) and the view's limits: sizes and proxies of the front, the float and current accuracy, padded
  // as plot::pad_limits pads (4 % in x, 8 % in y).
  const area = (await page.evaluate(() => window.quantlab.layout())).plots.find((p) => p.id === 'pareto').area;
  const kb = front.map((p) => p.bytes / 1e3), proxy = front.map((p) => p.proxy);
  const x0 = Math.min(...kb), x1 = Math.max(...kb);  // the current setting (4 bits) lies between
  const y0 = Math.max(0, Math.min(s.accuracy, s.float_accuracy, ...proxy)), y1 = s.float_accuracy;
  const lx0 = x0 - 0.04 * (x1 - x0), lx1 = x1 + 0.04 * (x1 - x0), ly0 = y0 - 0.08 * (y1 - y0), ly1 = y1 + 0.08 * (y1 - y0);
  const last = front.length - 1;
  const px = area[0] + (kb[last] - lx0) / (lx1 - lx0) * (area[2] - area[0]);
  const py = area[3] - (proxy[last] - ly0) / (ly1 - ly0) * (area[3] - area[1]);
  await page.mouse.move(px, py);
  await page.evaluate(() => window.quantlab.afterFrames(2));
  await page.mouse.click(px, py, { delay: 150 });
  await page.evaluate(() => window.quantlab.afterFrames(2));
  const clicked = await page.evaluate(() => window.quantlab.status());
  assert.deepEqual(clicked.weight_bits, [8, 8, 8, 8, 8], 'the click set every layer to the point\'s bits');
  assert.deepEqual(clicked.act_bits, [8, 8, 8, 8, 8]);
  await page.mouse.move(2, 2);
  for (const lang of ['en', 'ja']) {
    await page.evaluate((l) => window.quantlab.applyState(`lang=${l}`), lang);
    await page.evaluate(() => window.quantlab.afterFrames(4));
    await screenshot(page, `screens/pareto-1280x800-${lang}`);
  }
  expectNoErrors(assert, errors, 'accuracy vs size');
});
