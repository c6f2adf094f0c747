// glue.js: the page's JavaScript, kept small. Downloads quantlab.wasm and quantlab.data with a real byte
// progress bar, then starts quantlab.js (Emscripten) on them; passes the URL state in and writes it back;
// hands dropped, picked and served files (test_batch.bin beside the page) to the app; shows errors in a
// banner. Everything else (the UI, the numbers) is C++ in web/main.cpp, ui/ and core/.
// Which build it starts: the one beside it (a page CMake built), or in a packaged folder (scripts/package_web.sh,
// <body data-threads="auto">) mt/ when the page is cross-origin isolated (wasm threads), else st/.
// Its words and the shell's are in shell_i18n.js, in the language of the URL state (lang=) or the browser.
// Training: when the first run asks, it fetches the training images (cifar10_train_2000.bin beside the page, or
// the CIFAR-10 training batches a package lists in data-train-set; not preloaded) and hands them to the app, as
// it does data_batch_*.bin files the user drops; a run's Download becomes a Blob download.
// Tests and the benchmark use window.quantlab (status(), applyState(), openBytes(), benchmark(), train*(), ...).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const startMs = performance.now();
  const mb = (n) => (n / 1048576).toFixed(1);
  const T = window.quantlabShellText.t;

  // ---- errors -------------------------------------------------------------------------------------
  function showError(message) {
    $('banner-text').textContent = message;
    $('banner').classList.add('show');
    api.errors.push(message);
  }
  function clearError() { $('banner').classList.remove('show'); }
  $('banner-close').addEventListener('click', clearError);
  let stopped = false;  // after fatal(): downloads still under way no longer redraw the progress text
  function fatal(message) {
    stopped = true;
    showError(message);
    $('progress-text').textContent = T('couldNotStart');
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
    if (!api.ready) return { ok: false, error: T('stillLoading') };
    const ptr = Module._malloc(Math.max(1, bytes.length));
    if (!ptr) { const e = T('outOfMemory', name, mb(bytes.length)); showError(e); return { ok: false, error: e }; }
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
      const e = Module.UTF8ToString(Module._ql_last_error()) || T('couldNotOpen', name);
      console.warn(`QuantLab: ${e}`);
      api.lastFileError = e;
      return { ok: false, error: e };
    }
    api.lastFileError = '';
    return { ok: true, error: '' };
  }
  // CIFAR-10's training batches (data_batch_1.bin ... data_batch_5.bin) dropped or picked together are the
  // training panel's images; every other file goes to the app (weights, a test batch).
  const isTrainBatch = (name) => /^data_batch_\d+\.bin$/i.test(name);
  async function openFiles(files) {
    const batches = files.filter((f) => isTrainBatch(f.name)).sort((a, b) => a.name.localeCompare(b.name));
    for (const f of files) if (!isTrainBatch(f.name)) openBytes(f.name, new Uint8Array(await f.arrayBuffer()));
    if (!batches.length) return;
    if (!api.ready) { api.lastFileError = T('stillLoading'); return; }
    const parts = [];
    for (const f of batches) parts.push(new Uint8Array(await f.arrayBuffer()));
    const r = setTrainData(batches.map((f) => f.name).join(' + '), parts);
    api.lastFileError = r.error;
    if (!r.ok) showError(r.error);
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
  // A packaged folder says whether it holds the file (data-test-set="bundled" or "none"), so a plain static
  // host is never asked for a file it does not have.
  async function loadServedTestSet() {
    const testSet = document.body.dataset.testSet || 'probe';
    if (testSet === 'none') return;
    const side = $('side-progress');
    try {
      const bytes = await fetchBytes('test_batch.bin', (loaded, total) => {
        side.style.display = 'block';
        $('side-progress-text').textContent = T('fullTestSet', mb(loaded), mb(total));
        $('side-progress-bar').style.width = total ? `${(100 * loaded / total).toFixed(1)}%` : '50%';
      }, { optional: testSet === 'probe' });
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

  // ---- training ------------------------------------------------------------------------------------
  // The single-threaded build trains in a Web Worker of its own (web/train_worker.cpp), started with the first run;
  // its messages ({json, bytes}) go to the app's trainer (ui/remote_trainer.hpp), its failure to the waiting runs.
  let trainWorkerInstance = null;
  function trainWorker() {
    if (trainWorkerInstance) return trainWorkerInstance;
    const url = dir + 'train_worker.js';
    const failed = (why) => Module.ccall('ql_worker_failed', null, ['string'], [`the training worker ${url} stopped: ${why}`]);
    let w;
    try {
      w = new Worker(url);
    } catch (e) {  // e.g. a page opened from file://: told after this call, which came from inside the app
      setTimeout(() => failed(e.message || String(e)));
      trainWorkerInstance = { postMessage: () => {} };
      return trainWorkerInstance;
    }
    w.onmessage = (e) => {
      const { json, bytes } = e.data;
      const ptr = bytes.length ? Module._malloc(bytes.length) : 0;
      if (ptr) Module.writeArrayToMemory(bytes, ptr);
      try {
        Module.ccall('ql_worker_message', null, ['string', 'number', 'number'], [json, ptr, bytes.length]);
      } finally {
        if (ptr) Module._free(ptr);
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      failed(e.message || 'it could not be loaded');
    };
    trainWorkerInstance = w;
    return w;
  }

  // The training images, fetched once when the first run asks (Module.quantlabNeedTrainData); a failed
  // download fails the waiting runs with the reason (shown in the training panel).
  // A packaged folder with the training batches lists them (data-train-set="data_batch_1.bin,..."); else the sample.
  const kTrainSample = 'cifar10_train_2000.bin';
  const servedTrainFiles = () => (document.body.dataset.trainSet || '').split(',').filter(isTrainBatch);
  // The training images from one or more parts (the batches, in order), copied once into the wasm heap.
  function setTrainData(name, parts) {
    if (parts instanceof Uint8Array) parts = [parts];
    const total = parts.reduce((n, p) => n + p.length, 0);
    const ptr = Module._malloc(Math.max(1, total));
    if (!ptr) return { ok: false, error: T('outOfMemory', name, mb(total)) };
    let rc;
    try {
      let at = ptr;
      for (const p of parts) { Module.writeArrayToMemory(p, at); at += p.length; }
      rc = Module.ccall('ql_set_train_data', 'number', ['string', 'number', 'number'], [name, ptr, total]);
    } finally {
      Module._free(ptr);
    }
    return { ok: rc === 0, error: rc ? Module.UTF8ToString(Module._ql_train_error()) : '' };
  }
  async function loadTrainData() {
    const side = $('side-progress');
    const files = servedTrainFiles().length ? servedTrainFiles() : [kTrainSample];
    let current = files[0];
    try {
      const parts = [];
      for (const f of files) {
        current = f;
        parts.push(await fetchBytes(f, (loaded, total) => {
          side.style.display = 'block';
          $('side-progress-text').textContent = `${f}: ${mb(loaded)} / ${mb(total)} MB`;
          $('side-progress-bar').style.width = total ? `${(100 * loaded / total).toFixed(1)}%` : '50%';
        }));
      }
      api.trainDataBytes = parts.reduce((n, p) => n + p.length, 0);
      setTrainData(files.join(' + '), parts);
    } catch (e) {
      Module.ccall('ql_train_data_failed', null, ['string'], [e.message.includes(current) ? e.message : `${current}: ${e.message}`]);
    } finally {
      side.style.display = 'none';
    }
  }
  function download(name, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    api.lastDownload = { name, bytes: bytes.length };
  }

  // ---- language -----------------------------------------------------------------------------------
  // The shell speaks the app's language: the state string's lang= (ui/state.cpp), else the browser's first
  // preference the shell knows; in that case the app is started in it too (see initialState below).
  function stateLanguage(state) {
    const m = /(?:^|&)lang=([^&]*)/.exec(state.replace(/^[?#]/, ''));
    return m ? m[1] : null;
  }
  function applyLanguage(state) { window.quantlabShellText.apply(stateLanguage(state) || 'en'); }

  // ---- start-up -----------------------------------------------------------------------------------
  const api = window.quantlab = {
    ready: false, errors: [], lastFileError: '', firstFrameMs: null, firstFrameSinceNavigationMs: null, fullTestSet: false,
    openBytes,
    status: () => JSON.parse(Module.UTF8ToString(Module._ql_status_json())),
    state: () => Module.UTF8ToString(Module._ql_state_string()),
    // The last frame's layout: plots' data and legend rectangles, headline heights (ui/layout_probe.hpp).
    layout: () => JSON.parse(Module.UTF8ToString(Module._ql_layout_json())),
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
    // Training (the training panel's runs). trainStart({epochs, batch, lr, optimizer: 'sgd'|'adam', augment, qat,
    // wb, ab, ste: 'identity'|'clipped', quantizer: 'fixed'|'lsq'|'pact', rule: 'maxabs'|'mse'|..., asym, pc}) ->
    // {id, error} (rule, asym, pc: the fixed quantizer's ranges; default the notebook's symmetric max-abs);
    // trainStatus() -> {runs: [...], train_images, ...};
    // trainTestOptions({limitTrain, maxSteps, valEvery, seed}) for runs started afterwards; trainWeights(id) ->
    // Uint8Array (.safetensors) or null; trainUse(id) loads them as the current model; setTrainData(name, bytes or
    // [bytes, ...]).
    trainStart: (o = {}) => {
      const id = Module.ccall('ql_train_start', 'number',
        ['number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'string', 'number', 'number'],
        [o.epochs ?? 1, o.batch ?? 64, o.lr ?? 0.01, o.optimizer === 'adam' ? 1 : 0, o.augment ? 1 : 0, o.qat ? 1 : 0,
         o.wb ?? 8, o.ab ?? 8, o.ste === 'clipped' ? 1 : 0, ['fixed', 'lsq', 'pact'].indexOf(o.quantizer ?? 'fixed'),
         o.rule ?? 'maxabs', o.asym ? 1 : 0, o.pc ? 1 : 0]);
      return { id, error: id < 0 ? Module.UTF8ToString(Module._ql_train_error()) : '' };
    },
    trainStatus: () => JSON.parse(Module.UTF8ToString(Module._ql_train_status())),
    trainTestOptions: (o = {}) => Module._ql_train_test_options(o.limitTrain ?? -1, o.maxSteps ?? -1, o.valEvery ?? 50, o.seed ?? 1),
    trainStop: (id) => Module._ql_train_stop(id) === 0,
    trainResume: (id) => Module._ql_train_resume(id) === 0,
    trainWeights: (id) => (Module._ql_train_weights(id) === 0 ? Module.quantlabTrainedWeights : null),
    trainUse: (id) => {
      const rc = Module._ql_train_use(id);
      return { ok: rc === 0, error: rc ? Module.UTF8ToString(Module._ql_train_error()) : '' };
    },
    setTrainData: (name, bytes) => setTrainData(name, bytes),
    trainDataBytes: 0, lastDownload: null,
    loaded: null,  // promise: resolves after the first frame
    build: null,   // {dir, threads, isolated}: which build this page started (see the top of this file)
  };

  {
    const threads = document.body.dataset.threads;
    const isolated = Boolean(window.crossOriginIsolated) && typeof SharedArrayBuffer === 'function';
    const packaged = threads === 'auto';
    api.build = packaged ? { dir: isolated ? 'mt/' : 'st/', threads: isolated, isolated }
                         : { dir: '', threads: threads === 'true', isolated };
  }
  const dir = api.build.dir;

  let initialState = urlState();
  if (stateLanguage(initialState) === null) {
    const lang = window.quantlabShellText.browserLanguage();
    if (lang !== 'en') initialState += (initialState ? '&' : '') + `lang=${lang}`;
  }
  applyLanguage(initialState);
  $('progress-text').textContent = T('loading');

  if (!document.createElement('canvas').getContext('webgl2')) {
    fatal(T('noWebgl2'));
    return;
  }

  // A threads build (see web/CMakeLists.txt) needs SharedArrayBuffer, i.e. a cross-origin-isolated page.
  if (api.build.threads && !api.build.isolated) {
    fatal(T('needIsolation'));
    return;
  }

  let firstFrameResolve;
  api.loaded = new Promise((r) => { firstFrameResolve = r; });

  window.Module = {
    canvas: $('canvas'),
    arguments: initialState ? ['--state', initialState] : [],
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
    setStatus: () => {},
    onAbort: (what) => fatal(T('stopped', what)),
    quantlabFatal: (message) => fatal(message),
    quantlabNeedTrainData: () => { loadTrainData(); },
    quantlabDownload: (name, bytes) => download(name, bytes),
    quantlabTrainWorkerSend: (json, bytes) => trainWorker().postMessage({ json, bytes }, [bytes.buffer]),
    quantlabStateChanged: (state) => { writeUrlState(state); applyLanguage(state); },
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
    if (stopped) return;
    const loaded = progress.wasm[0] + progress.data[0];
    const total = progress.wasm[1] + progress.data[1];
    $('progress').style.width = total ? `${Math.min(100, 100 * loaded / total).toFixed(1)}%` : '5%';
    $('progress-text').textContent = T('loadingMb', mb(loaded), total ? mb(total) : '?');
  }

  Promise.all([
    fetchBytes(dir + 'quantlab.wasm', (l, t) => { progress.wasm = [l, t]; drawProgress(); }),
    // One data file for both builds (the same assets): beside index.html in a package too.
    fetchBytes('quantlab.data', (l, t) => { progress.data = [l, t]; drawProgress(); }),
  ]).then(([wasm, data]) => {
    $('progress-text').textContent = T('starting');
    Module.getPreloadedPackage = () => data.buffer;
    Module.instantiateWasm = (imports, receive) => {
      WebAssembly.instantiate(wasm, imports).then(
        (r) => receive(r.instance, r.module),
        (e) => fatal(T('wasmCompile', dir + 'quantlab.wasm', e.message)));
      return {};
    };
    Module.onRuntimeInitialized = () => { api.ready = true; };
    const script = document.createElement('script');
    script.src = dir + 'quantlab.js';
    script.onerror = () => fatal(T('scriptMissing', script.src));
    document.body.appendChild(script);
  }, (e) => fatal(T('downloadFailed', e.message)));
})();
