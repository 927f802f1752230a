import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

/**
 * The lab's test web server: `node http-server.js ADDRESS PORT DIR` serves the files of DIR
 * (read once, at start) from ADDRESS:PORT in the server namespace. Node's own http module, so the
 * lab needs nothing beyond what svr itself runs on.
 */
const [address, portText, dir] = process.argv.slice(2);
const port = Number(portText);
if (!address || !Number.isInteger(port) || !dir) {
  process.stderr.write('usage: http-server ADDRESS PORT DIR\n');
  process.exit(2);
}
const cache = new Map<string, Buffer>();
createServer((req, res) => {
  const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0])).replace(/^(\.\.[/\\])+/, '');
  const file = path.endsWith('/') ? `${path}index.html` : path;
  let body = cache.get(file);
  if (!body) {
    try {
      body = readFileSync(join(dir, file));
      cache.set(file, body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
}).listen(port, address, () => process.stdout.write(`listening on ${address}:${port}\n`));
