// hyco-https listener: answers every request with a JSON summary of it, or with a large body when asked for /big.
// env: RELAY_HOST, RELAY_PORT, HC_PATH, KEY_NAME, KEY
const https = require('hyco-https');
const crypto = require('crypto');
const { RELAY_HOST: host, RELAY_PORT: port, HC_PATH: path, KEY_NAME: keyName, KEY: key } = process.env;
const uri = `wss://${host}:${port}/$hc/${path}?sb-hc-action=listen`;
const server = https.createRelayedServer({ server: uri, token: () => https.createRelayToken(uri, keyName, key) }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url.includes('/empty')) {
      // hyco-https follows a body-less response with an empty binary frame; the relay must shrug it off.
      res.statusCode = 204;
      res.end();
      return;
    }
    if (req.url.includes('/big')) {
      const size = 200 * 1024;
      const big = Buffer.alloc(size);
      for (let i = 0; i < size; i++) big[i] = i % 251;
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('X-Sha256', crypto.createHash('sha256').update(big).digest('hex'));
      res.end(big);
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Listener', 'hyco-https');
    res.statusCode = req.url.includes('/teapot') ? 418 : 200;
    res.end(JSON.stringify({
      method: req.method,
      url: req.url,
      custom: req.headers['x-custom'] || null,
      length: body.length,
      sha256: crypto.createHash('sha256').update(body).digest('hex'),
    }));
  });
});
server.on('listening', () => console.log('READY'));
server.on('error', (e) => console.error('ERROR ' + (e && e.message)));
server.listen();
process.stdin.on('end', () => { server.close(); process.exit(0); });
process.stdin.resume();
