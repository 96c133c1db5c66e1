// hyco-ws sender: connects, sends a text and a binary message, prints what comes back, closes with 4000.
// env: RELAY_HOST, RELAY_PORT, HC_PATH, KEY_NAME, KEY
const WebSocket = require('hyco-ws');
const { RELAY_HOST: host, RELAY_PORT: port, HC_PATH: path, KEY_NAME: keyName, KEY: key } = process.env;
const uri = `wss://${host}:${port}/$hc/${path}?sb-hc-action=connect&sb-hc-id=node-sender`;
const token = WebSocket.createRelayToken(uri, keyName, key);
const ws = WebSocket.relayedConnect(uri, token, () => {
  ws.send('hello text');
  ws.send(Buffer.from([1, 2, 3, 250]), { binary: true });
});
let received = 0;
ws.on('message', (data, flags) => {
  if (flags && flags.binary) {
    console.log('BINARY ' + Buffer.from(data).toString('hex'));
  } else {
    console.log('TEXT ' + data);
  }
  if (++received === 2) {
    ws.close(4000, 'sender done');
  }
});
ws.on('close', (code, reason) => { console.log(`CLOSED ${code} ${reason}`); process.exit(0); });
ws.on('error', (e) => { console.log('ERROR ' + e.message); process.exit(1); });
