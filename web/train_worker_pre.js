// train_worker_pre.js: the training worker's message loop (Emscripten --pre-js of train_worker.js, see
// web/train_worker.cpp). Messages from the page ({json, bytes}) are handed to the wasm in order; while runs remain
// it trains in slices of kSliceMs and yields between them (a MessageChannel tick, not setTimeout, whose nested
// calls are clamped to 4 ms), so the page's Stop arrives after at most one slice.
const kSliceMs = 50;
const twInbox = [];
let twReady = false;
let twTicking = false;
const twTick = new MessageChannel();

function twDeliver() {
  for (; twInbox.length; twInbox.shift()) {
    const m = twInbox[0];
    const n = m.bytes ? m.bytes.length : 0;
    const ptr = n ? Module._malloc(n) : 0;
    if (n) HEAPU8.set(m.bytes, ptr);
    try {
      Module.ccall('tw_receive', null, ['string', 'number', 'number'], [m.json, ptr, n]);
    } finally {
      if (ptr) Module._free(ptr);
    }
  }
}

function twWake() {
  if (!twReady) return;
  twDeliver();
  if (!twTicking) {
    twTicking = true;
    twTick.port2.postMessage(0);
  }
}

twTick.port1.onmessage = () => {
  twDeliver();
  if (Module._tw_work(kSliceMs)) twTick.port2.postMessage(0);
  else twTicking = false;
};

self.onmessage = (e) => { twInbox.push(e.data); twWake(); };
// A wasm that cannot be fetched or compiled (or an abort later) ends in a rejected promise, which the page's
// Worker.onerror never sees: say it to the page, whose runs then fail with it.
Module.onAbort = (what) => {
  const file = self.location.pathname.split('/').pop();  // train_worker.js, beside its .wasm
  const message = `the training worker (${file} and its .wasm) stopped: ${what}`;
  postMessage({ json: JSON.stringify({ op: 'error', message }), bytes: new Uint8Array(0) });
};
Module.onRuntimeInitialized = () => { twReady = true; twWake(); };
