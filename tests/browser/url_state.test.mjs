// url_state.test.mjs: the state string round-trips through the URL. A link opens the view it names; the
// page writes every change back into the hash (history.replaceState, no reload); opening the written URL
// in a fresh tab gives the same state.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { expectNoErrors, screenshot, startSession, waitEvaluated } from './harness.mjs';

let session;
before(async () => { session = await startSession(); });
after(async () => { await session?.close(); });

test('URL state round-trips', async () => {
  const link = 'panel=eval&wb=3&ab=5&lang=ja';
  const a = await session.open({ hash: link });
  const stA = await a.page.evaluate(() => window.quantlab.status());
  assert.equal(stA.panel, 'eval');
  assert.deepEqual([...new Set(stA.weight_bits)], [3]);
  assert.deepEqual([...new Set(stA.act_bits)], [5]);
  const stateA = await a.page.evaluate(() => window.quantlab.state());
  for (const kv of link.split('&')) assert.ok(stateA.split('&').includes(kv), `state "${stateA}" keeps ${kv}`);
  await a.page.waitForFunction((s) => location.hash === `#${s}`, stateA);
  await a.page.waitForTimeout(200);
  await screenshot(a.page, 'url-state-ja');

  // A change in the page goes to the URL without a reload.
  const navigations = [];
  a.page.on('framenavigated', (f) => navigations.push(f.url()));
  await a.page.evaluate(() => window.quantlab.applyState('panel=quantizer&wb=6&ab=6'));
  const stateB = await a.page.evaluate(() => window.quantlab.state());
  await a.page.waitForFunction((s) => location.hash === `#${s}`, stateB);
  const urlB = a.page.url();
  assert.notEqual(stateB, stateA);

  // The written URL reproduces the view in a fresh tab.
  const b = await session.open({ hash: new URL(urlB).hash.slice(1) });
  assert.equal(await b.page.evaluate(() => window.quantlab.state()), stateB);
  const stB = await b.page.evaluate(() => window.quantlab.status());
  assert.equal(stB.panel, 'quantizer');
  assert.deepEqual([...new Set(stB.weight_bits)], [6]);

  // ?STATE works as a link form too.
  const c = await session.context.newPage();
  const errorsC = [];
  c.on('console', (m) => { if (m.type() === 'error') errorsC.push(m.text()); });
  await c.goto(`${session.url}?panel=eval&wb=2&ab=2`);
  await c.waitForFunction(() => window.quantlab && window.quantlab.firstFrameMs !== null);
  const stC = await c.evaluate(() => window.quantlab.status());
  assert.deepEqual([...new Set(stC.weight_bits)], [2]);

  expectNoErrors(assert, [...a.errors, ...b.errors, ...errorsC], 'URL state');
});
