// serve.mjs: a tiny static file server for the built page (node, no packages), bound to 127.0.0.1 unless --host
// names another address (a classroom: --host 0.0.0.0 listens on every interface and prints each address,
// with a QR code when Debian's qrencode is installed).
// Used by scripts/serve.sh and by the browser tests. Serves ROOT with the right MIME types (application/wasm
// for streaming compilation), GET and HEAD, COOP/COEP headers on localhost (wasm threads), no caching; `extra` maps URL paths to files elsewhere (the full
// test set as /test_batch.bin; without one, the page's probe for it gets 204 rather than a logged 404).
// Not a production server: no ranges, no compression, no directory listings.
//
//   node web/serve.mjs ROOT [--host ADDR] [--port N] [--test-set FILE]      (port 0 = any free port)
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import os from 'node:os';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const kMime = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.data': 'application/octet-stream', '.bin': 'application/octet-stream',
  '.json': 'application/json', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon', '.safetensors': 'application/octet-stream', '.pth': 'application/octet-stream',
};

// Cross-origin isolation: the page's wasm threads need SharedArrayBuffer, which browsers give only to pages
// served with these two headers (the page loads nothing from other origins).
const kIsolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
// Sent only where a browser can honour them, a potentially trustworthy origin (localhost, or https by way of a
// proxy): at a classroom's plain-http address Chromium ignores COOP and logs a console error about it, and a
// packaged page (scripts/package_web.sh) starts its single-threaded build there anyway.
function isolationFor(req) {
  const host = (req.headers.host || '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  const local = host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
  return local || req.headers['x-forwarded-proto'] === 'https' ? kIsolation : {};
}

// Resolves with {server, url, close()} once listening. extra: {'/test_batch.bin': '/abs/file', ...}.
export function startServer({ root, port = 0, host = '127.0.0.1', extra = {}, log = () => {} }) {
  const rootAbs = path.resolve(root);
  const server = createServer(async (req, res) => {
    const send = (code, text) => { res.writeHead(code, { 'Content-Type': 'text/plain' }); res.end(req.method === 'HEAD' ? undefined : text); };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let urlPath;
    try { urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { return send(400, 'bad url\n'); }
    if (urlPath.endsWith('/')) urlPath += 'index.html';
    let file = extra[urlPath];
    if (!file) {
      file = path.join(rootAbs, urlPath);
      if (file !== rootAbs && !file.startsWith(rootAbs + path.sep)) return send(403, 'forbidden\n');
    }
    let st;
    try { st = await fsp.stat(file); } catch {
      // glue.js probes for the optional full test set; "none here" as 204 keeps the browser console clean.
      if (urlPath === '/test_batch.bin') { res.writeHead(204, isolationFor(req)); return res.end(); }
      log(`404 ${urlPath}`);
      return send(404, 'not found\n');
    }
    if (!st.isFile()) return send(404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': kMime[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      ...isolationFor(req),
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const url = urlOf(host, server.address().port);
      resolve({ server, url, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}

function urlOf(host, port) { return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`; }

// The URLs others can open: for a wildcard address (0.0.0.0, ::) every interface's address, LAN ones first;
// else the one address. IPv6 only where the server listens on it (::).
export function reachableUrls(host, port) {
  if (host !== '0.0.0.0' && host !== '::') return [urlOf(host, port)];
  const lan = [], local = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs || []) {
      const v4 = a.family === 'IPv4' || a.family === 4;
      if (!v4 && (host !== '::' || a.scopeid)) continue;  // link-local IPv6 needs a zone id: not for students
      (a.internal ? local : lan).push(urlOf(a.address, port));
    }
  }
  return [...lan, ...local];
}

// A QR code of url for the terminal, or null when qrencode is not installed (Debian package qrencode).
function qrCode(url) {
  const r = spawnSync('qrencode', ['-t', 'ANSIUTF8', '-m', '2', url], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

// Command line.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let root = null, port = 8080, testSet = null, host = '127.0.0.1';
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--host') host = args[++i];
    else if (args[i] === '--test-set') testSet = args[++i];
    else root = args[i];
  }
  if (!root || !host) { console.error('usage: node web/serve.mjs ROOT [--host ADDR] [--port N] [--test-set FILE]'); process.exit(2); }
  const extra = testSet ? { '/test_batch.bin': path.resolve(testSet) } : {};
  let s;
  try {
    s = await startServer({ root, port, host, extra });
  } catch (e) {
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EINVAL') {
      console.error(`serve: cannot listen on ${host} (${e.code}): give an address of this machine, or 0.0.0.0 for all`);
      process.exit(1);
    }
    if (e.code !== 'EADDRINUSE') throw e;
    console.error(`serve: port ${port} is busy; using a free one`);
    s = await startServer({ root, port: 0, host, extra });
  }
  const urls = reachableUrls(host, s.server.address().port);
  console.log(`QuantLab page: ${urls[0]}`);
  for (const u of urls.slice(1)) console.log(`           or: ${u}`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    // One code per LAN address (usually one): students point a phone or a laptop camera at the projector.
    const lan = urls.filter((u) => !/\/\/(127\.|\[::1\])/.test(u));
    let drawn = 0;
    for (const u of lan) {
      const qr = qrCode(u);
      if (qr) { console.log(`\n${u}\n${qr}`); ++drawn; }
    }
    if (lan.length && !drawn) console.log('  (install qrencode, Debian package qrencode, for a QR code of the address here)');
  }
  if (testSet) console.log(`  with the full test set: ${testSet} as ${urls[0]}test_batch.bin`);
  console.log('  (Ctrl+C stops the server)');
}
