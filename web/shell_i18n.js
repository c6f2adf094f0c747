// shell_i18n.js: the words of the HTML shell (web/shell.html) and of glue.js's messages, in English and
// Japanese. The panels' words are in ui/i18n.cpp; these are shown before the wasm app (and that table) has
// loaded, or when it cannot load, so they live here in JavaScript. glue.js picks the language (the URL
// state's lang=, else the browser's languages) and calls apply(); elements name their text with data-text
// (textContent) and data-title (title and aria-label). {0}, {1} are filled in by t().
window.quantlabShellText = (() => {
  'use strict';
  const table = {
    en: {
      title: 'QuantLab: quantization playground',
      subtitle: 'Quantization playground: a CIFAR-10 CNN at any bit width, in your browser',
      loading: 'Loading…',
      loadingMb: 'Loading {0} / {1} MB',
      starting: 'Starting…',
      couldNotStart: 'QuantLab could not start.',
      dismiss: 'Dismiss',
      drop: 'Drop .safetensors, .pth or CIFAR-10 .bin files',
      open: 'Open file…',
      openTitle: 'Open weights (.safetensors, .pth) or a CIFAR-10 .bin batch (Ctrl+O)',
      fullTestSet: 'Full test set {0} / {1} MB',
      stillLoading: 'QuantLab is still loading',
      outOfMemory: '{0}: out of memory ({1} MB)',
      couldNotOpen: '{0}: could not be opened',
      noWebgl2: 'This browser has no WebGL2, which QuantLab needs. Use a current Chrome, Firefox, Edge or Safari ' +
                '(with hardware acceleration, or its software fallback, enabled).',
      needIsolation: 'This page must be served with the headers "Cross-Origin-Opener-Policy: same-origin" and ' +
                     '"Cross-Origin-Embedder-Policy: require-corp" (its WebAssembly uses threads). scripts/serve.sh ' +
                     'does that; or package it with scripts/package_web.sh, which runs on any static server.',
      stopped: 'QuantLab stopped: {0}. Reload the page to start again.',
      wasmCompile: '{0} could not be compiled: {1}',
      scriptMissing: '{0} could not be loaded from the server.',
      downloadFailed: 'Download failed: {0}',
    },
    ja: {
      title: 'QuantLab：量子化プレイグラウンド',
      subtitle: '量子化プレイグラウンド：CIFAR-10 の CNN を好きなビット幅で、ブラウザの中で動かします',
      loading: '読み込み中…',
      loadingMb: '読み込み中 {0} / {1} MB',
      starting: '起動中…',
      couldNotStart: 'QuantLab を起動できませんでした。',
      dismiss: '閉じる',
      drop: '.safetensors、.pth、または CIFAR-10 の .bin ファイルをドロップしてください',
      open: 'ファイルを開く…',
      openTitle: '重み (.safetensors, .pth) または CIFAR-10 の .bin バッチを開く (Ctrl+O)',
      fullTestSet: 'テストセット全体 {0} / {1} MB',
      stillLoading: 'QuantLab はまだ読み込み中です',
      outOfMemory: '{0}：メモリが足りません ({1} MB)',
      couldNotOpen: '{0}：開けませんでした',
      noWebgl2: 'このブラウザには QuantLab に必要な WebGL2 がありません。最新の Chrome、Firefox、Edge または Safari を' +
                '使ってください（ハードウェアアクセラレーション、またはそのソフトウェア代替を有効にしてください）。',
      needIsolation: 'このページはヘッダー "Cross-Origin-Opener-Policy: same-origin" と ' +
                     '"Cross-Origin-Embedder-Policy: require-corp" を付けて配信する必要があります（WebAssembly が' +
                     'スレッドを使うため）。scripts/serve.sh はそうします。どの静的サーバーでも動かすには ' +
                     'scripts/package_web.sh でパッケージにしてください。',
      stopped: 'QuantLab が停止しました：{0}。ページを再読み込みすると再開します。',
      wasmCompile: '{0} をコンパイルできませんでした：{1}',
      scriptMissing: '{0} をサーバーから読み込めませんでした。',
      downloadFailed: 'ダウンロードに失敗しました：{0}',
    },
  };
  let lang = 'en';

  // The text for key in the current language (English where a translation is missing), {i} replaced by args[i].
  function t(key, ...args) {
    const s = table[lang][key] ?? table.en[key] ?? key;
    return s.replace(/\{(\d)\}/g, (m, i) => (args[i] === undefined ? m : String(args[i])));
  }

  // Switches the shell to `code` ('en' or 'ja'; anything else is English) and rewrites its texts.
  function apply(code) {
    lang = Object.prototype.hasOwnProperty.call(table, code) ? code : 'en';
    document.documentElement.lang = lang;
    document.title = t('title');
    for (const el of document.querySelectorAll('[data-text]')) el.textContent = t(el.dataset.text);
    for (const el of document.querySelectorAll('[data-title]')) {
      el.title = t(el.dataset.title);
      el.setAttribute('aria-label', el.title);
    }
  }

  // The language a browser asks for: its first preference that the shell speaks, else English.
  function browserLanguage() {
    for (const l of navigator.languages || [navigator.language || '']) {
      const code = String(l).toLowerCase().split('-')[0];
      if (Object.prototype.hasOwnProperty.call(table, code)) return code;
    }
    return 'en';
  }

  return { t, apply, browserLanguage, language: () => lang, languages: Object.keys(table) };
})();
