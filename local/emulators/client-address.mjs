// Preloaded into `next dev` (local/emulators/console.ts): stamps every request with the address of the socket it came
// in on, overwriting whatever the client sent, as CloudFront's viewer-request function does in AWS (stacks/console.ts).
// The console's sign-in throttle counts failures per this header (lib/console/auth.ts CLIENT_ADDRESS_HEADER). Plain
// JavaScript: it runs inside Next's processes, which do not load tsx.
import http from 'node:http';

const HEADER = 'x-tributary-client-ip';
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request') {
    const req = args[0];
    if (req?.headers && req.socket) req.headers[HEADER] = req.socket.remoteAddress || 'unknown';
  }
  return emit.call(this, event, ...args);
};
