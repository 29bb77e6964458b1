// Requests node's HTTP parser refuses before Express sees them (a request line or headers over the
// 16 kB limit, a malformed request): answered with an OperationOutcome like every other client error
// (R4 http.html "Status codes"), instead of node's bare status line. Node's docs ("Event: 'clientError'")
// leave the answer to the application, written to the socket directly.
import type { Server } from 'node:http';

const REASONS: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const diagnostics = status === 431 ? 'the request line and headers are larger than the server accepts (16 kB): send long searches as POST [type]/_search'
      : 'the request is not valid HTTP';
    const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 431 ? 'too-long' : 'structure', diagnostics }] });
    socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/fhir+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
