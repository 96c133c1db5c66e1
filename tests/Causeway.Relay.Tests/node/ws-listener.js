// hyco-ws listener: echoes every message back with the same type; prints READY when listening.
// env: RELAY_HOST, RELAY_PORT, HC_PATH, KEY_NAME, KEY
const WebSocket = require('hyco-ws');
const { RELAY_HOST: host, RELAY_PORT: port, HC_PATH: path, KEY_NAME: keyName, KEY: key } = process.env;
// The package's URI helpers hard-code port 443, so the address is built here.
const uri = `wss://${host}:${port}/$hc/${path}?sb-hc-action=listen`;
const server = WebSocket.createRelayedServer({ server: uri, token: () => WebSocket.createRelayToken(uri, keyName, key) }, (ws) => {
  ws.on('message', (data, flags) => {
    const binary = flags && flags.binary;
    ws.send(data, { binary: !!binary });
  });
  ws.on('close', (code, reason) => console.log(`CLOSED ${code} ${reason}`));
});
server.on('listening', () => console.log('READY'));
server.on('error', (e) => console.error('ERROR ' + (e && e.message)));
process.stdin.on('end', () => { server.close(); process.exit(0); });
process.stdin.resume();
