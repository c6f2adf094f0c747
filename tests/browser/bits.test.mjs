// bits.test.mjs: changing the bit width (through the URL state, as a link or the hash does, and through
// the keyboard shortcut) re-evaluates, and the page's accuracy and predictions equal the native command
// line's for that setting: `quantlab eval --json` on the same 1,000 images, compared by the FNV-1a hash
// of the predictions. The first frame drawn with a new bit width already shows an estimate for it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expectNoErrors, nativeEval, screenshot, startCpuLoad, startSession, waitEvaluated } from './harness.mjs';

let session, expected;
before(async () => {
  expected = nativeEval({ bits: [32, 8, 4, 3, 2] });
  session = await startSession();
});
after(async () => { await session?.close(); });

async function setBits(page, bits) {
  const state = await page.evaluate(() => window.quantlab.state());
  const kept = state.split('&').filter((kv) => kv && !/^(wb|ab)=/.test(kv));
  const next = [...kept, `wb=${bits}`, `ab=${bits}`].join('&');
  await page.evaluate((s) => { location.hash = s; }, next);  // the hashchange path a pasted link takes
}

test('bits via the URL give the native predictions', async () => {
  const { page, errors } = await session.open();
  for (const bits of [8, 4, 2, 32, 3]) {
    await setBits(page, bits);
    await page.waitForFunction((b) => {
      const s = window.quantlab.status();
      return s.weight_bits.every((x) => x === b) && s.act_bits.every((x) => x === b);
    }, bits);
    const s = await waitEvaluated(page, { total: 1000 });
    const want = expected[bits];
    console.log(`bits ${bits}: page ${s.accuracy.toFixed(2)} % ${s.predictions_fnv1a64}, native ${want.accuracy.toFixed(2)} % ${want.hash}`);
    assert.equal(s.predictions_fnv1a64, want.hash, `bits ${bits}: predictions differ from quantlab eval`);
    assert.ok(Math.abs(s.accuracy - want.accuracy) < 1e-9, `bits ${bits}: accuracy ${s.accuracy} vs ${want.accuracy}`);
    if (bits === 2) await screenshot(page, 'bits-2');
  }
  expectNoErrors(assert, errors, 'bits');
  await page.close();  // its background evaluations (sweeps) would compete with the next tests' pages
});

// One press of a key, with no retries, while every core is busy (startCpuLoad). ImGui 1.86 alone sees a key
// only when a frame begins while it is down, so a press shorter than a frame was lost (ctest's parallel
// suites made frames that long); the page queues key events and hands ImGui the press in one frame and its
// release in a later one (ui/input_queue.hpp). `press` is Playwright's (down and up as two input events);
// `withinOneTask` sends both in one JavaScript task, so no frame can begin between them: the worst case,
// which fails without the queue on any machine.
async function pressOnceUnderLoad(page, key, bits, { withinOneTask = false } = {}) {
  const load = startCpuLoad({ seconds: 120 });
  try {
    if (withinOneTask) {
      await page.evaluate((code) => {
        // Emscripten's GLFW reads keyCode, which KeyboardEvent's constructor does not take.
        const event = (type) => {
          const e = new KeyboardEvent(type, { bubbles: true, cancelable: true });
          Object.defineProperty(e, 'keyCode', { get: () => code });
          return e;
        };
        window.dispatchEvent(event('keydown'));
        window.dispatchEvent(event('keyup'));
      }, { ArrowUp: 38, ArrowDown: 40 }[key]);
    } else {
      await page.keyboard.press(key);
    }
    await page.waitForFunction((b) => window.quantlab.status().weight_bits.every((x) => x === b), bits,
                               { timeout: 120000, polling: 50 });
  } finally {
    load.stop();
  }
}

test('the Down/Up arrow keys step the bits and the numbers follow', async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=4&ab=4' });
  await waitEvaluated(page, { total: 1000 });
  await page.focus('#canvas');  // keys go to the app (GLFW listens on the window); no click that could hit a widget
  await pressOnceUnderLoad(page, 'ArrowDown', 3);
  const s = await waitEvaluated(page, { total: 1000 });
  assert.equal(s.predictions_fnv1a64, expected[3].hash, 'bits 3 after ArrowDown');
  await pressOnceUnderLoad(page, 'ArrowUp', 4, { withinOneTask: true });
  const s4 = await waitEvaluated(page, { total: 1000 });
  assert.equal(s4.predictions_fnv1a64, expected[4].hash, 'bits 4 after ArrowUp');
  expectNoErrors(assert, errors, 'keyboard');
  await page.close();
});

// The first frame drawn with a new setting also shows an estimate for it: the page holds back frames that
// would show the setting without one, and the desktop's App::frame waits for the first batch (both:
// ui/frame_policy.hpp). Both limits are raised here, so the checks do not depend on this machine's
// speed (no time is asserted); a page that draws the change at once shows it with 0 images first. The page's
// background work (the sweep, the other models' overlay: minutes on a loaded machine) may go on meanwhile: the
// current setting's job comes first, and applyState takes effect at once, so every frame from there on shows
// W7A6 and is held until its estimate is there.
test('the first frame with new bits shows their first estimate', async () => {
  const { page, errors } = await session.open({ hash: 'panel=eval&wb=8&ab=8' });
  await waitEvaluated(page, { total: 1000 });
  const held = await page.evaluate(async () => {
    const q = window.quantlab;
    q.setFirstEstimateHold(60000);
    const before = q.frameStats(false);
    q.applyState('panel=eval&wb=7&ab=6');  // W7A6: in no sweep, so not cached
    while (q.frameStats(false).drawn === before.drawn) await new Promise((r) => setTimeout(r, 5));
    await q.afterFrames(2);
    q.setFirstEstimateHold(100);
    return { before, after: q.frameStats(false), status: q.status() };
  });
  const s = held.status;
  console.log(`W7A6: ${held.after.drawn - held.before.drawn} frames drawn, ` +
              `${held.after.drawn_without_estimate - held.before.drawn_without_estimate} without an estimate; ${s.evaluated} images now`);
  assert.ok(s.weight_bits.every((x) => x === 7) && s.act_bits.every((x) => x === 6), `bits ${s.bits}`);
  assert.equal(s.error, '');
  assert.ok(s.evaluated >= 128);
  assert.equal(held.after.drawn_without_estimate, held.before.drawn_without_estimate, 'a frame showed W7A6 without an estimate');

  // App's own wait (what the desktop app relies on; the page sets it to 0): the first App frame with W6A7.
  const s2 = await page.evaluate(async () => {
    const q = window.quantlab;
    q.setFirstEstimateHold(0);
    q.setFirstEstimateWait(60000);
    q.applyState('panel=eval&wb=6&ab=7');
    await q.afterFrames(2);
    q.setFirstEstimateWait(0);
    q.setFirstEstimateHold(100);
    return q.status();
  });
  console.log(`W6A7: App's first frame showed ${s2.first_frame_evaluated} images`);
  assert.ok(s2.weight_bits.every((x) => x === 6) && s2.act_bits.every((x) => x === 7), `bits ${s2.bits}`);
  assert.ok(s2.first_frame_evaluated >= 128, `App's first frame with W6A7 showed ${s2.first_frame_evaluated} images`);
  expectNoErrors(assert, errors, 'first estimate');
  await page.close();
});
