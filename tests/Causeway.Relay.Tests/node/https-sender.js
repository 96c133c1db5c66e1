// Plain Node https sender for HTTP mode, with the token in the query as hyco-https's createRelayHttpsUri puts it.
// Prints STATUS <code> and BODY <text>. env: RELAY_HOST, RELAY_PORT, HC_PATH, KEY_NAME, KEY
const https = require('hyco-https');
const { RELAY_HOST: host, RELAY_PORT: port, HC_PATH: path, KEY_NAME: keyName, KEY: key } = process.env;
const base = `https://${host}:${port}/${path}`;
const token = https.createRelayToken(base, keyName, key);
const req = https.request(`${base}/from-node?a=b&sb-hc-token=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'x-custom': 'node' } }, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => {
    console.log('STATUS ' + res.statusCode);
    console.log('BODY ' + Buffer.concat(chunks).toString());
    process.exit(0);
  });
});
req.on('error', (e) => { console.log('ERROR ' + e.message); process.exit(1); });
req.end('hello from node');
