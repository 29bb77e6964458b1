// Requests node's HTTP server answers before Express sees them, answered with an OperationOutcome like
// every other client error (R4 http.html "Status codes") instead of node's bare status line, empty body
// or closed socket:
// - a request line or headers over the 16 kB limit, a malformed request (node "Event: 'clientError'");
// - CONNECT, which node hands to 'connect' and, with no listener, answers by closing the socket
//   (RFC 9110 §9.3.6: CONNECT asks a proxy for a tunnel; this origin server has none to give: 405);
// - an Expect other than 100-continue, which node answers 417 with no body (RFC 9110 §10.1.1);
// - HTTP/1.1 without Host, which node answers 400 with no body: left to the app (request-guards.ts),
//   which gives the same 400 with an OperationOutcome (RFC 9112 §3.2).
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large' };

function outcomeText(code: string, diagnostics: string): string {
  return JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] });
}

/** A complete HTTP/1.1 response written on the bare socket, which is then closed. */
function answerOnSocket(socket: Duplex, status: number, code: string, diagnostics: string, extra = ''): void {
  const body = outcomeText(code, diagnostics);
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/fhir+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      answerOnSocket(socket, 431, 'too-long', 'the request line and headers are larger than the server accepts (16 kB): send long searches as POST [type]/_search');
    } else {
      answerOnSocket(socket, 400, 'structure', 'the request is not valid HTTP');
    }
  });
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    answerOnSocket(socket, 405, 'not-supported', 'CONNECT is not supported: this server is not a proxy', 'Allow: GET, HEAD, POST, PUT, DELETE, PATCH\r\n');
  });
  server.on('checkExpectation', (req, res) => {
    const body = outcomeText('not-supported', `the expectation '${String(req.headers.expect).replace(/[^\x20-\x7e]/g, '?').slice(0, 60)}' is not supported (only 100-continue is)`);
    res.writeHead(417, { 'Content-Type': 'application/fhir+json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  });
  // Node's own 400 for HTTP/1.1 without Host has no body; request-guards.ts answers it instead.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
}
