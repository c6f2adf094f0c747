// serve.mjs: a tiny static file server for the built page (node, no packages), bound to 127.0.0.1 only.
// Used by scripts/serve.sh and by the browser tests. Serves ROOT with the right MIME types (application/wasm
// for streaming compilation), GET and HEAD, COOP/COEP headers (wasm threads), no caching; `extra` maps URL paths to files elsewhere (the full
// test set as /test_batch.bin; without one, the page's probe for it gets 204 rather than a logged 404).
// Not a production server: no ranges, no compression, no directory listings.
//
//   node web/serve.mjs ROOT [--port N] [--test-set FILE]      (port 0 = any free port)
import { createServer } from 'node:http';
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
      if (urlPath === '/test_batch.bin') { res.writeHead(204, kIsolation); return res.end(); }
      log(`404 ${urlPath}`);
      return send(404, 'not found\n');
    }
    if (!st.isFile()) return send(404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': kMime[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      ...kIsolation,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const url = `http://${host}:${server.address().port}/`;
      resolve({ server, url, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}

// Command line.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let root = null, port = 8080, testSet = null;
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--test-set') testSet = args[++i];
    else root = args[i];
  }
  if (!root) { console.error('usage: node web/serve.mjs ROOT [--port N] [--test-set FILE]'); process.exit(2); }
  const extra = testSet ? { '/test_batch.bin': path.resolve(testSet) } : {};
  let s;
  try {
    s = await startServer({ root, port, extra });
  } catch (e) {
    if (e.code !== 'EADDRINUSE') throw e;
    console.error(`serve: port ${port} is busy; using a free one`);
    s = await startServer({ root, port: 0, extra });
  }
  console.log(`QuantLab page: ${s.url}`);
  if (testSet) console.log(`  with the full test set: ${testSet} as ${s.url}test_batch.bin`);
  console.log('  (Ctrl+C stops the server)');
}
