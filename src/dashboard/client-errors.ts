import { STATUS_CODES, maxHeaderSize, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

const refusalOf = (err: NodeJS.ErrnoException & { reason?: string }): [number, string, string] => {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', `the request line and headers are over ${Math.round(maxHeaderSize / 1024)} KB`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'payload_too_large', 'chunk extensions too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'the request did not arrive in time'];
    default:
      return [400, 'bad_request', `malformed HTTP request: ${err.reason ?? err.code ?? 'unreadable'}`];
  }
};

/**
 * Requests Node's HTTP parser refuses (bare CR/LF/NUL in a header, headers over the size limit)
 * never reach express; Node would answer them with an empty 400/431. Answer in the API's JSON
 * error shape instead (the shape of send-error.ts), then close the connection.
 */
export const answerClientErrors = (server: Server): void => {
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
    // A response already on its way (or a connection already gone) must not get a second one.
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = refusalOf(err);
    const body = JSON.stringify({ error: { code, message } });
    const head = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  });
};
