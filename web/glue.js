// glue.js: the page's JavaScript, kept small. Downloads quantlab.wasm and quantlab.data with a real byte
// progress bar, then starts quantlab.js (Emscripten) on them; passes the URL state in and writes it back;
// hands dropped, picked and served files (test_batch.bin beside the page) to the app; shows errors in a
// banner. Everything else (the UI, the numbers) is C++ in web/main.cpp, ui/ and core/.
// Tests and the benchmark use window.quantlab (status(), applyState(), openBytes(), benchmark(), ...).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const startMs = performance.now();
  const mb = (n) => (n / 1048576).toFixed(1);

  // ---- errors -------------------------------------------------------------------------------------
  function showError(message) {
    $('banner-text').textContent = message;
    $('banner').classList.add('show');
    api.errors.push(message);
  }
  function clearError() { $('banner').classList.remove('show'); }
  $('banner-close').addEventListener('click', clearError);
  function fatal(message) {
    showError(message);
    $('progress-text').textContent = 'QuantLab could not start.';
  }

  // ---- URL state ----------------------------------------------------------------------------------
  // The app's state string (see ui/app.hpp) goes into the hash; a link with ?STATE works too.
  function urlState() {
    const h = location.hash.replace(/^#/, '');
    return h || location.search.replace(/^\?/, '');
  }
  function writeUrlState(state) {
    history.replaceState(null, '', location.pathname + (state ? '#' + state : ''));
  }

  // ---- downloads with progress ------------------------------------------------------------------
  // optional: anything but 200 resolves to null instead of failing.
  async function fetchBytes(url, onProgress, { optional = false } = {}) {
    const response = await fetch(url);
    if (optional && response.status !== 200) return null;
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('Content-Length')) || 0;
    if (!response.body) return new Uint8Array(await response.arrayBuffer());
    const reader = response.body.getReader();
    const chunks = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress(loaded, total);
    }
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  // ---- files into the app -------------------------------------------------------------------------
  // Returns {ok, error}. Copies the bytes into wasm memory; the app copies them again and we free ours.
  function openBytes(name, bytes) {
    if (!api.ready) return { ok: false, error: 'QuantLab is still loading' };
    const ptr = Module._malloc(Math.max(1, bytes.length));
    if (!ptr) { const e = `${name}: out of memory (${mb(bytes.length)} MB)`; showError(e); return { ok: false, error: e }; }
    Module.writeArrayToMemory(bytes, ptr);  // not HEAPU8.set: with threads, a grown heap can leave views stale
    let rc;
    try {
      rc = Module.ccall('ql_open_file', 'number', ['string', 'number', 'number'], [name, ptr, bytes.length]);
    } finally {
      Module._free(ptr);
    }
    // A bad file's message is shown by the app itself (its error banner, which keeps the menu bar visible);
    // the HTML banner is for what the app cannot show (downloads, start-up).
    if (rc !== 0) {
      const e = Module.UTF8ToString(Module._ql_last_error()) || `${name}: could not be opened`;
      console.warn(`QuantLab: ${e}`);
      api.lastFileError = e;
      return { ok: false, error: e };
    }
    api.lastFileError = '';
    return { ok: true, error: '' };
  }
  async function openFiles(files) {
    for (const f of files) openBytes(f.name, new Uint8Array(await f.arrayBuffer()));
  }

  const picker = $('file');
  $('open').addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => { openFiles([...picker.files]); picker.value = ''; });
  window.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'o') { e.preventDefault(); picker.click(); }
  }, true);
  let dragDepth = 0;
  window.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('drop').classList.add('show'); });
  window.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop').classList.remove('show'); } });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    dragDepth = 0;
    $('drop').classList.remove('show');
    if (e.dataTransfer && e.dataTransfer.files.length) openFiles([...e.dataTransfer.files]);
  });

  // The full 10,000-image test set, when the server has it beside the page (scripts/serve.sh does). One GET:
  // a 200 is the file; scripts/serve.sh answers 204 when it has none, other static servers 404 (which the
  // browser logs; harmless).
  async function loadServedTestSet() {
    const side = $('side-progress');
    try {
      const bytes = await fetchBytes('test_batch.bin', (loaded, total) => {
        side.style.display = 'block';
        $('side-progress-text').textContent = `Full test set ${mb(loaded)} / ${mb(total)} MB`;
        $('side-progress-bar').style.width = total ? `${(100 * loaded / total).toFixed(1)}%` : '50%';
      }, { optional: true });
      if (bytes && bytes.length) {
        openBytes('test_batch.bin', bytes);
        api.fullTestSet = true;
      }
    } catch (e) {
      showError(`test_batch.bin: ${e.message}`);
    } finally {
      side.style.display = 'none';
    }
  }

  // ---- start-up -----------------------------------------------------------------------------------
  const api = window.quantlab = {
    ready: false, errors: [], lastFileError: '', firstFrameMs: null, firstFrameSinceNavigationMs: null, fullTestSet: false,
    openBytes,
    status: () => JSON.parse(Module.UTF8ToString(Module._ql_status_json())),
    state: () => Module.UTF8ToString(Module._ql_state_string()),
    applyState: (s) => {
      const rc = Module.ccall('ql_apply_state', 'number', ['string'], [s]);
      const e = rc ? Module.UTF8ToString(Module._ql_last_error()) : '';  // shown by the app, too
      return { ok: rc === 0, error: e };
    },
    // A bundled model by name ("qat_w4a4"), as the model picker does; {ok, error} (an unknown name keeps the model).
    chooseModel: (name) => {
      const rc = Module.ccall('ql_choose_model', 'number', ['string'], [name]);
      return { ok: rc === 0, error: rc ? Module.UTF8ToString(Module._ql_last_error()) : '' };
    },
    frameStats: (reset) => JSON.parse(Module.UTF8ToString(Module._ql_frame_stats(reset ? 1 : 0))),
    // Tests: how long App's frame waits for a new setting's first estimate (the page sets 0), and how long
    // the page holds back frames that show a setting without it (default 100 ms); see ui/frame_policy.hpp.
    setFirstEstimateWait: (ms) => Module._ql_set_first_estimate_wait_ms(ms),
    setFirstEstimateHold: (ms) => Module._ql_set_first_estimate_hold_ms(ms),
    // Resolves once the app has drawn n more frames (status() reflects a state change after the next frame).
    afterFrames: async (n = 2) => {
      const f0 = api.frameStats().frames;
      while (api.frameStats().frames < f0 + n) await new Promise((r) => setTimeout(r, 5));
    },
    benchmark: (backend, bits, repeats) =>
      JSON.parse(Module.UTF8ToString(Module.ccall('ql_benchmark', 'number', ['number', 'number', 'number'],
                                                  [backend, bits, repeats || 1]))),
    loaded: null,  // promise: resolves after the first frame
  };

  if (!document.createElement('canvas').getContext('webgl2')) {
    fatal('This browser has no WebGL2, which QuantLab needs. Use a current Chrome, Firefox, Edge or Safari ' +
          '(with hardware acceleration, or its software fallback, enabled).');
    return;
  }

  // A threads build (see web/CMakeLists.txt) needs SharedArrayBuffer, i.e. a cross-origin-isolated page.
  if (document.body.dataset.threads === 'true' && !window.crossOriginIsolated) {
    fatal('This page must be served with the headers "Cross-Origin-Opener-Policy: same-origin" and ' +
          '"Cross-Origin-Embedder-Policy: require-corp" (its WebAssembly uses threads). scripts/serve.sh does ' +
          'that; or build with -DQUANTLAB_WEB_THREADS=OFF for any static server.');
    return;
  }

  let firstFrameResolve;
  api.loaded = new Promise((r) => { firstFrameResolve = r; });
  const initialState = urlState();

  window.Module = {
    canvas: $('canvas'),
    arguments: initialState ? ['--state', initialState] : [],
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
    setStatus: () => {},
    onAbort: (what) => fatal(`QuantLab stopped: ${what}. Reload the page to start again.`),
    quantlabFatal: (message) => fatal(message),
    quantlabStateChanged: (state) => writeUrlState(state),
    quantlabFirstFrame: () => {
      api.firstFrameMs = performance.now() - startMs;  // since glue.js started
      api.firstFrameSinceNavigationMs = performance.now();  // since the navigation began
      $('loading').style.display = 'none';
      $('canvas').focus();
      firstFrameResolve();
      loadServedTestSet();
    },
  };

  window.addEventListener('hashchange', () => {
    const s = urlState();
    if (api.ready && s !== api.state()) api.applyState(s);
  });

  const progress = { wasm: [0, 0], data: [0, 0] };
  function drawProgress() {
    const loaded = progress.wasm[0] + progress.data[0];
    const total = progress.wasm[1] + progress.data[1];
    $('progress').style.width = total ? `${Math.min(100, 100 * loaded / total).toFixed(1)}%` : '5%';
    $('progress-text').textContent = `Loading ${mb(loaded)} / ${total ? mb(total) : '?'} MB`;
  }

  Promise.all([
    fetchBytes('quantlab.wasm', (l, t) => { progress.wasm = [l, t]; drawProgress(); }),
    fetchBytes('quantlab.data', (l, t) => { progress.data = [l, t]; drawProgress(); }),
  ]).then(([wasm, data]) => {
    $('progress-text').textContent = 'Starting…';
    Module.getPreloadedPackage = () => data.buffer;
    Module.instantiateWasm = (imports, receive) => {
      WebAssembly.instantiate(wasm, imports).then(
        (r) => receive(r.instance, r.module),
        (e) => fatal(`quantlab.wasm could not be compiled: ${e.message}`));
      return {};
    };
    Module.onRuntimeInitialized = () => { api.ready = true; };
    const script = document.createElement('script');
    script.src = 'quantlab.js';
    script.onerror = () => fatal('quantlab.js could not be loaded from the server.');
    document.body.appendChild(script);
  }, (e) => fatal(`Download failed: ${e.message}`));
})();
